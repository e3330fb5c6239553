"""Generator protocol and backends (vllm is imported in exactly one module)."""
