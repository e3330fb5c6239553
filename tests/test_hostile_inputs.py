"""Hostile and careless inputs, one table per class, run against every command that reads or
writes that kind of file (issue 11; the guarantees are listed in docs/guarantees.md).

For bad input the contract is the same everywhere: exit code 2, exactly one line on stderr
that starts with ``error:`` and names the path (and the line where there is one), no
traceback, and every file that existed before is byte-identical afterwards.
"""
from __future__ import annotations

import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verify.commands.app import app
from verify.errors import InputError
from verify.records.io import MAX_LINE_BYTES, append_jsonl, iter_jsonl, read_jsonl, repair_tail
from verify.records.outputs import claim_output, write_bytes_replacing
from _procs import alive, descendants

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

TRACE = {"problem_id": "p", "sample_index": 0, "text": "2 + 2 = 4\n\n\\boxed{4}", "answer": "4", "gold": "4"}
DATA = {"id": "p", "question": "What is 2 + 2?", "answer": "4"}
PAIR = {"gold": "4", "pred": "4"}
PB = {"problem": "2 + 2?", "steps": ["2 + 2 = 4"], "label": -1}


def answer_four(prompt, n):
    """A callable generator for `verify sample -b callable -m tests.test_hostile_inputs:answer_four`."""
    return ["2 + 2 = 4\n\n\\boxed{4}"] * n


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def invoke(args: list[str], cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, [str(a) for a in args])
    finally:
        os.chdir(old)


