"""Sampling with CTranslate2 (int8 on CPU): the default backend of the main job when installed.

CTranslate2 (OpenNMT, `pip install ctranslate2`, a wheel with no other dependency than numpy
and pyyaml) runs decoder-only transformers with int8 weights and its own KV cache. On two
CPU cores it samples SmolLM2-135M several times faster than transformers in fp32
(benchmarks/sampling.py measures both side by side; docs/speed.md has the table).

The model is converted once: the GGUF (or a Hugging Face folder) is loaded with transformers,
converted with `ctranslate2.converters.TransformersConverter` to int8, and stored under the
user's cache directory (`$VERIFY_CACHE_DIR`, else `$XDG_CACHE_HOME/verify`, else
`~/.cache/verify`) in a folder named by the source file's SHA-256, the quantisation and the
CTranslate2 version. Later loads read only that folder with `ctranslate2` and `tokenizers`
(transformers is not imported), which takes a second or two.

Sampling: `generate_batch` with `num_hypotheses=n`, so each prompt is encoded once and its n
samples continue from it (repeating each prompt n times as separate rows computes the
few-shot prompt n times: about half the speed, measured in benchmarks/sampling.py). A chunk's
prompts are sorted by token length and cut into 2 x `workers` parts (`split_parts`); `workers`
threads (2) take them longest prompts first, each part on a fresh single-threaded engine (2
cores: more tokens per CPU-second than one engine on two threads, and one part's long tail
overlaps other parts' work; the main job's longer prompts are the problems with the longer
answers, so 2 parts alone left one core idle for a third of the time). Within a part the
common token prefix (the few-shot examples) is passed as `static_prompt`, forwarded once at
batch size 1, and the close lengths leave few prompt tokens to the decoding loop (CTranslate2
forwards prompts at once only up to the shortest in the batch). Part k of a chunk seeded s is
seeded `derive_seed(s, "part", k)`. glibc's malloc is told to keep freed memory
(`keep_freed_memory`): the engine's per-step KV-cache buffers otherwise cost page faults.

Seeds, the one exception to "a sample depends only on (problem, sample)": the engine draws all
rows of a `generate_batch` call from one random generator and takes no seed per request, so
per-sample seeds would mean one call, and one fresh engine, per sample (even one problem per
call is about 2x slower than batching). A chunk (at most
`max_batch_rows // n` prompts of one runner batch) is seeded with `joint_seed` of its rows'
per-sample seeds, i.e. from its problems' ids and sample indices, never from its position in
the problem list. The runner sends ct2 whole batches (fixed slices of the problem list, the
same on the local and the Ray engine) with all n samples, so a resumed run and a Ray run write
what an uninterrupted local run writes. Changing the problem order, the subset, `--batch-size`
or n changes the batches and with them every sample of the batches concerned; `--extend`
keeps the samples already written and adds samples of the larger run's streams.
CTranslate2 seeds each worker thread's random generator once, at its first use
(ctranslate2/src/random.cc), so every seeded part gets a fresh engine, built from the model's
files kept in memory (about 0.3 CPU-seconds for SmolLM2): then the same batch with the same seed gives the same texts whatever
was sampled before, and a resumed run writes what an uninterrupted one would. Stop strings end a row from the per-token
callback. The callback also gives the sampled token's log-probability (under the
temperature-scaled distribution), which is all this engine exposes per token: token
confidence here is the negative log-probability of the sampled token (top-1 of the sampled
set), see verify.records.confidence.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from verify.errors import InputError
from verify.sampling.base import (Completion, Prompt, SamplingParams, as_messages, derive_seed, generate_in_chunks,
                                  trim_at_stop)

DEFAULT_COMPUTE = "int8"


def cache_dir() -> Path:
    """The user's cache folder for verify (converted models live under `ct2/`)."""
    if os.environ.get("VERIFY_CACHE_DIR"):
        return Path(os.environ["VERIFY_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "verify"


def file_sha256(path: str | Path, chunk: int = 1 << 20, *, root: Path | None = None) -> str:
    """Hex SHA-256 of a file (the cache key of its conversion). Remembered in the cache folder
    by (path, size, mtime), so that later loads do not read the whole file again."""
    st = os.stat(path)
    memo = (root or cache_dir()) / "ct2" / "sha256.json"
    key = f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}"
    try:
        known = json.loads(memo.read_text())
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(key), str):
        return known[key]
    digest = _sha256(path, chunk)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        known = known if isinstance(known, dict) else {}
        known[key] = digest
        tmp = memo.with_name(f"sha256.json.tmp{os.getpid()}")
        tmp.write_text(json.dumps(known))
        os.replace(tmp, memo)
    except OSError:  # a read-only cache still works, it just hashes again next time
        pass
    return digest


