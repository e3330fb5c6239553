"""Output safety: never lose a user's file, never let two runs write one output.

Every command that appends to a resumable JSONL output (`verify sample --out`, `verify prm
score --out`, `verify check --pairs --out`, the files of `verify eval --out-dir`) goes
through :func:`claim_output`, which, before a single byte is written:

1. refuses an output that is the same file as one of the run's inputs (``os.path.samefile``);
2. refuses a directory, and for resumable outputs anything that is not a regular file;
3. takes an exclusive advisory lock (``fcntl.flock`` on the output itself) held for the
   run's lifetime; a second writer fails at once, naming the holder's pid (read from
   ``/proc/locks``);
4. reads the existing file and refuses it unless it is provably ours: every complete line
   is a JSON object of this run's kind (a trace, or a checked pair). Only then is a torn
   last line (a write cut short by a crash) removed. A foreign file stays byte-identical.

Whole-document outputs (``--json``, ``--per-problem``, ``--plot``) go through
:func:`write_bytes_replacing`, which replaces a regular file atomically (temp file and
rename) but never replaces what a path *is*: a symlink is followed and its target replaced,
a FIFO or character device (``/dev/stdout``) is written to directly, and a block device or
socket is refused.

Why not the `filelock` package: it locks a separate ``.lock`` file left beside the output and
cannot say who holds it; ``flock`` on the output itself needs no extra file and
``/proc/locks`` names the holder. Locks are per open file description, so this module keeps
one per file per process and nested claims of the same file (the eval runner claims what
its sampling stage claims again) share it.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from verify.errors import InputError

TRACES = "traces"     # verify sample / prm score / eval run folder: every line a trace
PAIRS = "pairs"       # verify check --pairs --out: every line a checked pair
LABELS = "labels"     # verify prm label --out: every line a labelled trace
KINDS = {TRACES: ("problem_id", "sample_index"), PAIRS: ("gold", "pred", "equal"),
         LABELS: ("problem_id", "sample_index", "steps", "labels", "hard_labels")}

_HELD: dict[tuple[int, int], list] = {}   # (st_dev, st_ino) -> [fd, count, created path or None]
_HELD_LOCK = threading.Lock()


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True if both paths exist and name one file (hard links and symlinks included).

    >>> same_file("/", "/.")
    True
    """
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def refuse_same_file(out: str | os.PathLike | None, inputs: Iterable[str | os.PathLike | None],
                     option: str = "output") -> None:
    """Raise `InputError` if `out` is the same file as any input (it would be overwritten).

    >>> refuse_same_file("/etc/hostname", ["/etc/hostname"], "--json")
    Traceback (most recent call last):
    verify.errors.InputError: /etc/hostname: --json is the same file as the input /etc/hostname; choose another output
    """
    if out is None:
        return
    for src in inputs:
        if src is not None and same_file(out, src):
            raise InputError(f"{option} is the same file as the input {src}; choose another output",
                             path=str(out))


def refuse_overlap(outputs: dict[str, str | os.PathLike | None],
                   inputs: dict[str, str | os.PathLike | None]) -> None:
    """Raise `InputError` if an output is the same file as an input or as another output.

    Keys are the option names the user typed, so the error says which two collide.

    >>> refuse_overlap({"--json": "/etc/hostname"}, {"--samples": "/etc/hostname"})
    Traceback (most recent call last):
    verify.errors.InputError: /etc/hostname: --json is the same file as --samples; choose another output
    """
    outs = [(k, v) for k, v in outputs.items() if v is not None]
    for i, (name, out) in enumerate(outs):
        for other, src in [*inputs.items(), *outs[:i]]:
            if src is not None and (same_file(out, src) or os.path.abspath(out) == os.path.abspath(src)):
                raise InputError(f"{name} is the same file as {other}; choose another output", path=str(out))


def _holder_pid(st: os.stat_result) -> int | None:
    """The pid holding a flock on this file, from /proc/locks (Linux); None if unknown."""
    key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks") as fh:
            for row in fh:
                parts = row.split()
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == key and parts[4].isdigit():
                    return int(parts[4])
    except OSError:
        return None
    return None


