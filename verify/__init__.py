"""verify: test-time-compute verification of LLM reasoning.

The core imports with numpy and scipy (mpmath in the checker's worker) only; torch,
transformers and vllm are imported lazily by the backends that need them.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
