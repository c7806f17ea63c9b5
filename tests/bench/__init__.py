"""Benchmarks for `make bench`: each module has run() -> list of printed lines."""