_KIND_NAMES = {TRACES: "samples file", PAIRS: "check results file", LABELS: "step labels file"}


def _not_ours(path: str, kind: str, line: int, why: str, field: str | None = None) -> InputError:
    return InputError(f"{why}; not a {_KIND_NAMES[kind]} written by verify, so it is left as it is "
                      "(choose another output)", path=path, line=line, field=field)


def verify_ours(path: str | os.PathLike, kind: str = TRACES) -> int:
    """Check that an existing output is provably ours; return the length of its whole lines.

    Every newline-terminated line must be blank or a JSON object holding the fields of `kind`.
    A final line without a newline (a torn write) must start like one of our objects (``{"``)
    and must not parse. Anything else raises `InputError` and nothing is changed.
    """
    need = KINDS[kind]
    p = str(path)
    with open(path, "rb") as fh:
        data = fh.read()
    keep = data.rfind(b"\n") + 1
    for i, raw in enumerate(data[:keep].split(b"\n")[:-1], start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            raise _not_ours(p, kind, i, "not valid JSON") from None
        if not isinstance(obj, dict):
            raise _not_ours(p, kind, i, f"expected a JSON object, got {type(obj).__name__}")
        for name in need:
            if name not in obj:
                raise _not_ours(p, kind, i, "missing required field", name)
    tail = data[keep:]
    if tail.strip():
        line = data[:keep].count(b"\n") + 1
        try:
            json.loads(tail)
            parses = True
        except (ValueError, RecursionError):
            parses = False
        if parses or not tail.lstrip().startswith(b'{"'):
            raise _not_ours(p, kind, line, "last line has no newline and is not a torn record")
    return keep


def _lock(fd: int, path: str) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        pid = _holder_pid(os.fstat(fd))
        who = f"pid {pid}" if pid is not None else "another process"
        raise InputError(f"is being written by another verify run ({who}); wait for it to finish "
                         "or choose another output", path=path) from None


@contextmanager
def claim_output(path: str | os.PathLike, *, kind: str = TRACES, inputs: Iterable = (),
                 option: str = "--out", resumable: bool = True) -> Iterator[int]:
    """Hold `path` as this run's output: checked, locked, and torn tail cut; yield bytes cut.

    See the module docstring for the rules. A file the claim created and nothing wrote is
    removed again on exit, so a run that fails early leaves no empty file behind. A FIFO or
    character device is allowed only when not `resumable` and is then neither locked nor read.

    >>> import tempfile; p = tempfile.mktemp(suffix=".jsonl")
    >>> with claim_output(p) as cut:
    ...     cut
    0
    """
    p = str(path)
    refuse_same_file(path, inputs, option)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror or exc})", path=p) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not a file", path=p)
    if st is not None and not stat.S_ISREG(st.st_mode):
        if resumable or not (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
            raise InputError("is not a regular file (a resumable output must be one)", path=p)
        yield 0
        return
    from verify.records.io import cannot_write
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, created = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644), True
        except FileExistsError:
            fd, created = os.open(path, os.O_RDWR | os.O_CLOEXEC), False
    except OSError as exc:
        raise cannot_write(path, exc) from None
    st = os.fstat(fd)
    key = (st.st_dev, st.st_ino)
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
            os.close(fd)
    if held is None:
        try:
            _lock(fd, p)
        except BaseException:
            os.close(fd)
            raise
        with _HELD_LOCK:
            held = _HELD[key] = [fd, 1, p if created else None]
    try:
        keep = verify_ours(path, kind)
        cut = os.fstat(held[0]).st_size - keep
        if cut:
            os.ftruncate(held[0], keep)
        yield cut
    finally:
        with _HELD_LOCK:
            held[1] -= 1
            last = held[1] == 0
            if last:
                del _HELD[key]
        if last:
            try:
                if held[2] is not None and os.fstat(held[0]).st_size == 0 and same_file(held[2], f"/proc/self/fd/{held[0]}"):
                    os.unlink(held[2])  # we created it and nothing was written: leave no trace
            except OSError:
                pass
            os.close(held[0])  # closing the descriptor releases the lock


