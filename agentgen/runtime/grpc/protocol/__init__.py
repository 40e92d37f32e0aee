"""What the gRPC worker and host share: the streams' layer, as bytes and frames.

Batching of frames (``batching``, with the batch stream's reader), the
outbox of a stream (``outbox``), the token (``auth``), connection errors
(``connection_errors``), service names and headers (``service``), addresses
(``address``) and TLS settings (``tls``). AutoGen's frames themselves are in
:mod:`agentgen.runtime.wire`. Nothing here starts a task or opens a socket,
and nothing imports the ``worker`` or ``host`` packages.
"""
