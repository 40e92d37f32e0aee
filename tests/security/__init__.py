"""Security tests: hostile peers, tokens, limits, ownership, logs."""
