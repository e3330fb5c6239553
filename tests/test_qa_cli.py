"""QA of the command line as a user meets it: bad paths, empty files, bad fields, bad option
values. Every case here was a real failure (a traceback, a silent pass, or an error without
file:line:field) found by running the documented commands; each asserts the fixed behaviour.
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from verify.errors import InputError
from verify.records.io import check_writable, read_traces, write_json_atomic

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def clean_error(res, code, message):
    """Exit `code`, the exact one-line message on stderr, and no traceback."""
    assert res.exit_code == code, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    assert message in res.stderr, res.stderr


def samples_rows(n_problems=2, n=3):
    return [{"problem_id": f"p{i}", "sample_index": j, "text": f"so \\boxed{{{i + j % 2}}}", "gold": str(i),
             "score": 0.5} for i in range(n_problems) for j in range(n)]


@pytest.fixture
def blocked(tmp_path):
    """An output path under a regular file: it can never be created (also as root)."""
    (tmp_path / "afile").write_text("x")
    return tmp_path / "afile"


# --- verify check ----------------------------------------------------------------------

def test_check_empty_pairs_file_is_an_error_not_a_pass(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    clean_error(run("check", "--pairs", empty, "--min-accuracy", "0.9"), 2, f"error: {empty}: no pairs in file")


@pytest.mark.parametrize("value", ["nan", "1.5", "-0.1"])
def test_check_min_accuracy_outside_0_1_is_rejected(tmp_path, value):
    pairs = jsonl(tmp_path / "p.jsonl", [{"gold": "1", "pred": "2"}])
    clean_error(run("check", "--pairs", pairs, "--min-accuracy", value), 2, "--min-accuracy must lie in [0, 1]")


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_check_timeout_must_be_positive(value):
    clean_error(run("check", "1", "1", "--timeout", value), 2, "--timeout must be a positive number")


def test_check_pairs_directory(tmp_path):
    clean_error(run("check", "--pairs", tmp_path), 2, f"error: {tmp_path}: is a directory, not a file")


# --- verify eval --samples ----------------------------------------------------------------

def test_eval_samples_directory(tmp_path):
    clean_error(run("eval", "--samples", tmp_path), 2, f"error: {tmp_path}: is a directory, not a file")


@pytest.mark.parametrize("field,value,message", [
    ("sample_index", "a", "s.jsonl:2: field 'sample_index': expected int, got str ('a')"),
    ("sample_index", -1, "s.jsonl:2: field 'sample_index': must be >= 0, got -1"),
    ("num_tokens", -5, "s.jsonl:2: field 'num_tokens': must be >= 0, got -5"),
    ("sample_index", 0, "s.jsonl:2: field 'sample_index': problem 'p0' sample 0 already appears on line 1"),
    ("steps", "abc", "s.jsonl:2: field 'steps': expected list, got str ('abc')"),  # was split into 'a', 'b', 'c'
    ("steps", ["a", 1], "s.jsonl:2: field 'steps': expected a list of strings"),
    ("meta", 5, "s.jsonl:2: field 'meta': expected dict, got int (5)"),  # was a TypeError traceback
    ("sampling", [], "s.jsonl:2: field 'sampling': expected dict, got list ([])"),
    ("prompt_tokens", -1, "s.jsonl:2: field 'prompt_tokens': must be >= 0, got -1"),
])
def test_eval_samples_bad_sample_fields_name_file_line_field(tmp_path, field, value, message):
    rows = samples_rows()
    rows[1][field] = value
    s = jsonl(tmp_path / "s.jsonl", rows)
    clean_error(run("eval", "--samples", s, "--method", "maj@3"), 2, message)


def test_eval_samples_duplicate_line_on_real_data(tmp_path, shared_data):
    """A samples file with one line repeated (say, a botched manual merge) used to be counted twice."""
    s = tmp_path / "s.jsonl"
    assert run("convert", shared_data / "qwen25math_rm_maj_example/math_cot_100.jsonl", "--format", "qwen-rm-maj",
               "--out", s).exit_code == 0
    lines = s.read_text().splitlines(keepends=True)
    s.write_text("".join(lines[:10] + [lines[3]] + lines[10:]))
    with pytest.raises(InputError, match=r"s.jsonl:11: field 'sample_index': problem '0' sample 3 already "
                                         r"appears on line 4"):
        read_traces(s)
    clean_error(run("eval", "--samples", s, "--method", "maj@8"), 2, "s.jsonl:11: field 'sample_index'")


@pytest.mark.parametrize("opt", ["--json", "--plot", "--per-problem"])
def test_eval_samples_unwritable_output_is_a_clean_error(tmp_path, blocked, opt):
    s = jsonl(tmp_path / "s.jsonl", samples_rows())
    clean_error(run("eval", "--samples", s, "--method", "maj@3", opt, blocked / "out"), 2,
                f"error: {blocked / 'out'}: cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "s.jsonl"]  # no stray temp files


def test_eval_samples_output_that_is_a_directory(tmp_path):
    s = jsonl(tmp_path / "s.jsonl", samples_rows())
    clean_error(run("eval", "--samples", s, "--method", "maj@3", "--json", tmp_path), 2,
                f"error: {tmp_path}: is a directory, not a file")


# --- verify eval (run mode) and verify sample -----------------------------------------------

CALLS = []


def counting_gen(prompt, n):
    CALLS.append(n)
    return ["1 + 1 = 2.\n\n\\boxed{2}"] * n


def test_eval_run_out_dir_is_a_file(blocked):
    clean_error(run("eval", "--backend", "callable", "--model", "tests.test_qa_cli:counting_gen", "--dataset",
                    "arith", "--limit", "2", "-n", "2", "--out-dir", blocked), 2,
                f"error: {blocked}: cannot create the run folder")


@pytest.mark.parametrize("where", ["dir", "blocked"])
def test_sample_bad_out_fails_before_the_generator_runs(tmp_path, blocked, where):
    out = tmp_path if where == "dir" else blocked / "s.jsonl"
    CALLS.clear()
    res = run("sample", "--backend", "callable", "--model", "tests.test_qa_cli:counting_gen", "--dataset", "arith",
              "--limit", "2", "-n", "2", "--out", out)
    clean_error(res, 2, f"error: {out}: ")
    assert CALLS == []


# --- verify prm ---------------------------------------------------------------------------

def test_prm_score_bad_paths(tmp_path, blocked):
    s = jsonl(tmp_path / "s.jsonl", samples_rows())
    clean_error(run("prm", "score", "--samples", tmp_path, "--prm", "arith", "--out", tmp_path / "o.jsonl"), 2,
                f"error: {tmp_path}: is a directory, not a file")
    clean_error(run("prm", "score", "--samples", s, "--prm", "arith", "--out", blocked / "o.jsonl"), 2,
                f"error: {blocked / 'o.jsonl'}: cannot write")
    clean_error(run("prm", "score", "--samples", s, "--prm", "arith", "--out", tmp_path), 2,
                f"error: {tmp_path}: is a directory, not a file")


def test_prm_eval_empty_file_and_unwritable_json(tmp_path, blocked):
    empty = tmp_path / "pb.jsonl"
    empty.write_text("\n")
    clean_error(run("prm", "eval", "--data", empty, "--prm", "arith", "--quiet"), 2,
                f"error: {empty}: no samples in file")
    pb = jsonl(tmp_path / "pb2.jsonl", [{"id": "a", "problem": "Q", "steps": ["2 * 3 = 6", "So 6."], "label": -1}])
    clean_error(run("prm", "eval", "--data", pb, "--prm", "arith", "--quiet", "--json", blocked / "r.json"), 2,
                f"error: {blocked / 'r.json'}: cannot write")


def test_prm_eval_undefined_metrics_print_n_a_not_nan(shared_data):
    """The first ProcessBench gsm8k samples all contain an error: accuracy on correct samples and
    F1 are undefined. They printed as `nan [nan, nan]` and `nan [0.000, 0.000]`."""
    res = run("prm", "eval", "--data", shared_data / "processbench/gsm8k.jsonl", "--prm", "arith", "--limit", "5",
              "--quiet", "--n-boot", "50")
    assert res.exit_code == 0, res.output
    assert "nan" not in res.stdout
    assert "  accuracy, correct samples     n/a  (0/0, Wilson 95% CI)\n" in res.stdout
    assert "  F1 (harmonic mean)            n/a  (bootstrap 95% CI)\n" in res.stdout


# --- verify analyze -------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["binomial", "--plot"], ["aime", "--plot"], ["aime", "--out"]])
def test_analyze_unwritable_outputs(blocked, args):
    out = blocked / "x.out"
    clean_error(run("analyze", *args, out), 2, f"error: {out}: cannot write")


def test_analyze_samples_directory(tmp_path):
    clean_error(run("analyze", "samples", tmp_path), 2, f"error: {tmp_path}: is a directory, not a file")


# --- the writers themselves ---------------------------------------------------------------------

def test_write_json_atomic_failure_leaves_nothing(tmp_path):
    target = tmp_path / "r.json"
    target.mkdir()
    with pytest.raises(InputError, match="is a directory"):
        write_json_atomic(target, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_check_writable_leaves_no_file(tmp_path, blocked):
    check_writable(tmp_path / "sub" / "new.jsonl")
    assert not (tmp_path / "sub" / "new.jsonl").exists()
    with pytest.raises(InputError, match="cannot write"):
        check_writable(blocked / "x.jsonl")


# --- numeric options: nan and out-of-range values were accepted silently ---------------------------

def test_eval_samples_n_boot_zero_is_a_usage_error(tmp_path):
    s = jsonl(tmp_path / "s.jsonl", samples_rows())
    res = run("eval", "--samples", s, "--method", "maj@3", "--n-boot", "0")  # was an IndexError traceback
    assert res.exit_code == 2 and "Traceback" not in res.output and "--n-boot" in res.output


@pytest.mark.parametrize("args,message", [
    (["--temperature", "-1"], "error: --temperature must be >= 0, got -1.0"),
    (["--temperature", "nan"], "error: --temperature must be >= 0, got nan"),
    (["--top-p", "2"], "error: --top-p must be > 0 and <= 1, got 2.0"),
    (["--top-p", "0"], "error: --top-p must be > 0 and <= 1, got 0.0"),
    (["--max-tokens", "0"], "error: --max-tokens must be >= 1, got 0"),
])
@pytest.mark.parametrize("command", ["eval", "sample"])
def test_sampling_options_out_of_range(tmp_path, command, args, message):
    CALLS.clear()
    out = ["--out-dir", tmp_path / "run"] if command == "eval" else ["--out", tmp_path / "s.jsonl"]
    res = run(command, "--backend", "callable", "--model", "tests.test_qa_cli:counting_gen", "--dataset", "arith",
              "--limit", "2", "-n", "2", *out, *args)
    clean_error(res, 2, message)
    assert CALLS == []


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_eval_run_price_must_be_non_negative(tmp_path, value):
    """`--price-in nan` used to sample and score everything, then fail writing results.json."""
    CALLS.clear()
    res = run("eval", "--backend", "callable", "--model", "tests.test_qa_cli:counting_gen", "--dataset", "arith",
              "--limit", "2", "-n", "2", "--out-dir", tmp_path / "run", "--price-in", value)
    clean_error(res, 2, f"error: --price-in must be >= 0, got {float(value)}")
    assert CALLS == []


# --- verify convert ----------------------------------------------------------------------------

def test_convert_to_a_directory_even_with_force(tmp_path):
    """`--out DIR --force` was an IsADirectoryError traceback (os.replace onto a folder)."""
    s = jsonl(tmp_path / "s.jsonl", samples_rows())
    (tmp_path / "outdir").mkdir()
    for extra in ([], ["--force"]):
        clean_error(run("convert", s, "--format", "verify", "--out", tmp_path / "outdir", *extra), 2,
                    f"error: {tmp_path / 'outdir'}: is a directory, not a file")


def test_convert_names_the_users_path_and_the_parent_that_is_a_file(tmp_path, blocked):
    """The error named our temp file (`x.jsonl.part`) and said only 'File exists'."""
    s = jsonl(tmp_path / "s.jsonl", samples_rows())
    clean_error(run("convert", s, "--format", "verify", "--out", blocked / "x.jsonl"), 2,
                f"error: {blocked / 'x.jsonl'}: cannot write ({blocked} is a file, not a folder)\n")


# --- verify analyze: nan printed a table of nan% with exit 0 --------------------------------------

@pytest.mark.parametrize("args", [["binomial", "--p", "nan"], ["pays", "--p", "0.5,nan"], ["binomial", "--p", "inf"]])
def test_analyze_p_must_be_finite(args):
    res = run("analyze", *args)
    assert res.exit_code == 2 and "nan%" not in res.output and "expected comma-separated numbers" in res.output


def test_analyze_pays_min_gain_nan():
    clean_error(run("analyze", "pays", "--n", "8", "--min-gain", "nan"), 2,
                "error: --min-gain must be a finite number of points, got nan")


# --- verify eval --samples: one method asked for twice, two ks of one family ------------------------

def test_eval_samples_same_method_twice_is_reported_once_and_curves_have_each_k_once(tmp_path):
    """`-m maj@3 -m majority@3 -m maj@n` printed three identical rows; `-m maj@2 -m maj@3 --json`
    wrote the majority curve twice (k = 1, 2, 3, 1, 2, 3), so the plot drew a line back to k = 1."""
    s = jsonl(tmp_path / "s.jsonl", samples_rows(n_problems=3, n=3))
    res = run("eval", "--samples", s, "--method", "maj@2", "--method", "maj@3", "--method", "majority@3", "--method", "maj@n",
              "--json", tmp_path / "r.json", "--plot", tmp_path / "r.png")
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [r["method"] for r in doc["results"]] == ["majority@2", "majority@3"]
    assert [p["k"] for p in doc["curves"]["majority|equivalence"]] == [1, 2, 3]
    assert [line.split()[0] for line in res.stdout.splitlines()[2:4]] == ["majority@2", "majority@3"]


# --- verify prm train: checked before a model is loaded ------------------------------------------

def test_prm_train_bad_data_or_base_model_path_fails_before_loading(tmp_path):
    """A directory as --data and a missing --base-model path used to load (or fetch) the model first
    and end in a transformers traceback."""
    data = jsonl(tmp_path / "d.jsonl", [{"question": "q", "steps": ["1 + 1 = 2"], "labels": [1]}])
    base = ["--format", "plain", "--out", tmp_path / "prm"]
    clean_error(run("prm", "train", "--data", tmp_path, "--base-model", "x", *base), 2,
                f"error: {tmp_path}: is a directory, not a file")
    clean_error(run("prm", "train", "--data", tmp_path / "no.jsonl", "--base-model", "x", *base), 2,
                f"error: {tmp_path / 'no.jsonl'}: file not found")
    clean_error(run("prm", "train", "--data", data, "--base-model", tmp_path / "nomodel", *base), 2,
                f"error: {tmp_path / 'nomodel'}: --base-model is not a model directory")
