"""`verify serve`: token, limits, endpoints, a loopback load test, and a clean shutdown.

The server runs as a real subprocess on a free loopback port (127.0.0.1 only) and is
stopped with SIGTERM; its worker processes must be gone afterwards.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from verify.commands.app import app  # noqa: E402
from _procs import alive, descendants  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "t0k3n-for-tests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




class Server:
    def __init__(self, *args: str, env: dict | None = None) -> None:
        self.port = _free_port()
        e = {**os.environ, "VERIFY_SERVE_TOKEN": TOKEN, **(env or {})}
        self.err = tempfile.TemporaryFile("w+")  # a file, not a pipe: a full pipe would block the server's log
        self.proc = subprocess.Popen([sys.executable, "-m", "verify", "serve", "--host", "127.0.0.1", "--port",
                                      str(self.port), *args], cwd=ROOT, env=e, stdout=subprocess.DEVNULL,
                                     stderr=self.err, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.stderr())
            try:
                if self.request("GET", "/health", token=None)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not come up")

    def request(self, method: str, path: str, body=None, token: str | None = TOKEN, raw: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"null")
        finally:
            conn.close()

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, self.stderr()

    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read()


@pytest.fixture(scope="module")
def server():
    s = Server("--jobs", "2", "--max-body-mb", "0.25", "--max-pairs", "200", "--timeout", "5")
    yield s
    if s.proc.poll() is None:
        s.stop()


def test_refuses_to_start_without_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv("VERIFY_SERVE_TOKEN", raising=False)
    r = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert r.exit_code == 2
    assert r.output == ("error: no token: set VERIFY_SERVE_TOKEN or give --token-file FILE (or --no-auth to serve "
                        "without authentication)\n")
    empty = tmp_path / "token"
    empty.write_text("\n")
    r = CliRunner().invoke(app, ["serve", "--token-file", str(empty)])
    assert (r.exit_code, r.output) == (2, f"error: {empty}: the token file is empty\n")
    monkeypatch.setenv("VERIFY_SERVE_TOKEN", "x")
    r = CliRunner().invoke(app, ["serve", "--no-auth"])
    assert (r.exit_code, r.output) == (2, "error: --no-auth given together with a token (VERIFY_SERVE_TOKEN or "
                                          "--token-file): choose one\n")
    r = CliRunner().invoke(app, ["serve", "--jobs", "0"])
    assert (r.exit_code, r.output) == (2, "error: --jobs out of range: 0\n")


def test_token_required_except_health(server):
    assert server.request("GET", "/health", token=None)[0] == 200
    body = {"gold": "1", "pred": "1"}
    status, out = server.request("POST", "/check", body, token=None)
    assert (status, out) == (401, {"detail": "missing or wrong bearer token"})
    assert server.request("POST", "/check", body, token="wrong")[0] == 401
    assert server.request("POST", "/get_reward", {"query": ["1"], "labels": ["1"]}, token=None)[0] == 401
    assert server.request("POST", "/check", body)[0] == 200
    assert server.request("POST", f"/check?token={TOKEN}", body, token=None)[0] == 200  # OpenRLHF's client
    assert server.request("POST", "/check?token=nope", body, token=None)[0] == 401


def test_oversized_bodies_and_batches_get_413(server):
    big = {"gold": "1", "pred": "x" * 300_000}
    assert server.request("POST", "/check", big) == (413, {"detail": "request body over 262144 bytes"})
    # chunked upload without a Content-Length: cut off at the limit while reading
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.putrequest("POST", "/check")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b"x" * 65536
    try:
        for _ in range(5):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may close early; the status must still be 413
    resp = conn.getresponse()
    assert resp.status == 413
    conn.close()
    pairs = [{"gold": "1", "pred": "1"}] * 201
    assert server.request("POST", "/check", {"pairs": pairs}) == (
        413, {"detail": "201 pairs in one request; the limit is 200"})


def test_bad_bodies_are_4xx_not_500(server):
    assert server.request("POST", "/check", raw=b"{not json") == (400, {"detail": "body is not valid JSON"})
    assert server.request("POST", "/check", [1])[0] == 422
    assert server.request("POST", "/check", {"pairs": [{"gold": "1"}]})[0] == 422
    assert server.request("POST", "/check", {"gold": {"a": 1}, "pred": "1"})[0] == 422
    status, out = server.request("POST", "/get_reward", {"query": ["a", "b"], "labels": ["1"]})
    assert (status, out) == (422, {"detail": "field 'labels': 1 items, expected 2 (as many as 'query')"})


def test_check_and_get_reward(server):
    status, out = server.request("POST", "/check", {"gold": "\\frac12", "pred": "so \\boxed{0.5}"})
    assert status == 200
    assert out == {"results": [{"equal": True, "outcome": "correct", "reason": "0.5 == 0.5", "method": "numeric",
                                "gold_answer": "\\frac12", "pred_answer": "0.5", "reward": 1.0}]}
    body = {"query": ["Q: 6*7? A: \\boxed{42}", "Q: 2+2? A: \\boxed{5}", "Q: 1+1? A:"],
            "prompts": ["Q: 6*7? A:", "Q: 2+2? A:", "Q: 1+1? A:"], "labels": ["42", "4", "2"]}
    status, out = server.request("POST", "/get_reward", body)
    assert status == 200
    assert out == {"rewards": [1.0, 0.0, 0.0], "scores": [1.0, 0.0, 0.0],
                   "extra_logs": {"accuracy": pytest.approx(1 / 3), "undecided_share": 0.0,
                                  "no_answer_share": pytest.approx(1 / 3)}}


def _case(rng: random.Random) -> tuple[str, str, float]:
    a = rng.randrange(1000)
    kind = rng.randrange(4)
    if kind == 0:
        return str(a), f"so the answer is \\boxed{{{a}}}", 1.0
    if kind == 1:
        return str(a), f"so the answer is \\boxed{{{a + 1}}}", 0.0
    if kind == 2:
        return f"\\frac{{{a}}}{{4}}", f"it is {a / 4}", 1.0
    return f"x^2-{a * a}", f"\\boxed{{(x-{a})(x+{a})}}", 1.0


def test_load_many_clients_nothing_lost_or_mismatched(server):
    stop_at = time.monotonic() + 6.0
    counts = {"requests": 0, "pairs": 0}
    lock = threading.Lock()

    def client(seed: int) -> list[str]:
        rng, errors = random.Random(seed), []
        while time.monotonic() < stop_at:
            cases = [_case(rng) for _ in range(rng.choice([1, 3, 12, 40]))]
            tag = f"c{seed}-{rng.random()}"  # each request carries its own prompts: a mixed-up answer shows
            body = {"query": [f"{tag}:{i} {p}" for i, (_, p, _) in enumerate(cases)],
                    "prompts": [f"{tag}:{i}" for i in range(len(cases))], "labels": [g for g, _, _ in cases]}
            status, out = server.request("POST", "/get_reward", body)
            if status != 200 or out["rewards"] != [w for _, _, w in cases]:
                errors.append(f"{status} {out} for {cases}")
            with lock:
                counts["requests"] += 1
                counts["pairs"] += len(cases)
        return errors

    with ThreadPoolExecutor(16) as ex:
        errors = [e for errs in ex.map(client, range(16)) for e in errs]
    print(f"load test: 16 clients, 6 s: {counts['requests']} requests, {counts['pairs']} pairs")
    assert errors == []
    assert counts["requests"] >= 16 and counts["pairs"] >= 100


def test_graceful_shutdown_leaves_no_process_and_logs_each_request(server):
    kids = descendants(server.proc.pid)
    assert kids, "the load test should have started batch workers"
    assert server.request("GET", "/health", token=None)[0] == 200
    assert server.request("POST", "/check", {"gold": "1", "pred": "1"}, token=None)[0] == 401
    assert server.request("POST", "/check", {"gold": "1", "pred": "1" * 300_000})[0] == 413
    code, err = server.stop()
    # uvicorn shuts down gracefully, then re-raises the signal it caught: the exit status says SIGTERM
    assert code == -signal.SIGTERM and "Application shutdown complete." in err
    deadline = time.monotonic() + 10
    while any(alive(p) for p in kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in kids if alive(p)] == []
    lines = [x for x in err.splitlines() if " verify.serve " in x]
    assert lines and all(" 127.0.0.1 " in x for x in lines)
    assert any(" POST /get_reward 200 " in x for x in lines) and any(" POST /check 401 " in x for x in lines)
    assert any(" POST /check 413 " in x for x in lines)


def test_no_auth_is_explicit_and_logged(monkeypatch):
    s = Server("--no-auth", "--jobs", "1", env={"VERIFY_SERVE_TOKEN": ""})
    try:
        assert s.request("POST", "/check", {"gold": "2", "pred": "2"}, token=None)[0] == 200
        assert s.request("GET", "/health", token=None)[1]["auth"] is False
    finally:
        code, err = s.stop()
    assert code == -signal.SIGTERM and "warning: serving WITHOUT authentication (--no-auth)" in err
    lines = [x.split(" verify.serve ")[1] for x in err.splitlines() if " verify.serve " in x]
    # one line per request: the start-up health probe, the check, the health call
    assert [x.rsplit(" ", 2)[0] for x in lines] == ["127.0.0.1 GET /health 200", "127.0.0.1 POST /check 200",
                                                     "127.0.0.1 GET /health 200"]


def test_request_deadline_turns_unchecked_pairs_undecided():
    s = Server("--request-timeout", "0.000001", "--jobs", "1")
    try:
        status, out = s.request("POST", "/check", {"pairs": [{"gold": "1", "pred": "1"}] * 3})
        assert status == 200
        assert [(r["equal"], r["outcome"], r["reason"]) for r in out["results"]] == [
            (None, "undecided", "request deadline passed")] * 3
        status, out = s.request("POST", "/get_reward", {"query": ["\\boxed{1}"], "labels": ["1"]})
        assert (status, out["rewards"], out["extra_logs"]["undecided_share"]) == (200, [0.0], 1.0)
    finally:
        s.stop()
