"""Benchmarks registry, the eval runner, tables, plots and cost accounting."""
