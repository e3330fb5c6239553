"""JSONL reading and writing.

Readers report file, 1-based line and field on bad input (`InputError`). Writers append
whole lines only: each batch is encoded first and handed to one `os.write` on an
`O_APPEND` descriptor, then fsynced, so a crash leaves at worst a torn *last* line, which
`repair_tail` removes before a resumed run appends again. Nothing already written is lost.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from verify.errors import InputError
from verify.records.types import Trace


def iter_jsonl(path: str | os.PathLike, *, allow_torn_tail: bool = False) -> Iterator[tuple[int, dict]]:
    """Yield `(line_number, object)` for each non-blank line of a JSONL file.

    A line that is not a JSON object raises `InputError` naming the file and line. With
    `allow_torn_tail`, a final line without a newline that does not parse (a write cut
    short by a crash) is skipped instead.

    >>> import tempfile; p = tempfile.mktemp(suffix=".jsonl"); _ = open(p, "w").write('{"a": 1}\\n')
    >>> list(iter_jsonl(p))
    [(1, {'a': 1})]
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=str(path))
    if path.is_dir():
        raise InputError("is a directory, not a file", path=str(path))
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", path=str(path)) from None
    with fh:
        for i, raw in _lines(fh, str(path)):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError) as exc:  # ValueError: bad JSON, bad UTF-8, a 5000-digit int
                if allow_torn_tail and not raw.endswith(b"\n"):  # no trailing newline: torn by a crash
                    return
                raise InputError(f"not valid JSON ({_why(exc)})", path=str(path), line=i) from None
            if not isinstance(obj, dict):
                raise InputError(f"expected a JSON object, got {type(obj).__name__}", path=str(path), line=i)
            yield i, obj


MAX_COUNT = 2**53  # token counts and indices: exact in a float, far inside int64
MAX_LINE_BYTES = 32 << 20  # one JSONL line; a 32k-token trace is ~150 KB. Bounds /dev/zero and the like.


def _lines(fh: Any, path: str) -> Iterator[tuple[int, bytes]]:
    """1-based numbered raw lines, each at most MAX_LINE_BYTES (+ newline), read as a stream."""
    i = 0
    while True:
        try:
            raw = fh.readline(MAX_LINE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read ({exc.strerror or exc})", path=path, line=i + 1) from None
        if not raw:
            return
        i += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise InputError(f"line longer than {MAX_LINE_BYTES} bytes; not a JSONL file?", path=path, line=i)
        yield i, raw


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if not isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):  # int() refused a huge literal
        return "a number with too many digits"
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def read_jsonl(path: str | os.PathLike, **kw: Any) -> list[dict]:
    """All objects of a JSONL file (see `iter_jsonl`)."""
    return [obj for _, obj in iter_jsonl(path, **kw)]


def get_field(obj: dict, name: str, types: type | tuple[type, ...], *, path: str | None = None,
              line: int | None = None, required: bool = True, default: Any = None) -> Any:
    """Fetch `obj[name]` checking its type; errors name file, line and field."""
    if name not in obj or obj[name] is None:
        if required:
            raise InputError("missing required field", path=path, line=line, field=name)
        return default
    value = obj[name]
    if types is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        want = "/".join(t.__name__ for t in _as_tuple(types))
        raise InputError(f"expected {want}, got {type(value).__name__} ({value!r:.60})",
                         path=path, line=line, field=name)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"expected a finite number, got {value!r}", path=path, line=line, field=name)
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def repair_tail(path: str | os.PathLike, kind: str = "traces") -> int:
    """Cut a torn final line (no trailing newline) left by a crash; return bytes removed.

    Only a file that is provably ours is touched (every complete line a record of `kind`,
    see `verify.records.outputs.verify_ours`); any other file raises `InputError` and is
    left byte-identical. Commands hold the output with `claim_output`, which does this
    under an exclusive lock.
    """
    from verify.records.outputs import verify_ours
    path = Path(path)
    if not path.exists():
        return 0
    if path.is_dir():
        raise InputError("is a directory, not a file", path=str(path))
    try:
        keep = verify_ours(path, kind)
        size = path.stat().st_size
        if keep < size:
            os.truncate(path, keep)
        return size - keep
    except OSError as exc:
        raise InputError(f"cannot open for writing ({exc.strerror or exc})", path=str(path)) from None


def cannot_write(path: str | os.PathLike, exc: OSError) -> InputError:
    """The error for an output that could not be written, naming a parent that is a file."""
    for parent in Path(path).parents:
        if parent.exists():
            if not parent.is_dir():
                return InputError(f"cannot write ({parent} is a file, not a folder)", path=str(path))
            break
    return InputError(f"cannot write ({exc.strerror or exc})", path=str(path))


