"""One vocabulary across commands (issue 16.2), checked on the typer app itself, and
docs/cli.md, which is generated from the app (`python -m verify.commands.reference`)."""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from verify.commands.reference import VOCABULARY, commands, render
from verify.sampling.base import SamplingParams

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def _options():
    for name, cmd in commands():
        for p in cmd.params:
            if p.param_type_name == "option":
                yield name, p


def test_docs_cli_md_is_the_generated_table():
    assert DOC.read_text() == render(), "regenerate: python -m verify.commands.reference > docs/cli.md"


def test_each_short_name_means_one_long_option():
    long_of = defaultdict(set)
    for _, p in _options():
        shorts = [o for o in p.opts if not o.startswith("--")]
        longs = [o for o in p.opts if o.startswith("--")] or shorts
        for s in shorts:
            long_of[s].add(longs[0])
    assert {s: sorted(v) for s, v in long_of.items() if len(v) > 1} == {}
    assert long_of["-m"] == {"--model"} and long_of["-q"] == {"--quiet"}


def test_a_flag_name_is_a_flag_everywhere_or_nowhere():
    kinds = defaultdict(set)
    for name, p in _options():
        kinds[max(p.opts, key=len)].add("flag" if p.is_flag else "value")
    assert {o: k for o, k in kinds.items() if len(k) > 1} == {}
    assert kinds["--json"] == {"value"} and kinds["--quiet"] == {"flag"} and kinds["--n-boot"] == {"value"}


def test_renamed_flags_are_gone():
    names = {o for _, p in _options() for o in p.opts}
    assert "--bootstrap" not in names
    for name, p in _options():
        if "--method" in p.opts:
            assert p.opts == ["--method"], name


def test_every_vocabulary_flag_exists():
    names = {o for _, p in _options() for o in p.opts} | {"--verbose"}
    for flags in VOCABULARY:
        for flag in re.findall(r"-{1,2}[a-z][a-z-]*", flags):
            assert flag in names, flag


def test_sample_and_eval_share_the_sampling_defaults():
    d = SamplingParams()
    cmds = dict(commands())
    for cmd_name in ("verify sample", "verify eval"):
        params = {p.name: p for p in cmds[cmd_name].params}
        for name in ("temperature", "top_p", "max_tokens"):
            assert params[name].default is None, (cmd_name, name)  # filled in from SamplingParams at run time
        assert params["temperature"].help.endswith(f"[default: {d.temperature}]")
        assert params["top_p"].help.endswith(f"[default: {d.top_p}]")
        assert f"else {d.max_tokens}]" in params["max_tokens"].help
        assert {"threads", "quiet", "split", "question_field", "answer_field", "id_field"} <= set(params)


@pytest.mark.parametrize("dataset,given,expected", [
    ("arith", (None, None, None), (0.7, 1.0, 160)),
    ("math500", (None, None, None), (0.7, 1.0, 512)),
    ("HuggingFaceH4/MATH-500", (0.0, 0.9, 64), (0.0, 0.9, 64)),
])
def test_sampling_values(dataset, given, expected):
    from verify.commands._options import sampling_values
    assert sampling_values(dataset, *given) == expected


def test_help_renders_flags_without_a_type():
    r = CliRunner().invoke(app, ["check", "--help"])
    assert "  --isolate      " in r.stdout and "<bool>" not in r.stdout
