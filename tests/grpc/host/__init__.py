"""GrpcHost on its own: its router without sockets, and against raw peers."""
