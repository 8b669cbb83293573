"""Benchmarks of the registry on PostgreSQL (`make bench`)."""
