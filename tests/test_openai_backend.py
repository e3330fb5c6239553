"""openai backend against a scripted OpenAI-compatible server on 127.0.0.1 started here:
payloads, n, chat vs completions, 429 + Retry-After, 500s, timeouts, non-retryable 400,
servers that ignore n, and the concurrency bound."""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from verify.sampling.base import SamplingParams
from verify.sampling.openai_backend import OpenAIGenerator, ServerError


class Server:
    """Behaviour is chosen per request by the `model` name; every request body is recorded."""

    def __init__(self):
        self.bodies: list[tuple[str, dict]] = []
        self.calls: dict[tuple, int] = defaultdict(int)
        self.inflight = self.max_inflight = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.bodies.append((self.path, body))
                    key = (body["model"], json.dumps(body.get("prompt") or body.get("messages")))
                    outer.calls[key] += 1
                    call = outer.calls[key]
                try:
                    outer.respond(self, body, call)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def respond(self, h, body, call):
        model = body["model"]
        if model == "flaky-429" and call == 1:
            return self.send(h, 429, {"error": "slow down"}, {"Retry-After": "0.3"})
        if model == "flaky-500" and call <= 2:
            return self.send(h, 500, {"error": "boom"})
        if model == "always-503":
            return self.send(h, 503, {"error": "overloaded"})
        if model == "bad-request":
            return self.send(h, 400, {"error": {"message": "max_tokens too large"}})
        if model == "slow-first" and call == 1:
            time.sleep(1.0)
        if model == "slow":  # count requests in flight; leave before answering, so no overlap is miscounted
            with self.lock:
                self.inflight += 1
                self.max_inflight = max(self.max_inflight, self.inflight)
            time.sleep(0.15)
            with self.lock:
                self.inflight -= 1
        n = 1 if model == "no-n" else body.get("n", 1)
        chat = "messages" in body
        choices = []
        for i in range(n):
            text = f"{model} #{call}.{i} \\boxed{{{i}}}"
            lp = [-0.5, -0.25, -0.25]
            ch = {"index": i, "finish_reason": "length" if i == 1 else "stop"}
            if chat:
                ch["message"] = {"role": "assistant", "content": text}
                if body.get("logprobs"):
                    ch["logprobs"] = {"content": [{"token": "t", "logprob": x} for x in lp]}
            else:
                ch["text"] = text
                if body.get("logprobs") is not None:
                    ch["logprobs"] = {"tokens": ["a", "b", "c"], "token_logprobs": lp}
            choices.append(ch)
        self.send(h, 200, {"choices": choices, "usage": {"prompt_tokens": 11, "completion_tokens": 3 * n}})

    @staticmethod
    def send(h, status, obj, headers=None):
        raw = json.dumps(obj).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def gen(server, model, **kw):
    kw.setdefault("backoff_base", 0.01)
    return OpenAIGenerator(model=model, base_url=server.url, **kw)


def test_completions_payload_and_parsing(server):
    g = gen(server, "ok", chat=False, logprobs=True)
    params = SamplingParams(temperature=0.6, top_p=0.9, max_tokens=77, stop=("\n\nQ:",), seed=5)
    row = g.generate(["What is 1 + 1?"], 3, params)[0]
    path, body = server.bodies[0]
    assert path == "/v1/completions"
    assert body["prompt"] == "What is 1 + 1?" and body["n"] == 3 and body["max_tokens"] == 77
    assert (body["temperature"], body["top_p"], body["stop"], body["logprobs"]) == (0.6, 0.9, ["\n\nQ:"], 0)
    assert isinstance(body["seed"], int)
    assert [c.text for c in row] == ["ok #1.0 \\boxed{0}", "ok #1.1 \\boxed{1}", "ok #1.2 \\boxed{2}"]
    assert [c.finish_reason for c in row] == ["stop", "length", "stop"]
    assert all(c.num_tokens == 3 and c.logprob == -1.0 and c.prompt_tokens == 11 for c in row)


def test_chat_endpoint_sends_messages(server):
    msgs = [{"role": "system", "content": "Box it."}, {"role": "user", "content": "2+2?"}]
    row = gen(server, "ok").generate([msgs, "3+3?"], 2, SamplingParams())
    assert [p for p, _ in server.bodies] == ["/v1/chat/completions"] * 2
    sent = sorted((b["messages"] for _, b in server.bodies), key=len)
    assert sent == [[{"role": "user", "content": "3+3?"}], msgs]
    assert len(row) == 2 and row[0][1].text == "ok #1.1 \\boxed{1}"
    assert row[0][0].logprob is None and row[0][0].num_tokens == 0  # unknown without logprobs


def test_429_waits_for_retry_after(server):
    g = gen(server, "flaky-429")
    t0 = time.perf_counter()
    row = g.generate(["q"], 2, SamplingParams())[0]
    assert time.perf_counter() - t0 >= 0.3
    assert g.retries == 1 and row[0].text == "flaky-429 #2.0 \\boxed{0}"


