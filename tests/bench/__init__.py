"""The benchmark (``bench/``) still runs, with tiny counts."""
