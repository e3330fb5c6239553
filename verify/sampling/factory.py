"""Build a generator from command-line style options (one place maps options to backends)."""
from __future__ import annotations

from typing import Any, Sequence

from verify.sampling.base import BACKENDS, Generator, get_generator
from verify.records.types import Problem


def build_generator(backend: str, model: str | None = None, *, problems: Sequence[Problem] | None = None,
                    dtype: str = "auto", device: str | None = None, base_url: str | None = None,
                    chat: bool | None = None, tensor_parallel_size: int = 1, data_parallel_size: int = 1,
                    max_concurrency: int = 8, seed: int = 0, threads: int | None = None) -> Generator:
    """A generator for `verify sample` options.

    `model` means: a model path / hub id / "smollm2" (transformers, vllm), "smollm2", a .gguf
    file or a local model folder (ct2), the served model name (openai), a "module:function"
    (callable) or a samples file (replay). `backend="auto"` (the main job's default) is ct2 when
    `ctranslate2` is installed and the model is the default or a .gguf, else transformers
    (`auto_backend`).

    >>> build_generator("replay", "missing.jsonl")   # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    verify.errors.InputError: missing.jsonl: file not found
    """
    if backend == "auto":
        backend = auto_backend(model)
    kw: dict[str, Any] = {}
    if backend == "ct2":
        kw = dict(model=model or "smollm2", device=device, chat=chat, threads=threads)
    elif backend == "transformers":
        kw = dict(model=model or "smollm2", dtype=dtype, device=device, chat=chat, threads=threads)
    elif backend == "vllm":
        kw = dict(model=model, seed=seed, dtype=dtype, tensor_parallel_size=tensor_parallel_size,
                  data_parallel_size=data_parallel_size, chat=True if chat is None else chat)
    elif backend == "openai":
        kw = dict(model=model, base_url=base_url, max_concurrency=max_concurrency,
                  chat=True if chat is None else chat)
    elif backend == "callable":
        kw = dict(fn=model)
    elif backend == "replay":
        kw = dict(path=model, problems=problems)
    elif backend not in BACKENDS and ":" in backend:
        kw = {"model": model} if model else {}
    if backend in ("vllm", "openai", "callable", "replay") and not model:
        from verify.errors import InputError

        raise InputError(f"--model is required with --backend {backend}", field="model")
    return get_generator(backend, **kw)


def auto_backend(model: str | None = None) -> str:
    """"ct2" (CTranslate2 int8, several times faster on CPU: benchmarks/sampling.py) when the
    `ctranslate2` wheel is installed and `model` is the default SmolLM2 or a .gguf file;
    "transformers" otherwise (hub ids, model folders: `--backend ct2` converts a local folder
    of an architecture CTranslate2 supports).

    >>> auto_backend("HuggingFaceTB/SmolLM2-360M-Instruct")
    'transformers'
    """
    import importlib.util

    if importlib.util.find_spec("ctranslate2") is None:
        return "transformers"
    return "ct2" if model in (None, "smollm2", "default") or str(model).endswith(".gguf") else "transformers"
