"""Load benchmarks (`make bench-votes`); not part of the installed package."""
