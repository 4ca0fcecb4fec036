"""Benchmarks that print numbers and write JSON (and plots); never run as timed tests."""
