"""Load and fault tests of the gRPC runtime: soak, host and worker kills,
slow consumers, failing and cancelled handlers (loopback only, bounded)."""
