"""What the worker and the host share: AutoGen's wire protocol, as bytes and frames.

Frames and their reading (``frames``), payload encodings (``codec``),
batching (``batching``), size limits (``size_limits``), the token
(``auth``), RPC error kinds (``rpc_error_kinds``), connection errors
(``connection_errors``), the outbox of a stream (``outbox``), service names
(``service``), addresses (``address``) and TLS settings (``tls``).
counters' base (``counters``). Nothing here starts a task or opens a socket,
and nothing imports the ``worker`` or ``host`` packages.
"""
