"""`verify serve`: the checker as an HTTP reward server (OpenRLHF's /get_reward, plus /check).

The token comes from the environment variable VERIFY_SERVE_TOKEN or from --token-file; without
one the server refuses to start unless --no-auth is given. Needs the `serve` extra
(``pip install 'ttc-verify[serve]'``: fastapi, uvicorn).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

TOKEN_ENV = "VERIFY_SERVE_TOKEN"


def _token(token_file: Optional[Path], no_auth: bool) -> Optional[str]:
    if no_auth:
        if token_file is not None or os.environ.get(TOKEN_ENV):
            raise ValueError(f"--no-auth given together with a token ({TOKEN_ENV} or --token-file): choose one")
        return None
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ValueError(f"{token_file}: cannot read the token file: {e.strerror}") from None
        if not token:
            raise ValueError(f"{token_file}: the token file is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ValueError(f"no token: set {TOKEN_ENV} or give --token-file FILE (or --no-auth to serve "
                         "without authentication)")
    return token


def command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: loopback only)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    token_file: Optional[Path] = typer.Option(None, "--token-file",
                                              help=f"File holding the bearer token (else ${TOKEN_ENV})."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Serve without authentication (explicit opt-out)."),
    jobs: int = typer.Option(2, "--jobs", help="Checking processes shared by all requests."),
    timeout: float = typer.Option(5.0, "--timeout", help="Hard limit per check, seconds."),
    request_timeout: float = typer.Option(120.0, "--request-timeout",
                                          help="Deadline per request, seconds (unchecked pairs: undecided)."),
    max_body_mb: float = typer.Option(8.0, "--max-body-mb", help="Largest request body, MiB (else 413)."),
    max_pairs: int = typer.Option(4096, "--max-pairs", help="Most pairs in one request (else 413)."),
    max_concurrency: int = typer.Option(4, "--max-concurrency", help="Requests checked at once; others wait."),
    correct: float = typer.Option(1.0, "--correct", help="Reward for a correct answer."),
    wrong: float = typer.Option(0.0, "--wrong", help="Reward for a wrong answer."),
    no_answer: float = typer.Option(0.0, "--no-answer", help="Reward when no answer can be extracted."),
    undecided: float = typer.Option(0.0, "--undecided", help="Reward when the checker cannot decide."),
) -> None:
    """Serve the checker as an RL reward over HTTP (OpenRLHF /get_reward protocol and /check)."""
    for name, value, ok in (("--timeout", timeout, timeout > 0), ("--request-timeout", request_timeout,
                            request_timeout > 0), ("--max-body-mb", max_body_mb, max_body_mb > 0),
                            ("--jobs", jobs, jobs >= 1), ("--max-pairs", max_pairs, max_pairs >= 1),
                            ("--max-concurrency", max_concurrency, max_concurrency >= 1),
                            ("--port", port, 0 <= port <= 65535)):
        if not ok:
            typer.echo(f"error: {name} out of range: {value}", err=True)
            raise typer.Exit(2)
    try:
        token = _token(token_file, no_auth)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)
    try:
        import uvicorn

        from verify.rewards.server import ServeConfig, create_app
    except ImportError as e:
        typer.echo(f"error: verify serve needs the serve extra (pip install 'ttc-verify[serve]'): {e}", err=True)
        raise typer.Exit(2)
    import logging

    from verify.rewards.core import RewardValues

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = ServeConfig(token=token, jobs=jobs, timeout=timeout, request_timeout=request_timeout,
                      max_body_bytes=int(max_body_mb * (1 << 20)), max_pairs=max_pairs,
                      max_concurrency=max_concurrency, values=RewardValues(correct, wrong, no_answer, undecided))
    if token is None:
        typer.echo("warning: serving WITHOUT authentication (--no-auth)", err=True)
    uvicorn.run(create_app(cfg), host=host, port=port, access_log=False, log_level="info",
                timeout_graceful_shutdown=int(request_timeout) + 5,
                limit_concurrency=max_concurrency * 16)
