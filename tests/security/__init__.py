"""Security tests (helpers from ``tests/grpc`` via pytest's ``pythonpath``)."""