def _sha256(path: str | Path, chunk: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                return h.hexdigest()
            h.update(block)


def source_file(model: str) -> tuple[Path, str | None]:
    """(file that identifies the model, gguf file name or None) for "smollm2", a .gguf path,
    or a Hugging Face model folder (identified by its weights file)."""
    from verify.sampling.transformers_backend import DEFAULT_MODEL, SMOLLM2_GGUF, smollm2_folder

    if model in (DEFAULT_MODEL, "default"):
        return smollm2_folder() / SMOLLM2_GGUF, SMOLLM2_GGUF
    p = Path(model)
    if p.suffix == ".gguf" and p.is_file():
        return p, p.name
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (p / name).is_file():
            return p / name, None
    raise InputError(f"the ct2 backend needs 'smollm2', a .gguf file or a local model folder, not {model!r}",
                     field="model")


def converted_model(model: str = "smollm2", quantization: str = DEFAULT_COMPUTE, *,
                    root: Path | None = None, say: Any = None) -> Path:
    """Folder of the CTranslate2 conversion of `model`, converting it on the first call.

    The folder holds CTranslate2's `model.bin`, `tokenizer.json`, the chat template and the
    end-of-sequence ids; it is written to a temporary name and renamed, so a killed
    conversion leaves nothing that looks finished.
    """
    import ctranslate2

    src, gguf = source_file(model)
    key = f"{src.stem}-{file_sha256(src, root=root)[:16]}-{quantization}-ct2-{ctranslate2.__version__}"
    dest = (root or cache_dir()) / "ct2" / key
    if (dest / "model.bin").is_file() and (dest / "verify.json").is_file():
        return dest
    (say or (lambda m: print(m, file=sys.stderr, flush=True)))(
        f"converting {src.name} for CTranslate2 ({quantization}) into {dest} (once)")
    tmp = dest.with_name(f"{dest.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _convert(src, gguf, tmp, quantization)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp / "ct2", dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _convert(src: Path, gguf: str | None, tmp: Path, quantization: str) -> None:
    """GGUF/HF weights -> plain fp32 HF folder -> CTranslate2 folder, all under `tmp`."""
    import copy

    from ctranslate2.converters import TransformersConverter

    from verify.sampling.transformers_backend import load_model

    lm, tok, _ = load_model(str(src) if gguf else str(src.parent))  # GGUF: dequantised to fp32
    # a model loaded from GGUF refuses save_pretrained; a fresh model with the same weights does not
    cfg = copy.deepcopy(lm.config)
    if hasattr(cfg, "quantization_config"):
        delattr(cfg, "quantization_config")
    plain = type(lm)(cfg)
    plain.load_state_dict(lm.state_dict())
    hf = tmp / "hf"
    plain.save_pretrained(hf)
    tok.save_pretrained(hf)
    out = tmp / "ct2"
    TransformersConverter(str(hf)).convert(str(out), quantization=quantization)
    cfg_path = out / "config.json"  # CTranslate2 needs token names; a tokenizer without BOS has null
    ct2_cfg = json.loads(cfg_path.read_text())
    fallback = tok.eos_token or tok.unk_token or tok.pad_token or ""
    for name in ("bos_token", "eos_token", "unk_token"):
        if ct2_cfg.get(name) is None:
            ct2_cfg[name] = fallback
    cfg_path.write_text(json.dumps(ct2_cfg, indent=2))
    shutil.copy(hf / "tokenizer.json", out / "tokenizer.json")
    eos = {tok.eos_token_id, *_as_list(lm.generation_config.eos_token_id)} - {None}
    meta = {"source": str(src), "chat_template": getattr(tok, "chat_template", None) or None,
            "eos_ids": sorted(eos), "bos_token": tok.bos_token, "eos_token": tok.eos_token}
    (out / "verify.json").write_text(json.dumps(meta, indent=1))


class CT2Generator:
    """Generator over a CTranslate2 conversion; n samples per prompt as n rows of one batch.

    >>> g = CT2Generator("smollm2")                                     # doctest: +SKIP
    >>> g.generate(["What is 2 + 3?"], 8, SamplingParams(max_tokens=64))  # doctest: +SKIP
    """

    backend = "ct2"  # registry name, written into each trace's `sampling`

    def __init__(self, model: str = "smollm2", *, compute_type: str = DEFAULT_COMPUTE, threads: int | None = None,
                 chat: bool | None = None, logprobs: bool = True, max_batch_rows: int = 64, workers: int = 2,
                 device: str | None = None, root: Path | None = None, **_: Any):
        from tokenizers import Tokenizer

        t0 = time.perf_counter()
        self.name = str(model)
        folder = Path(model) if (Path(model) / "model.bin").is_file() else converted_model(model, compute_type,
                                                                                           root=root)
        self.meta = json.loads((folder / "verify.json").read_text())
        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # the model's files in memory: a fresh engine (one per seeded part) then costs ~0.3 CPU-s, not ~1 from disk
        self._files = {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()}
        self._folder, self._device, self._compute = str(folder), device or "cpu", compute_type
        self.workers = max(1, workers) if self._device == "cpu" else 1
        total = threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        self._intra = max(1, total // self.workers) if self._device == "cpu" else (threads or 0)
        if self._device == "cpu":
            keep_freed_memory()
        self.chat = bool(self.meta.get("chat_template")) if chat is None else chat
        self.eos_ids = set(self.meta.get("eos_ids") or [])
        self.logprobs = logprobs
        self.max_batch_rows = max_batch_rows
        self._template = None
        self.load_seconds = time.perf_counter() - t0

    def render(self, prompt: Prompt) -> str:
        """The exact text fed to the model for one prompt (the chat template applied with
        jinja2's sandbox, as transformers does)."""
        if isinstance(prompt, str) and not self.chat:
            return prompt
        if not self.meta.get("chat_template"):
            raise InputError("chat messages given but the model has no chat template", field="prompt")
        if self._template is None:
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            self._template = env.from_string(self.meta["chat_template"])
        messages = as_messages(prompt)
        cont = bool(messages) and messages[-1].get("role") == "assistant"  # a partial answer to continue
        text = self._template.render(messages=messages, add_generation_prompt=not cont,
                                     bos_token=self.meta.get("bos_token") or "",
                                     eos_token=self.meta.get("eos_token") or "")
        if cont:  # as transformers' continue_final_message: cut after the last message's content
            last = messages[-1].get("content", "")
            text = text[:text.rindex(last) + len(last)] if last and last in text else text
        return text

    def generate(self, prompts: Sequence[Prompt], n: int, params: SamplingParams,
                 seeds: Sequence[Sequence[int | None]] | None = None) -> list[list[Completion]]:
        """n completions per prompt. The engine has one random stream per call and no seed per
        request, so each chunk of rows is seeded with `joint_seed` of its per-sample `seeds`
        (default `call_seeds(params.seed, ...)`) and every completion records that seed."""
        from dataclasses import replace

        from verify.sampling.base import call_seeds, joint_seed

        def run(chunk: Sequence[Prompt], rows: Sequence[Sequence[int | None]]) -> list[list[Completion]]:
            seed = joint_seed(rows)
            got = self._generate_chunk([self.render(p) for p in chunk], n, params, seed)
            return [[replace(c, seed=seed) for c in row] for row in got]

        seeds = seeds if seeds is not None else call_seeds(params.seed, len(prompts), n)
        return generate_in_chunks(prompts, n, seeds, self.max_batch_rows, run)

    def _generate_chunk(self, texts: list[str], n: int, params: SamplingParams,
                        seed: int | None) -> list[list[Completion]]:
        encs = self.tok.encode_batch(texts, add_special_tokens=not self.chat)
        rows_per_prompt = 1 if params.greedy else n
        ids: list[list[int]] = [[] for _ in range(len(encs) * rows_per_prompt)]
        lps: list[list[float]] = [[] for _ in ids]
        stopped = [False] * len(ids)
        stop = tuple(s for s in params.stop if s)
        kw: dict[str, Any] = dict(max_length=params.max_tokens, include_prompt_in_result=False,
                                  end_token=sorted(self.eos_ids) or None,
                                  return_scores=self.logprobs)  # fills the callback's log_prob
        if params.greedy:
            kw.update(sampling_topk=1)
        else:  # n hypotheses per prompt: the prompt is encoded once and its state shared by the n rows
            kw.update(sampling_topk=0, sampling_topp=params.top_p, sampling_temperature=params.temperature,
                      num_hypotheses=n)

        def callback(part: list[int]) -> Any:
            def step(r: Any) -> bool:  # called once per generated token per row (prompt, hypothesis)
                b = part[r.batch_id] * rows_per_prompt + r.hypothesis_id
                ids[b].append(r.token_id)
                lps[b].append(r.log_prob)
                if r.token_id in self.eos_ids:
                    return True
                if stop and any(s in self.tok.decode(ids[b][-16:]) for s in stop):  # stop strings of <= 16 tokens
                    stopped[b] = True
                    return True
                return False
            return step

        parts = split_parts([len(e.ids) for e in encs], 2 * self.workers)  # more parts than workers: balance
        lock = threading.Lock()

        def run_part(k: int) -> None:
            starts = [encs[i].tokens for i in parts[k]]
            static = common_prefix(starts)  # the few-shot examples: forwarded once, at batch size 1
            with lock:  # set the seed and make the engine's first draw before another part sets its own
                engine = self._engine(None if seed is None or params.greedy else derive_seed(seed, "part", k), starts)
            engine.generate_batch([s[static:] for s in starts], static_prompt=starts[0][:static] or None,
                                  callback=callback(parts[k]), **kw)

        # longest prompts first (they are the problems with long answers), each free worker takes the
        # next part; a part's samples depend only on its own seed, not on which worker ran it
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for done in [pool.submit(run_part, k) for k in reversed(range(len(parts)))]:
                done.result()
        results: list[list[Completion]] = []
        for i, enc in enumerate(encs):
            row = []
            for j in range(n):
                k = i * rows_per_prompt + (0 if params.greedy else j)
                toks = ids[k][:params.max_tokens]
                text, hit = trim_at_stop(self.tok.decode(toks, skip_special_tokens=True), stop)
                ended = hit or stopped[k] or (toks and toks[-1] in self.eos_ids) or len(toks) < params.max_tokens
                lp = tuple(float(x) for x in lps[k][:len(toks)]) if self.logprobs else None
                row.append(Completion(text=text, num_tokens=len(toks), finish_reason="stop" if ended else "length",
                                      logprob=None if lp is None else sum(lp), prompt_tokens=len(enc.ids),
                                      token_logprobs=lp, token_ends=self._ends(toks, len(text)) if lp else None))
            results.append(row)
        return results

    def _engine(self, seed: int | None, starts: list[list[str]]) -> Any:
        """A fresh engine. Seeded: its worker's random generator starts from `seed` (CTranslate2
        seeds it from the global seed at the thread's first draw, so one tiny sampled token is
        drawn here, before another part sets its seed)."""
        import ctranslate2

        if seed is None:
            return self._new_engine()
        ctranslate2.set_random_seed(seed)
        engine = self._new_engine()
        engine.generate_batch([starts[0][:1]], max_length=1, sampling_topk=0, include_prompt_in_result=False)
        return engine

    def _new_engine(self) -> Any:
        import ctranslate2

        return ctranslate2.Generator(self._folder, files=self._files, device=self._device,
                                     compute_type=self._compute, intra_threads=self._intra)

    def _ends(self, toks: list[int], limit: int) -> tuple[int, ...]:
        """End offset of each token in the decoded text (prefix decodes, one batched call)."""
        prefixes = self.tok.decode_batch([toks[:i + 1] for i in range(len(toks))], skip_special_tokens=True)
        return tuple(min(len(t), limit) for t in prefixes)


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of handing it back to the kernel.

    CTranslate2 grows each layer's KV cache by concatenation, so every decoding step allocates
    and frees buffers of several MB; with glibc's defaults most go through mmap/munmap and come
    back as fresh zeroed pages, and page faults and copies took about 60% of the CPU time of a
    sampling run (perf, SmolLM2 at 32 rows). Blocks up to 32 MiB now come from the heap and freed
    memory is trimmed only past 1 GiB: about 2.3x fewer CPU-seconds per token (benchmarks/sampling.py).
    Process-wide and harmless elsewhere; False where there is no glibc (nothing changed).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    if mallopt is None:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 1 << 30))


def split_parts(lengths: Sequence[int], parts: int) -> list[list[int]]:
    """Prompt indices sorted by token length, cut into `parts` runs of near-equal size (longer
    runs first): prompts of one part have close lengths, so few prompt tokens are left to the
    decoding loop (CTranslate2 forwards a batch's prompts at once only up to the shortest).

    >>> split_parts([210, 194, 212, 194, 211], 2)
    [[1, 3, 0], [4, 2]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    size, extra = divmod(len(order), max(1, min(parts, len(order))))
    out, at = [], 0
    for k in range(max(1, min(parts, len(order)))):
        step = size + (k < extra)
        out.append(order[at:at + step])
        at += step
    return [p for p in out if p]


def common_prefix(seqs: Sequence[Sequence[str]]) -> int:
    """Length of the tokens all `seqs` start with, leaving each at least one token of its own.

    >>> common_prefix([["a", "b", "c"], ["a", "b", "d", "e"]]), common_prefix([["a", "b"]])
    (2, 1)
    """
    limit = min(len(s) for s in seqs) - 1
    k = 0
    while k < limit and all(s[k] == seqs[0][k] for s in seqs):
        k += 1
    return k