def write_bytes_replacing(path: str | os.PathLike, data: bytes | Callable[[], bytes]) -> None:
    """Write a whole document to `path` without ever replacing what the path is.

    A regular file (or a new path) is replaced atomically via a temp file and rename; a
    symlink is followed and its target replaced; a FIFO or character device is written to
    directly; a directory, block device or socket is refused. Errors name `path`.

    >>> import tempfile; p = tempfile.mktemp(); write_bytes_replacing(p, b"x"); open(p).read()
    'x'
    """
    from verify.records.io import cannot_write
    p = str(path)
    target = os.path.realpath(path)  # a symlink (or a chain of them): write its target
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise cannot_write(p, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not a file", path=p)
    body = data() if callable(data) else data
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
            raise InputError("is not a regular file, FIFO or character device; refusing to replace it", path=p)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CLOEXEC)
            try:
                _write_all(fd, body)
            finally:
                os.close(fd)
        except OSError as exc:
            raise cannot_write(p, exc) from None
        return
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            _write_all(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))  # keep the permissions the file had
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)  # no stray half-written temp file
        except OSError:
            pass
        raise cannot_write(p, exc) from None


def _write_all(fd: int, body: bytes) -> None:
    view = memoryview(body)
    while view:  # os.write may be partial; keep going
        view = view[os.write(fd, view):]


def write_figure(fig, path: str | os.PathLike, **savefig_kw) -> str:
    """Save a matplotlib figure as PNG to exactly `path` (no ``.png`` appended), via
    `write_bytes_replacing`; return the path written."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig_kw)
    write_bytes_replacing(path, buf.getvalue())
    return str(path)


def replace_own_document(path: str | os.PathLike, data: bytes, is_ours: Callable[[bytes], bool], what: str) -> None:
    """Write a whole-document output that a rerun replaces, but only over a file of its own kind.

    A path that does not exist yet is written; an existing regular file is replaced (atomically,
    :func:`write_bytes_replacing`) only if `is_ours(its bytes)` says it is `what` (an earlier
    output of the same command), else `InputError` and the file stays byte-identical.
    Developer scripts (problem sets, benchmark results, decision files) use it for their --out.

    >>> import tempfile; d = tempfile.mkdtemp(); p = os.path.join(d, "r.json")
    >>> ours = lambda b: b.startswith(b'{"kind": "demo"')
    >>> replace_own_document(p, b'{"kind": "demo", "v": 1}', ours, "a demo result")
    >>> replace_own_document(p, b'{"kind": "demo", "v": 2}', ours, "a demo result")
    >>> _ = open(p, "w").write("my notes")
    >>> replace_own_document(p, b'{"kind": "demo", "v": 3}', ours, "a demo result")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: ...r.json: exists and is not a demo result; not replaced (remove it or choose another path)
    >>> open(p).read()
    'my notes'
    """
    check_own_document(path, is_ours, what)
    write_bytes_replacing(Path(path), data)


def check_own_document(path: str | os.PathLike, is_ours: Callable[[bytes], bool], what: str) -> None:
    """Raise `InputError` unless `path` is new, or a regular file that `is_ours` says is `what`:
    the check of :func:`replace_own_document`, for a script to make before its minutes of work."""
    p = Path(path)
    if p.exists() and p.is_file():
        try:
            current = p.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read it to check it is {what} ({exc.strerror or exc})", path=str(p)) from None
        if not is_ours(current):
            raise InputError(f"exists and is not {what}; not replaced (remove it or choose another path)", path=str(p))


def json_with_keys(*keys: str) -> Callable[[bytes], bool]:
    """`is_ours` for :func:`replace_own_document`: a JSON object holding every key in `keys`.

    >>> json_with_keys("a")(b'{"a": 1}'), json_with_keys("a")(b'[1]'), json_with_keys("a")(b'not json')
    (True, False, False)
    """
    def check(data: bytes) -> bool:
        try:
            obj = json.loads(data)
        except ValueError:
            return False
        return isinstance(obj, dict) and all(k in obj for k in keys)
    return check
