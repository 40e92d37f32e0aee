"""AutoGen's wire protocol as bytes: frames, payload encodings, RPC errors, limits.

Transport-neutral: the gRPC worker and host carry these frames on their
streams, the NATS transport in its messages. Nothing here imports a
transport, starts a task or opens a socket.
"""
