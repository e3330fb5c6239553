"""The reward server behind `verify serve`: FastAPI on uvicorn (both well kept; the `serve` extra).

Endpoints:

- ``POST /get_reward`` - OpenRLHF's remote reward protocol: ``{"query": [...], "prompts": [...],
  "labels": [...]}`` -> ``{"rewards": [...], "scores": [...], "extra_logs": {...}}``.
- ``POST /check`` - plain JSON: ``{"pairs": [{"gold": ..., "pred": ...}, ...]}`` (or one
  ``{"gold", "pred"}``) -> ``{"results": [{"equal", "outcome", "reason", "method", "gold_answer",
  "pred_answer", "reward"}, ...]}``.
- ``GET /health`` - ``{"status": "ok", ...}``; the only endpoint without the token.

Safety: a bearer token on every other endpoint (compared in constant time; 401 without it;
clients that cannot send headers, such as OpenRLHF's, may put it in the URL as ``?token=``; the
log line never shows the query string),
a body size limit checked before the body is read (413), at most `max_pairs` pairs per request
(413), a deadline per request (pairs not checked by then are undecided: "request deadline
passed"), at most `max_concurrency` requests checking at once (the rest wait their turn), and
one log line per request. On shutdown the batch workers are stopped, so no process is left.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from verify.rewards.core import RewardValues, check_batch, verdict_fields

log = logging.getLogger("verify.serve")


@dataclass(frozen=True)
class ServeConfig:
    """Server settings; `token` None means no authentication (only with an explicit --no-auth)."""

    token: str | None
    jobs: int = 2                   # batch worker processes shared by all requests
    timeout: float = 5.0            # hard limit per check, seconds
    request_timeout: float = 120.0  # deadline for one whole request, seconds
    max_body_bytes: int = 8 << 20   # 8 MiB: ~4,000 long responses
    max_pairs: int = 4096
    max_concurrency: int = 4
    values: RewardValues = field(default_factory=lambda: RewardValues(undecided=0.0))


class _Reject(Exception):
    def __init__(self, status: int, detail: str, headers: dict | None = None):
        self.status, self.detail, self.headers = status, detail, headers or {}


async def _send_json(send, status: int, body: dict, headers: dict | None = None) -> None:
    data = json.dumps(body).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": data})


class Guard:
    """ASGI middleware: token and body size before the app sees the request, one log line after.

    The body is read here with a running byte count, so a chunked upload without a
    Content-Length is cut off at the limit too.
    """

    def __init__(self, app, cfg: ServeConfig) -> None:
        self.app, self.cfg = app, cfg
        self.expected = None if cfg.token is None else f"Bearer {cfg.token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.monotonic()
        status = {"code": 500}

        async def send_logged(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            receive2 = await self._admit(scope, receive)
            await self.app(scope, receive2, send_logged)
        except _Reject as r:
            await _send_json(send_logged, r.status, {"detail": r.detail}, r.headers)
        finally:
            client = scope.get("client") or ("-", 0)
            log.info("%s %s %s %d %.1fms n=%s", client[0], scope["method"], scope["path"], status["code"],
                     (time.monotonic() - start) * 1000, scope.get("state", {}).get("n_pairs", "-"))

    async def _admit(self, scope, receive):
        if scope["path"] == "/health":
            return receive
        headers = dict(scope["headers"])
        if self.expected is not None:
            got = headers.get(b"authorization", b"")
            if not got:  # OpenRLHF's client sends no headers: the token may ride in the URL (?token=...)
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                got = ("Bearer " + query["token"][0]).encode() if "token" in query else b""
            if not hmac.compare_digest(got, self.expected):
                raise _Reject(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
        limit = self.cfg.max_body_bytes
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            raise _Reject(413, f"request body over {limit} bytes")
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Reject(400, "client disconnected")
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                raise _Reject(413, f"request body over {limit} bytes")
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _strings(obj: dict, name: str, n: int | None, required: bool = True) -> list | None:
    v = obj.get(name)
    if v is None and not required:
        return None
    if not isinstance(v, list) or any(x is not None and not isinstance(x, (str, int, float)) for x in v):
        raise _Reject(422, f"field {name!r}: expected a list of strings")
    if n is not None and len(v) != n:
        raise _Reject(422, f"field {name!r}: {len(v)} items, expected {n} (as many as 'query')")
    return v


def create_app(cfg: ServeConfig):
    """The FastAPI app (wrapped in the `Guard` middleware)."""
    from verify import __version__
    from verify.rewards.openrlhf import reward_lists
    from verify.rewards.pool import close_pools

    gate = asyncio.Semaphore(cfg.max_concurrency)

    @asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(close_pools)  # graceful shutdown: no batch worker outlives the server
        from verify.checker.worker import POOL

        POOL.close()

    app = FastAPI(title="verify reward server", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)

    async def body(request: Request) -> dict:
        try:
            obj = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise _Reject(400, "body is not valid JSON") from None
        if not isinstance(obj, dict):
            raise _Reject(422, "body must be a JSON object")
        return obj

    def limit_pairs(request: Request, n: int) -> None:
        request.scope.setdefault("state", {})["n_pairs"] = n
        if n > cfg.max_pairs:
            raise _Reject(413, f"{n} pairs in one request; the limit is {cfg.max_pairs}")

    async def run(fn, *args):
        deadline = time.monotonic() + cfg.request_timeout
        async with gate:
            return await run_in_threadpool(fn, *args, deadline)

    @app.exception_handler(_Reject)
    async def rejected(request, exc: _Reject):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @app.get("/health")
    async def health():
        return {"status": "ok", "version": __version__, "auth": cfg.token is not None, "jobs": cfg.jobs}

    @app.post("/get_reward")
    async def get_reward(request: Request):
        obj = await body(request)
        queries = _strings(obj, "query", None)
        prompts = _strings(obj, "prompts", len(queries), required=False)
        labels = _strings(obj, "labels", len(queries))
        limit_pairs(request, len(queries))

        def work(deadline):
            return reward_lists(queries, prompts, labels, values=cfg.values, jobs=cfg.jobs, timeout=cfg.timeout,
                                deadline=deadline)
        return await run(work)

    @app.post("/check")
    async def check(request: Request):
        obj = await body(request)
        items = obj["pairs"] if "pairs" in obj else [obj]
        if not isinstance(items, list) or not all(isinstance(p, dict) and "gold" in p and "pred" in p
                                                  for p in items):
            raise _Reject(422, "expected {'gold', 'pred'} or {'pairs': [{'gold', 'pred'}, ...]}")
        for p in items:
            for k in ("gold", "pred"):
                if p[k] is not None and not isinstance(p[k], (str, int, float)):
                    raise _Reject(422, f"field {k!r}: expected a string, number or null")
        limit_pairs(request, len(items))

        def work(deadline):
            verdicts = check_batch([(p["gold"], p["pred"]) for p in items], jobs=cfg.jobs, timeout=cfg.timeout,
                                   deadline=deadline)
            return {"results": [{**verdict_fields(v), "reward": cfg.values.of(v)} for v in verdicts]}
        return await run(work)

    return Guard(app, cfg)
