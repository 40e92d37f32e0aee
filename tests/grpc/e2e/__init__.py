"""Host and workers end to end over loopback gRPC."""
