"""Benchmarks registry, the eval runner, tables, plots and cost accounting."""
import verify  # noqa: E402,F401  (installs the old-module-path aliases of verify._compat)
