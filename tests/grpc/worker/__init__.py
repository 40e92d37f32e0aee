"""GrpcWorkerRuntime on its own: inbound frames, streams, reconnection."""
