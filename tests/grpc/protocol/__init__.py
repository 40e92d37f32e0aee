"""The protocol layer on its own (frames, codec, batching, outbox, limits)."""