def assert_refused(res, *names: str) -> None:
    """Exit 2, one `error:` line on stderr naming every name given, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr, res.exception)
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    for name in names:
        assert name in res.stderr, (name, res.stderr)


# ---- 1. bad input files: every reader, every class -----------------------------------------------

BAD_LINES = {  # class -> raw bytes of the bad line (line 2 of the file; line 1 is valid)
    "nested 100,000 deep": b"[" * 100_000,
    "5000-digit integer": b'{"gold": ' + b"9" * 5000 + b', "pred": "1"}',
    "not JSON": b"line 2 of my notes",
    "not an object": b"[1, 2, 3]",
    "invalid UTF-8": b'{"gold": "\xff\xfe"}',
    "NaN literal": b'{"gold": NaN, "pred": NaN, "problem_id": NaN, "text": NaN, "question": NaN, '
                   b'"problem": NaN, "steps": NaN, "label": NaN}',
}

# every documented command that reads a JSONL file, with the file as {F} and its valid first line
READERS = {
    "check --pairs": (["check", "--pairs", "{F}"], PAIR),
    "check --pairs --out": (["check", "--pairs", "{F}", "--out", "res.jsonl"], PAIR),
    "eval --samples": (["eval", "--samples", "{F}"], TRACE),
    "eval --samples --json": (["eval", "--samples", "{F}", "--json", "r.json"], TRACE),
    "sample --data-file": (["sample", "-d", "arith", "--data-file", "{F}", "--out", "s.jsonl", "-b", "callable",
                            "-m", "tests.test_hostile_inputs:answer_four", "-n", "1", "-q"], DATA),
    "prm score": (["prm", "score", "--samples", "{F}", "--prm", "arith", "--out", "sc.jsonl", "--quiet"], TRACE),
    "convert": (["convert", "{F}", "--format", "verify", "--out", "c.jsonl"], TRACE),
    "analyze samples": (["analyze", "samples", "{F}"], TRACE),
    "prm eval": (["prm", "eval", "--data", "{F}", "--prm", "arith", "--quiet"], PB),
}


@pytest.mark.parametrize("bad", list(BAD_LINES))
@pytest.mark.parametrize("reader", list(READERS))
def test_every_reader_refuses_every_bad_line_with_one_line(reader, bad, tmp_path):
    args, first = READERS[reader]
    f = tmp_path / "in.jsonl"
    f.write_bytes(json.dumps(first).encode() + b"\n" + BAD_LINES[bad] + b"\n")
    (tmp_path / "res.jsonl").write_bytes(b"")  # pre-existing outputs must survive as they were
    before = snapshot(tmp_path)
    res = invoke([a.replace("{F}", str(f)) for a in args], tmp_path)
    assert_refused(res, f"{f}:2:")
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) <= {"res.jsonl"}  # check --out may hold line 1's result; nothing else


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("where", ["missing", "a directory", "/dev/zero (no newline, endless)"])
def test_every_reader_refuses_a_path_that_is_not_a_jsonl_file(reader, where, tmp_path):
    args, _ = READERS[reader]
    path = {"missing": str(tmp_path / "nope.jsonl"), "a directory": str(tmp_path),
            "/dev/zero (no newline, endless)": "/dev/zero"}[where]
    before = snapshot(tmp_path)
    res = invoke([a.replace("{F}", path) for a in args], tmp_path)
    assert_refused(res, path)
    assert snapshot(tmp_path) == before


def test_line_length_is_bounded(tmp_path):
    f = tmp_path / "long.jsonl"
    f.write_bytes(b'{"a": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
    with pytest.raises(InputError, match=r"long\.jsonl:1: line longer than"):
        list(iter_jsonl(f))


@pytest.mark.parametrize("field,value", [("num_tokens", "1e30"), ("num_tokens", "1" + "0" * 40),
                                         ("sample_index", "-1"), ("prompt_tokens", "true")])
def test_counts_out_of_range_are_field_errors(field, value, tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text(json.dumps(TRACE)[:-1] + f', "{field}": {value}}}\n')
    res = invoke(["eval", "--samples", f], tmp_path)
    assert_refused(res, f"{f}:1: field '{field}'")


# ---- 2. outputs that are not ours are never changed ----------------------------------------------

FOREIGN = {
    "notes without a final newline": b"line 1\nline 2",
    "a JSON document": b'{"a": 1, "b": [1, 2]}',
    "pretty JSON": b'{\n  "a": 1\n}\n',
    "other JSONL": b'{"x": 1}\n{"x": 2}\n',
}

WRITERS = {  # command writing OUT (appending, resumable or not), with its input prepared in the folder
    "sample --out": ["sample", "-d", "arith", "--data-file", "data.jsonl", "--out", "{OUT}", "-b", "callable",
                     "-m", "tests.test_hostile_inputs:answer_four", "-n", "1", "-q"],
    "prm score --out": ["prm", "score", "--samples", "s.jsonl", "--prm", "arith", "--out", "{OUT}", "--quiet"],
    "check --pairs --out": ["check", "--pairs", "pairs.jsonl", "--out", "{OUT}"],
    "eval --out-dir": ["eval", "--data-file", "data.jsonl", "-b", "callable", "-m",
                       "tests.test_hostile_inputs:answer_four", "-n", "1", "--method", "majority@1",
                       "--out-dir", "{DIR}", "--quiet"],
}


def _inputs(folder: Path) -> None:
    (folder / "data.jsonl").write_text(json.dumps(DATA) + "\n")
    (folder / "s.jsonl").write_text(json.dumps(TRACE) + "\n")
    (folder / "pairs.jsonl").write_text(json.dumps(PAIR) + "\n")


@pytest.mark.parametrize("content", list(FOREIGN))
@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_foreign_output_is_refused_and_left_byte_identical(writer, content, tmp_path):
    _inputs(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    out = run_dir / "samples.jsonl" if writer == "eval --out-dir" else tmp_path / "notes.txt"
    out.write_bytes(FOREIGN[content])
    before = snapshot(tmp_path)
    res = invoke([a.replace("{OUT}", str(out)).replace("{DIR}", str(run_dir)) for a in WRITERS[writer]], tmp_path)
    assert_refused(res, str(out))
    assert snapshot(tmp_path) == before


def test_a_torn_tail_of_our_own_file_is_still_repaired(tmp_path):
    _inputs(tmp_path)
    out = tmp_path / "o.jsonl"
    out.write_text(json.dumps({**TRACE, "problem_id": "q"}) + "\n" + '{"problem_id": "q", "sample_ind')
    res = invoke(WRITERS["prm score --out"][:-1] + ["--quiet"], tmp_path) if False else \
        invoke([a.replace("{OUT}", str(out)) for a in WRITERS["prm score --out"]], tmp_path)
    assert res.exit_code == 0, res.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["problem_id"] for r in rows] == ["q", "p"]  # the torn line is gone, nothing else


def test_repair_tail_refuses_a_foreign_file(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_bytes(b"line 1\nline 2")
    with pytest.raises(InputError, match="not a samples file written by verify"):
        repair_tail(f)
    assert f.read_bytes() == b"line 1\nline 2"


# ---- 3. an output that is an input ---------------------------------------------------------------

SAME_FILE = {  # the file X is both read and named as an output
    "eval --samples X --json X": (["eval", "--samples", "X", "--json", "X"], TRACE),
    "eval --samples X --per-problem X": (["eval", "--samples", "X", "--per-problem", "X"], TRACE),
    "eval --samples X --plot X": (["eval", "--samples", "X", "--plot", "X"], TRACE),
    "prm score --samples X --out X": (["prm", "score", "--samples", "X", "--prm", "arith", "--out", "X"], TRACE),
    "check --pairs X --out X": (["check", "--pairs", "X", "--out", "X"], PAIR),
    "convert X --out X --force": (["convert", "X", "--format", "verify", "--out", "X", "--force"], TRACE),
    "sample --data-file X --out X": (["sample", "-d", "arith", "--data-file", "X", "--out", "X", "-b", "callable",
                                      "-m", "tests.test_hostile_inputs:answer_four", "-n", "1", "-q"], DATA),
    "analyze samples X --out X": (["analyze", "samples", "X", "--out", "X"], TRACE),
    "prm eval --data X --json X": (["prm", "eval", "--data", "X", "--prm", "arith", "--json", "X"], PB),
}


@pytest.mark.parametrize("how", ["same path", "hard link"])
@pytest.mark.parametrize("case", list(SAME_FILE))
def test_an_output_that_is_an_input_is_refused(case, how, tmp_path):
    args, row = SAME_FILE[case]
    x = tmp_path / "x.jsonl"
    x.write_text(json.dumps(row) + "\n")
    y = x
    if how == "hard link":
        y = tmp_path / "y.jsonl"
        os.link(x, y)
    out_positions = [i for i, a in enumerate(args) if a == "X"][1:]  # the first X is the input
    argv = [str(y) if i in out_positions else (str(x) if a == "X" else a) for i, a in enumerate(args)]
    before = snapshot(tmp_path)
    res = invoke(argv, tmp_path)
    assert_refused(res, str(y))
    assert snapshot(tmp_path) == before


# ---- 4. what a path is, is never replaced ------------------------------------------------------

def test_json_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    (tmp_path / "s.jsonl").write_text(json.dumps(TRACE) + "\n")
    target = tmp_path / "real.json"
    target.write_text("old")
    (tmp_path / "link.json").symlink_to(target)
    res = invoke(["eval", "--samples", "s.jsonl", "--json", "link.json", "--per-problem", "link2.jsonl"], tmp_path)
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads(target.read_text())["results"]


def test_json_to_a_fifo_is_written_into_the_fifo(tmp_path):
    (tmp_path / "s.jsonl").write_text(json.dumps(TRACE) + "\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    res = invoke(["eval", "--samples", "s.jsonl", "--json", "pipe"], tmp_path)
    reader.join(10)
    assert res.exit_code == 0, res.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and json.loads(got[0])["results"]


@pytest.mark.parametrize("option", ["--json", "--per-problem", "--plot"])
def test_character_devices_are_written_in_place_never_replaced(option, tmp_path):
    (tmp_path / "s.jsonl").write_text(json.dumps(TRACE) + "\n")
    res = invoke(["eval", "--samples", "s.jsonl", option, "/dev/null"], tmp_path)
    assert res.exit_code == 0, res.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    res = invoke(["eval", "--samples", "s.jsonl", option, "/dev/full"], tmp_path)
    assert res.exit_code == 2 and "Traceback" not in res.stderr  # an output failure: after the work's progress
    assert res.stderr.splitlines()[-1] == "error: /dev/full: cannot write (No space left on device)"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("option", ["--records", "--json"])
def test_prm_eval_outputs_keep_links_and_devices(option, tmp_path):
    (tmp_path / "pb.jsonl").write_text(json.dumps(PB) + "\n")
    target = tmp_path / "real"
    target.write_text("old")
    (tmp_path / "link").symlink_to(target)
    for out in ("link", "/dev/null"):  # --records used to unlink the path first (a symlink, /dev/null as root)
        res = invoke(["prm", "eval", "--data", "pb.jsonl", "--prm", "arith", "--quiet", option, out], tmp_path)
        assert res.exit_code == 0, res.stderr
    assert (tmp_path / "link").is_symlink() and target.read_text() != "old"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_write_bytes_replacing_refuses_a_socket(tmp_path):
    import socket
    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    try:
        with pytest.raises(InputError, match="not a regular file"):
            write_bytes_replacing(path, b"x")
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    finally:
        s.close()


def test_plot_is_written_to_exactly_the_path_printed(tmp_path):
    (tmp_path / "s.jsonl").write_text(json.dumps(TRACE) + "\n")
    res = invoke(["eval", "--samples", "s.jsonl", "--plot", "plotdir"], tmp_path)
    assert res.exit_code == 0, res.stderr
    assert "plot: plotdir" in res.stdout
    assert (tmp_path / "plotdir").read_bytes()[:4] == b"\x89PNG" and not (tmp_path / "plotdir.png").exists()


# ---- 5. one writer per output ----------------------------------------------------------------------

HOLD = ("import sys, time\nfrom verify.records.outputs import claim_output\n"
        "with claim_output(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n")


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_second_writer_fails_at_once_naming_the_holder(writer, tmp_path):
    _inputs(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    out = run_dir / "samples.jsonl" if writer == "eval --out-dir" else tmp_path / "o.jsonl"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert holder.stdout.readline() == b"held\n"
        before = snapshot(tmp_path)
        t0 = time.monotonic()
        res = invoke([a.replace("{OUT}", str(out)).replace("{DIR}", str(run_dir)) for a in WRITERS[writer]], tmp_path)
        assert time.monotonic() - t0 < 20
        assert_refused(res, str(out), f"pid {holder.pid}")
        assert snapshot(tmp_path) == before
    finally:
        holder.kill()
        holder.wait()


def test_claims_nest_within_one_process_and_release(tmp_path):
    out = tmp_path / "o.jsonl"
    with claim_output(out):
        with claim_output(out):  # the eval runner holds what its sampling stage claims again
            append_jsonl(out, [TRACE])
    with claim_output(out):
        pass
    assert read_jsonl(out) == [TRACE]


def test_a_claim_that_wrote_nothing_leaves_no_file(tmp_path):
    out = tmp_path / "o.jsonl"
    with pytest.raises(RuntimeError):
        with claim_output(out):
            raise RuntimeError("the model failed to load")
    assert not out.exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with claim_output(empty):
        pass
    assert empty.exists()  # a file that existed before is never removed


# ---- 6. a checkpoint is never unpickled ----------------------------------------------------------

class _Boom:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_pickle_checkpoint_never_runs(tmp_path):
    torch = pytest.importorskip("torch")
    from prm.train import load_checkpoint
    marker = tmp_path / "pwned"
    ckpt = tmp_path / "out" / "checkpoint"
    ckpt.mkdir(parents=True)
    (ckpt / "state.pt").write_bytes(pickle.dumps(_Boom(str(marker))))
    with pytest.raises(InputError, match="old pickle format"):
        load_checkpoint(tmp_path / "out")
    # a current-format checkpoint whose optimizer file is a planted pickle: weights_only refuses it
    from safetensors.torch import save_file
    save_file({"rng.torch": torch.get_rng_state()}, str(ckpt / "model-1.safetensors"))
    torch.save({"x": _Boom(str(marker))}, ckpt / "optimizer-1.pt")
    (ckpt / "state.json").write_text(json.dumps({"format": 2, "files": {"tensors": "model-1.safetensors",
                                                 "optimizer": "optimizer-1.pt"}, "rng": {}, "position": {},
                                                 "history": []}))
    with pytest.raises(InputError, match="refused, loading it could run code"):
        load_checkpoint(tmp_path / "out")
    (ckpt / "state.json").write_text(json.dumps({"files": {"tensors": "../../x", "optimizer": "o.pt"}}))
    with pytest.raises(InputError, match="outside the checkpoint folder"):
        load_checkpoint(tmp_path / "out")
    assert not marker.exists()


def test_prm_train_resume_refuses_a_planted_pickle(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from prm.synthetic import make_arith_examples, save_tiny_model, write_plain_jsonl
    base = save_tiny_model(tmp_path / "base", kind="llama", head="lm", hidden=16, layers=1, heads=2, seed=0)
    data = tmp_path / "d.jsonl"
    write_plain_jsonl(data, make_arith_examples(8, seed=1))
    marker = tmp_path / "pwned"
    (tmp_path / "out" / "checkpoint").mkdir(parents=True)
    (tmp_path / "out" / "checkpoint" / "state.pt").write_bytes(pickle.dumps(_Boom(str(marker))))
    res = runner.invoke(app, ["prm", "train", "--data", str(data), "--base-model", str(base), "--out",
                              str(tmp_path / "out"), "--resume", "--quiet", "--threads", "1"])
    assert res.exit_code != 0 and "old pickle format" in res.stderr and res.stderr.count("\n") == 1
    assert not marker.exists()


# ---- 7. children die with the parent; Ctrl-C prints no worker tracebacks -------------------------



@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killing_check_pairs_leaves_no_process_behind(sig, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"gold": f"\\frac{{{i}}}{{{i + 1}}}+x^{i % 7}",
                                         "pred": f"x^{i % 7}+\\frac{{{i}}}{{{i + 1}}}"}) + "\n" for i in range(4000)))
    err = tmp_path / "err.txt"
    with open(err, "wb") as fh:
        p = subprocess.Popen([sys.executable, "-m", "verify", "check", "--pairs", str(pairs), "--jobs", "2",
                              "--isolate"], stdout=subprocess.DEVNULL, stderr=fh, cwd=ROOT, start_new_session=True)
    kids: set[int] = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(kids) < 4:  # 2 pool processes + their 2 checker workers
        time.sleep(0.2)
        kids = {k for k in descendants(p.pid) if alive(k)}
    assert len(kids) >= 4, kids
    if sig == signal.SIGINT:
        os.killpg(p.pid, sig)  # Ctrl-C: the terminal signals the whole foreground group
    else:
        os.kill(p.pid, sig)
    p.wait(30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(k) for k in kids):
        time.sleep(0.2)
    left = [k for k in kids if alive(k)]
    for k in left:
        os.kill(k, signal.SIGKILL)
    assert left == []
    assert "Traceback" not in err.read_text()


# ---- 8. item 7's tracebacks, and option gaps (item 9) --------------------------------------------

@pytest.mark.parametrize("writer", ["check", "convert", "prm score"])
def test_a_lone_surrogate_round_trips_through_written_files(writer, tmp_path):
    row = {**TRACE, **PAIR, "text": "a \ud800 b"}
    f = tmp_path / "in.jsonl"
    f.write_text(json.dumps(row) + "\n")  # ensure_ascii: "\ud800" as an escape, as JSON allows
    args = {"check": ["check", "--pairs", f, "--out", "o.jsonl"],
            "convert": ["convert", f, "--format", "verify", "--out", "o.jsonl"],
            "prm score": ["prm", "score", "--samples", f, "--prm", "arith", "--out", "o.jsonl", "--quiet"]}[writer]
    res = invoke(args, tmp_path)
    assert res.exit_code == 0, res.stderr
    assert read_jsonl(tmp_path / "o.jsonl")[0]["text"] == "a \ud800 b"


def test_check_timeout_inf_nan_and_huge():
    from verify import check
    assert check("x^2", "x*x", timeout=float("inf"), isolate=True).equal is True
    assert check("x^2", "x*x", timeout=1e10, isolate=True).equal is True
    with pytest.raises(ValueError, match="nan"):
        check("x^2", "x*x", timeout=float("nan"))
    res = runner.invoke(app, ["check", "x^2", "x*x", "--timeout", "1e10", "--isolate"])
    assert res.exit_code == 0 and res.stdout.startswith("equal"), res.stderr


@pytest.mark.parametrize("args,message", [
    (["sample", "-d", "arith", "--limit", "1", "--out", "o.jsonl", "-b", "callable", "-m", "os:system"],
     "system(command) cannot be called as fn(prompt, n)"),
    (["prm", "score", "--samples", "s.jsonl", "--prm", "python:os:system", "--out", "o.jsonl"],
     "system(command) cannot be called as fn(question, steps)"),
    (["sample", "-d", "arith", "--limit", "1", "--out", "o.jsonl", "-b", "callable", "-m",
      "tests.test_hostile_inputs:answer_four", "--temperature", "inf"], "--temperature must be >= 0, got inf"),
    (["sample", "-d", "arith", "--limit", "1", "--out", "o.jsonl", "-b", "callable", "-m",
      "tests.test_hostile_inputs:answer_four", "-n", "1000000000000"], "more than 1000000 samples per problem"),
    (["eval", "-b", "callable", "-m", "tests.test_hostile_inputs:answer_four", "-n", "1000000000000",
      "--out-dir", "run"], "more than 1000000 samples per problem"),
    (["prm", "eval", "--data", "pb.jsonl", "--prm", "arith", "--threshold", "nan"], "--threshold must be"),
    (["eval", "--samples", "s.jsonl", "--price-in", "nan"], "--price-in"),
])
def test_commands_refuse_with_one_line_and_write_nothing(args, message, tmp_path):
    _inputs(tmp_path)
    (tmp_path / "pb.jsonl").write_text(json.dumps(PB) + "\n")
    before = snapshot(tmp_path)
    res = invoke(args, tmp_path)
    assert_refused(res, message)
    assert snapshot(tmp_path) == before


def test_analyze_binomial_with_no_numbers_is_refused():
    res = runner.invoke(app, ["analyze", "binomial", "--p", ",,,"])
    assert res.exit_code == 2 and "expected comma-separated numbers" in res.stderr and not res.stdout


# ---- 9. terminal safety ------------------------------------------------------------------------------

OSC = "\x1b]0;pwned\x07"


def test_escape_sequences_in_file_names_and_answers_never_reach_the_terminal(tmp_path):
    pairs = tmp_path / f"p{OSC}.jsonl"
    pairs.write_text(json.dumps({"gold": f"1{OSC}", "pred": f"2{OSC}"}) + "\n")
    res = invoke(["check", "--pairs", pairs, "--out", f"o{OSC}.jsonl"], tmp_path)
    res2 = invoke(["check", "--pairs", tmp_path / f"missing{OSC}.jsonl"], tmp_path)
    res3 = invoke(["eval", "--samples", tmp_path / f"s{OSC}.jsonl"], tmp_path)
    for r in (res, res2, res3):
        assert "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stdout + r.stderr
    assert "\\x1b]0;pwned\\x07" in res.stdout and "\\x1b]0;pwned\\x07" in res2.stderr
