"""Host and workers over gRPC, by layer: protocol, worker, host, end to end."""