def check_writable(path: str | os.PathLike) -> None:
    """Fail early, before any expensive work, if `path` cannot be appended to.

    Creates the parent folder if missing; a file that did not exist is created to test
    that it can be, then removed again. Raises `InputError` naming the path for a
    directory, a missing or read-only location.

    >>> check_writable("/proc/no/such.jsonl")
    Traceback (most recent call last):
    verify.errors.InputError: /proc/no/such.jsonl: cannot write (No such file or directory)
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory, not a file", path=str(path))
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        if not existed:
            path.unlink()
    except OSError as exc:
        raise cannot_write(path, exc) from None


def append_jsonl(path: str | os.PathLike, records: Iterable[dict], *, fsync: bool = True) -> int:
    """Append records as whole lines in one write; return how many were written.

    >>> import tempfile; p = tempfile.mktemp(suffix=".jsonl")
    >>> append_jsonl(p, [{"a": 1}, {"a": 2}])
    2
    """
    buf = b"".join(_encode(r) for r in records)
    if not buf:
        return 0
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        view = memoryview(buf)
        while view:  # os.write may be partial on some filesystems; keep going
            n = os.write(fd, view)
            view = view[n:]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return buf.count(b"\n")


def _encode(record: dict) -> bytes:
    """One JSONL line. A string holding a lone surrogate (valid in JSON input, not in UTF-8)
    is written with \\u escapes, so it round-trips instead of failing the write."""
    try:
        text = json.dumps(record, ensure_ascii=False, allow_nan=False)
    except RecursionError:
        raise InputError("record nested too deeply to write") from None
    try:
        return text.encode() + b"\n"
    except UnicodeEncodeError:
        return json.dumps(record, ensure_ascii=True, allow_nan=False).encode() + b"\n"


def write_jsonl_atomic(path: str | os.PathLike, records: Iterable[dict]) -> int:
    """Replace `path` with these records atomically; errors name `path`.

    Never replaces what the path is (see `verify.records.outputs.write_bytes_replacing`):
    a symlink's target is written, a FIFO or `/dev/stdout` is written directly.

    >>> import tempfile; p = tempfile.mktemp(suffix=".jsonl")
    >>> write_jsonl_atomic(p, [{"a": 1}]), read_jsonl(p)
    (1, [{'a': 1}])
    """
    from verify.records.outputs import write_bytes_replacing
    try:
        buf = b"".join(_encode(r) for r in records)
    except InputError as exc:
        raise InputError(exc.message, path=str(path)) from None
    write_bytes_replacing(path, buf)
    return buf.count(b"\n")


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write a JSON document atomically (readers never see half of it); see `write_jsonl_atomic`."""
    from verify.records.outputs import write_bytes_replacing
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_bytes_replacing(path, text.encode("utf-8", "backslashreplace"))


def read_traces(path: str | os.PathLike, *, allow_torn_tail: bool = False) -> list[Trace]:
    """Read a samples file in the schema `verify sample` writes and `verify eval` reads.

    Each line needs `problem_id` and `text` or `answer`; `sample_index` defaults to the
    order of appearance within its problem. Types of optional fields are checked. A
    repeated (problem_id, sample_index) is an error: it would be counted twice.
    """
    traces: list[Trace] = []
    seen: dict[str, int] = {}
    first_line: dict[tuple[str, int], int] = {}
    p = str(path)
    for line, obj in iter_jsonl(path, allow_torn_tail=allow_torn_tail):
        pid = get_field(obj, "problem_id", (str, int), path=p, line=line)
        if "text" not in obj and "answer" not in obj:
            raise InputError("need 'text' or 'answer'", path=p, line=line, field="text")
        get_field(obj, "text", str, path=p, line=line, required=False)
        get_field(obj, "answer", (str, int, float), path=p, line=line, required=False)
        get_field(obj, "gold", (str, int, float), path=p, line=line, required=False)
        get_field(obj, "score", float, path=p, line=line, required=False)
        for name in ("meta", "sampling"):
            get_field(obj, name, dict, path=p, line=line, required=False)
        steps = get_field(obj, "steps", list, path=p, line=line, required=False)
        if steps is not None and not all(isinstance(x, str) for x in steps):
            raise InputError("expected a list of strings", path=p, line=line, field="steps")
        for name in ("sample_index", "num_tokens", "prompt_tokens"):
            value = get_field(obj, name, int, path=p, line=line, required=False, default=0)
            if value < 0:
                raise InputError(f"must be >= 0, got {value}", path=p, line=line, field=name)
            if value > MAX_COUNT:  # a count beyond int64 overflowed numpy further on
                raise InputError(f"must be at most 2**53, got {value:.3g}", path=p, line=line, field=name)
        get_field(obj, "finish_reason", str, path=p, line=line, required=False)
        scores = get_field(obj, "step_scores", list, path=p, line=line, required=False)
        if scores is not None:
            for j, s in enumerate(scores):
                if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s):
                    raise InputError(f"step_scores[{j}] is not a finite number: {s!r:.40}",
                                     path=p, line=line, field="step_scores")
        d = dict(obj)
        d["problem_id"] = str(pid)
        for k in ("answer", "gold"):
            if d.get(k) is not None and not isinstance(d[k], str):
                d[k] = _num_to_str(d[k])
        if d.get("sample_index") is None:
            d["sample_index"] = seen.get(d["problem_id"], 0)
        seen[d["problem_id"]] = max(seen.get(d["problem_id"], 0), d["sample_index"] + 1)
        key = (d["problem_id"], d["sample_index"])
        if key in first_line:
            raise InputError(f"problem {key[0]!r} sample {key[1]} already appears on line {first_line[key]}",
                             path=p, line=line, field="sample_index")
        first_line[key] = line
        d.setdefault("text", "")
        traces.append(Trace.from_dict(d))
    return traces


def _num_to_str(x: int | float) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def write_traces(path: str | os.PathLike, traces: Iterable[Trace]) -> int:
    """Append traces to a samples file (one whole line each)."""
    return append_jsonl(path, (t.to_dict() for t in traces))
