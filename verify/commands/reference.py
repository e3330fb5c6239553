"""docs/cli.md, generated from the typer app itself so the table cannot drift from the code.

    python -m verify.commands.reference > docs/cli.md

tests/test_cli_vocabulary.py fails when docs/cli.md differs from `render()`, and checks that
each shared flag name keeps its one meaning (`VOCABULARY`) in every command that has it.
"""
from __future__ import annotations

from typing import Any, Iterator

# flag -> its one meaning across commands (a command may lack the flag, never reuse it otherwise)
VOCABULARY: dict[str, str] = {
    "-m, --model": "the generator's model (path, hub id, served name, module:function or samples file); "
                   "`verify eval` names methods with `--method`",
    "--json PATH": "write the result as JSON to PATH; `-` prints it to stdout instead of the table "
                   "(`verify analyze`)",
    "--out PATH": "the main output file or folder of the command",
    "--format NAME": "the format of an input file (`verify`, `qwen-rm-maj`, `prm-scored`, `sal`; "
                     "`prm train`: its step-label formats)",
    "--n-boot N": "bootstrap resamples for the 95% confidence intervals",
    "--seed N": "the seed of everything random in the command",
    "-q, --quiet": "no progress line on stderr",
    "--threads N": "torch CPU threads (transformers backend, PRM training)",
    "--temperature, --top-p, --max-tokens": "sampling settings; defaults in the table below, one set "
                                            "for `sample` and `eval`",
    "--dataset, --split, --question-field, --answer-field, --id-field": "problems: a short name, a hub "
                                                                          "id or a local path, and how "
                                                                          "to read its rows",
    "--verbose": "(before the command) show third-party warnings, progress bars and load reports",
}

HEADER = """# Command-line reference

Every flag of every `verify` command, generated from the typer app by
`python -m verify.commands.reference > docs/cli.md` (a test fails when this page and the code
disagree). `verify --version` prints the version; `verify --verbose COMMAND ...` shows the
third-party warnings, progress bars and model-load reports that are hidden by default.

## Exit codes

| code | meaning |
|---|---|
| 0 | success |
| 1 | only where documented: `check` found the answers not equal, or `check --pairs` missed its `--min-accuracy` gate |
| 2 | bad input or usage: one line `error: ...` on stderr (file, line and field where there are any), no traceback |

An option that the chosen mode or backend would ignore is refused with exit 2 (for example
`--base-url` without `--backend openai`, or a run-mode option next to `eval --samples`).
GOLD and PRED of `verify check` may start with a minus: `verify check -3 '\\boxed{-3}'`.

## One meaning per flag

| flag | meaning everywhere |
|---|---|
"""

SAMPLING = """
## Problems: `--dataset`

`verify sample -d` and `verify eval --dataset` take a short name (`aime24`, `aime25`, `amc23`,
`math500`, `gsm8k`: aliases of their hub ids; `arith`: the project's own set), any Hugging Face
hub id (`-d HuggingFaceH4/MATH-500 --split test`), or a local JSONL/Parquet file or dataset
folder. Rows are read by the usual field names unless `--question-field`, `--answer-field` and
`--id-field` name others. Hub ids and folders need the `datasets` extra:

    pip install 'ttc-verify[datasets]'

Offline (`HF_HUB_OFFLINE=1`) only datasets already in the Hugging Face cache load; a local file
always does.

## Sampling defaults

`verify sample` and `verify eval` (run mode) share one set, `verify.sampling.base.SamplingParams`:

| option | default |
|---|---|
| `--temperature` | {temperature} |
| `--top-p` | {top_p} |
| `--max-tokens` | {max_tokens}, or the benchmark's own: {benchmark_max} |
"""


def _walk(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _walk(cmd, prefix + (name,))
        else:
            yield prefix + (name,), cmd


def commands() -> list[tuple[str, Any]]:
    """('verify check', click command) for every command of the app, in registration order."""
    import typer.main

    from verify.commands.app import app
    return [("verify " + " ".join(path), cmd) for path, cmd in _walk(typer.main.get_command(app))]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _row(param: Any) -> str:
    if param.param_type_name == "argument":
        name = f"`{param.name.upper()}`"
        value = ""
    else:
        names = sorted(param.opts, key=len) + list(param.secondary_opts)
        name = ", ".join(f"`{o}`" for o in names)
        value = "" if param.is_flag else param.display_type(None).strip("<>")
    default = ""
    if param.required:
        default = "required"
    elif param.param_type_name == "option" and not param.is_flag and param.default not in (None, [], ()):
        default = f"`{_cell(param.default if not isinstance(param.default, (list, tuple)) else ' '.join(map(str, param.default)))}`"
    help_text = getattr(param, "help", None) or ""
    return f"| {name} | {value} | {default} | {_cell(help_text)} |"


def render() -> str:
    """The whole of docs/cli.md."""
    from evals.benchmarks import BENCHMARKS
    from verify.sampling.base import SamplingParams

    d = SamplingParams()
    lines = [HEADER.rstrip("\n")]
    lines += [f"| {', '.join(f'`{f}`' for f in flag.split(', '))} | {_cell(meaning)} |"
              for flag, meaning in VOCABULARY.items()]
    own = ", ".join(f"{name} {b.max_tokens}" for name, b in BENCHMARKS.items() if b.max_tokens)
    lines.append(SAMPLING.format(temperature=d.temperature, top_p=d.top_p, max_tokens=d.max_tokens,
                                 benchmark_max=own).rstrip("\n"))
    for name, cmd in commands():
        summary = _cell((cmd.help or "").strip().split("\n\n")[0])
        lines += ["", f"## `{name}`", "", summary, "", "| flag | value | default | meaning |", "|---|---|---|---|"]
        lines += [_row(p) for p in cmd.params if p.name != "ctx"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
