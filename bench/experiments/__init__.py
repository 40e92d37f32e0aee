"""One-off measurements behind the proposals in bench/PROFILE.md."""