def test_500_retried_with_backoff(server):
    g = gen(server, "flaky-500")
    assert g.generate(["q"], 1, SamplingParams())[0][0].text.startswith("flaky-500 #3.0")
    assert g.retries == 2


def test_timeout_is_retried(server):
    g = gen(server, "slow-first", timeout=0.3)
    assert g.generate(["q"], 1, SamplingParams())[0][0].text.startswith("slow-first #2.0")
    assert g.retries == 1


def test_gives_up_after_max_retries(server):
    g = gen(server, "always-503", max_retries=2)
    with pytest.raises(ServerError, match=r"giving up after 3 attempts; last error: HTTP 503"):
        g.generate(["q"], 1, SamplingParams())


def test_client_error_is_not_retried(server):
    g = gen(server, "bad-request")
    with pytest.raises(ServerError, match=r"HTTP 400: .*max_tokens too large"):
        g.generate(["q"], 1, SamplingParams())
    assert g.retries == 0 and len(server.bodies) == 1


def test_server_ignoring_n_is_asked_again(server):
    row = gen(server, "no-n").generate(["q"], 3, SamplingParams(seed=1))[0]
    assert [c.text for c in row] == ["no-n #1.0 \\boxed{0}", "no-n #2.0 \\boxed{0}", "no-n #3.0 \\boxed{0}"]
    assert [b["n"] for _, b in server.bodies] == [3, 2, 1]
    assert len({b["seed"] for _, b in server.bodies}) == 3  # fresh draws, not the same sample again


def test_per_sample_seeds_one_request_per_run_of_consecutive_seeds(server):
    """Seeds s, s+1, ... are one request with n and seed s (vLLM serve seeds child j with s + j); a
    short answer is completed from the first missing sample's seed; other seeds go one per sample."""
    row = gen(server, "no-n").generate(["q"], 3, SamplingParams(seed=1), seeds=[[100, 101, 102]])[0]
    assert [(b["n"], b["seed"]) for _, b in server.bodies] == [(3, 100), (2, 101), (1, 102)]
    assert len(row) == 3
    server.bodies.clear()
    row = gen(server, "ok").generate(["q"], 2, SamplingParams(seed=1), seeds=[[7, 3]])[0]
    assert sorted((b["n"], b["seed"]) for _, b in server.bodies) == [(1, 3), (1, 7)]
    assert [c.text.split()[2] for c in row] == ["\\boxed{0}"] * 2


def test_concurrency_is_bounded(server):
    g = gen(server, "slow", max_concurrency=3)
    got = g.generate([f"q{i}" for i in range(9)], 1, SamplingParams())
    assert [r[0].text.split()[0] for r in got] == ["slow"] * 9
    assert 2 <= server.max_inflight <= 3


def test_unreachable_server_names_url():
    g = OpenAIGenerator(model="m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff_base=0.01, timeout=1)
    with pytest.raises(ServerError, match=r"127\.0\.0\.1:9/v1/chat/completions: giving up after 2 attempts"):
        g.generate(["q"], 1, SamplingParams())


def test_token_logprobs_become_a_confidence_summary(server):
    from verify.records.types import Problem
    from verify.sampling.traces import completion_to_trace

    row = gen(server, "ok", chat=False, logprobs=True).generate(["1+1?"], 1, SamplingParams())[0]
    c = row[0]
    assert c.token_logprobs == (-0.5, -0.25, -0.25) and c.token_ends == (1, 2, 3)
    assert c.token_confidence is None  # only the sampled token's logprob: no top-k confidence
    chat = gen(server, "ok", logprobs=True).generate(["1+1?"], 1, SamplingParams())[0][0]
    assert chat.token_logprobs == (-0.5, -0.25, -0.25) and chat.token_ends == (1, 2, 3)
    without = gen(server, "ok").generate(["1+1?"], 1, SamplingParams())[0][0]
    assert without.token_logprobs is None and without.token_ends is None
    trace = completion_to_trace(Problem("p", "1+1?", "2"), 0, c)
    assert trace.confidence["kind"] == "sampled" and trace.confidence["tokens"] == 3


def test_top_logprobs_give_token_confidence():
    from verify.sampling.openai_backend import _parse_choice

    ch = {"text": "ab", "logprobs": {"tokens": ["a", "b"], "token_logprobs": [-0.1, None],
                                     "top_logprobs": [{"a": -0.1, "x": -2.1}, None]}}
    assert _parse_choice(ch) == ("ab", 1, -0.1, {"token_logprobs": (-0.1,), "token_ends": (1,),
                                                 "token_confidence": (1.1,)})
    assert _parse_choice({"text": "z", "logprobs": None}) == ("z", 0, None, {})
