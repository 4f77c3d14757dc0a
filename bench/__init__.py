"""Benchmarks: run the scripts here from the project root (see bench/README.md)."""
