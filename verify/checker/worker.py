"""A hard per-check timeout that works from any thread, asyncio task or worker process.

`signal.alarm` only works on the main thread, and `multiprocessing.Pool` workers are daemonic
and cannot start children. So the structural layer runs in plain child processes
(``python -m verify.checker._symworker``) that speak one JSON object per line over pipes. The caller
waits on the pipe with `select` and a deadline; on timeout the child is killed (SIGKILL) and a
fresh one is started for the next check. Idle children are reused (a small pool, one child per
concurrent caller), and a forked process never reuses its parent's children. POSIX only.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

STARTUP_LIMIT_S = 60.0  # starting python + imports on a busy machine; not counted in the check timeout
MAX_IDLE = 8


class WorkerTimeout(TimeoutError):
    """The check did not finish within its timeout; the worker was killed."""


class WorkerCrashed(RuntimeError):
    """The worker process died (out of memory, killed from outside)."""


PARENT_ENV = "VERIFY_WORKER_PARENT"  # the pid a worker must not outlive (see die_with_parent)
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Call in a child process: it is killed when `parent` dies, and exits now if it already has.

    Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)`` via ctypes) delivers
    SIGKILL when the thread that started this process ends, so a `verify` killed with SIGTERM
    or SIGKILL leaves no checker worker or pool process behind. Elsewhere it does nothing
    (workers still exit when their stdin closes). The caller discards idle workers found dead.
    """
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass
    if parent and os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


class JsonLineChild:
    """A ``python -m MODULE`` child that prints ``"ready"``, then answers one JSON line per request.

    Shared by the checker's worker (below) and the reward pool (`verify.rewards.pool`): the
    child gets the parent's pid (see `die_with_parent`) and reads are bounded by a deadline.
    """

    def __init__(self, module: str) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])  # the folder holding the verify package
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env[PARENT_ENV] = str(os.getpid())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, bufsize=0, close_fds=True,
        )
        self.buf = b""
        ready = self._read_line(time.monotonic() + STARTUP_LIMIT_S)
        if ready.strip() != b'"ready"':
            self.kill()
            raise WorkerCrashed(f"{module} did not start")

    def _read_line(self, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if not left > 0:  # also a nan deadline
                raise WorkerTimeout()
            r, _, _ = select.select([fd], [], [], min(left, 3600.0))  # select overflows on 1e10 s or inf
            if not r:
                continue  # the loop checks the deadline
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise WorkerCrashed("worker exited")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class _Worker(JsonLineChild):
    def __init__(self) -> None:
        super().__init__("verify.checker._symworker")
        self.reused = False  # set once it has answered and gone back to the idle list

    def request(self, payload: dict, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        data = (json.dumps(payload) + "\n").encode()
        try:
            self.proc.stdin.write(data)
        except (BrokenPipeError, OSError) as e:
            raise WorkerCrashed(str(e)) from None
        return json.loads(self._read_line(deadline))

class _Pool:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Worker] = []
        self.pid = os.getpid()

    def _acquire(self) -> _Worker:
        with self.lock:
            if self.pid != os.getpid():  # forked: the children belong to the parent
                self.idle, self.pid = [], os.getpid()
            while self.idle:
                w = self.idle.pop()
                if w.proc.poll() is None:
                    return w
                w.kill()  # died while idle (its parent thread ended: die_with_parent); reap it
        return _Worker()

    def _release(self, w: _Worker) -> None:
        w.reused = True
        with self.lock:
            if len(self.idle) < MAX_IDLE and self.pid == os.getpid():
                self.idle.append(w)
                return
        w.kill()

    def run(self, payload: dict, timeout: float) -> dict:
        """Send one request to a worker; raise WorkerTimeout / WorkerCrashed (worker discarded).

        An idle worker can die between its last answer and this request (its parent-death signal
        fires when the thread that started it ends); when a reused worker crashes at once, the
        request goes to one fresh worker within the time that is left."""
        t0 = time.monotonic()
        w = self._acquire()
        try:
            out = w.request(payload, timeout)
        except WorkerCrashed:
            w.kill()
            left = timeout - (time.monotonic() - t0)
            if not w.reused or left <= 0:
                raise
            w = _Worker()
            try:
                out = w.request(payload, left)
            except BaseException:
                w.kill()
                raise
        except BaseException:
            w.kill()
            raise
        self._release(w)
        return out

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
            mine = self.pid == os.getpid()
        if mine:
            for w in idle:
                w.kill()


POOL = _Pool()
atexit.register(POOL.close)
