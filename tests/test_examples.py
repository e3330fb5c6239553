"""Every code block in README.md and docs/*.md runs as written.

Blocks that run:
- ```python blocks: with `>>>` as doctests; otherwise as a script (exit 0), whose stdout must
  equal the ```text block that follows it after a line `prints`.
- shell blocks (```console, ```bash, or untagged starting with `$ `) with a command that starts
  with `verify` or `python`: each `$ ` command runs in bash in a temporary folder and what it
  prints (stdout and stderr) must be the lines shown under it; a line `...` stands for any
  lines, and numbers in lines that report time or speed may differ. A command must exit 0
  unless the next command is `echo $?` or the output shown is an `error: ...` line. ```bash blocks without
  `$ ` run as one script that must exit 0.

The temporary folder has `data/` (the project's own data, linked), an empty `docs/`, and
`../shared` linked to the shared data when that exists. A block may opt out only with a comment
right before it that says why: `<!-- no-run: REASON -->`; it shows up as a skipped test with
that reason. A block preceded by `<!-- needs: ../shared/data -->` runs only when the shared
data is there. The summary test prints how many blocks ran, opted out and waited for shared
data.

Run `python tests/test_examples.py [FILE...]` to see each block's real output next to the one
shown.
"""
from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
NO_RUN = re.compile(r"<!--\s*no-run:\s*(.*?)\s*-->")
NEEDS = re.compile(r"<!--\s*needs:\s*\.\./shared/data\s*-->")
SHELL_LANGS = {"console", "bash", "sh", "shell"}
TIMEOUT = 120


@dataclass
class Block:
    page: Path
    line: int                  # 1-based line of the opening fence
    lang: str
    text: str
    no_run: str | None = None  # the reason given, when the block opts out
    needs_shared: bool = False
    expected: str | None = None  # for a python script: the ```text block after "prints"

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str | None:
        """doctest | script | console | bash | None (not code we run: output, data)."""
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        if self.lang == "python" or (self.lang == "" and first.startswith(">>>")):
            return "doctest" if ">>>" in self.text else "script"
        commands = [c for c, _ in console_commands(self.text)]
        if self.lang in SHELL_LANGS or (self.lang == "" and first.startswith("$ ")):
            if commands:
                return "console" if any(_is_ours(c) for c in commands) else None
            if self.lang in ("bash", "sh", "shell") and any(_is_ours(l) for l in self.text.splitlines()):
                return "bash"
        return None


def _is_ours(command: str) -> bool:
    command = command.strip()
    if command.startswith("time "):
        command = command[5:].lstrip()
    return command.startswith(("verify ", "python"))


def parse_blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^( *)```(\w*)\s*$", lines[i])  # a fence, also indented inside a list item
        if not m:
            i += 1
            continue
        start, indent, lang = i, m.group(1), m.group(2)
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != indent + "```":
            j += 1
        body = [l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines[start + 1:j]]
        block = Block(page, start + 1, lang, "\n".join(body) + "\n")
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0:
            if (reason := NO_RUN.search(lines[k])):
                block.no_run = reason.group(1)
            block.needs_shared = bool(NEEDS.search(lines[k]))
        blocks.append(block)
        i = j + 1
    # a script's expected output: the ```text block right after it, introduced by "prints"
    for a, b in zip(blocks, blocks[1:]):
        between = lines[a.line + a.text.count("\n"):b.line - 1]
        if a.kind == "script" and b.lang == "text" and [l.strip() for l in between if l.strip()] == ["prints"]:
            a.expected = b.text
    return blocks


def console_commands(text: str) -> list[tuple[str, list[str]]]:
    """[(command, expected output lines)] of a console block; `\\` continues a command."""
    out: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("$ "):
            cmd = lines[i][2:]
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
            out.append((cmd, []))
        elif out:
            out[-1][1].append(lines[i])
        i += 1
    return out


def all_blocks() -> list[Block]:
    return [b for page in PAGES for b in parse_blocks(page) if b.kind]


def make_workdir(tmp: Path) -> Path:
    work = tmp / "work"
    work.mkdir()
    (work / "data").symlink_to(ROOT / "data")
    (work / "docs").mkdir()
    if SHARED.exists() and not (tmp / "shared").exists():
        (tmp / "shared").symlink_to(SHARED)
    return work


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1", TERM="dumb", COLUMNS="100",
               )
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


VOLATILE = re.compile(r"elapsed|tok/s|\d s\b|seconds")  # progress and timing lines: numbers vary run to run


def _mask(line: str) -> str:
    line = line.rstrip()
    return re.sub(r"\d+(\.\d+)?", "#", line) if VOLATILE.search(line) else line


def lines_match(expected: list[str], got: list[str]) -> bool:
    """Exact line match, where an expected line `...` stands for any number of lines; in lines
    that report time or speed (`elapsed`, `tok/s`, ...) the numbers may differ."""
    expected = [_mask(l) for l in expected]
    got = [_mask(l) for l in got]
    while expected and not expected[-1]:
        expected.pop()
    while got and not got[-1]:
        got.pop()
    if not expected:
        return not got
    if expected[0] == "...":
        return any(lines_match(expected[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and expected[0] == got[0] and lines_match(expected[1:], got[1:])


def run_block(block: Block, work: Path) -> list[tuple[str, str, str]]:
    """Run a block in `work`; returns [(what, expected, got)] for every mismatch."""
    env = _env()
    if block.kind == "doctest":
        test = doctest.DocTestParser().get_doctest(block.text, {}, block.name, str(block.page), block.line)
        failures: list[tuple[str, str, str]] = []

        class Report(doctest.DocTestRunner):
            def report_failure(self, out, test, example, got):
                failures.append((example.source.strip(), example.want, got))

            def report_unexpected_exception(self, out, test, example, exc_info):
                failures.append((example.source.strip(), example.want, repr(exc_info[1])))

        cwd = os.getcwd()
        os.chdir(work)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DeprecationWarning)  # no deprecated names in the docs
                Report(optionflags=doctest.ELLIPSIS).run(test, out=lambda s: None)
        finally:
            os.chdir(cwd)
        return failures
    if block.kind == "script":
        script = work / "example.py"
        script.write_text(block.text)
        env["PYTHONWARNINGS"] = "error::DeprecationWarning"  # an example using a deprecated name fails
        p = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        if p.returncode != 0:
            return [("exit status", "0", f"{p.returncode}\n{p.stderr[-3000:]}")]
        if block.expected is not None and not lines_match(block.expected.splitlines(), p.stdout.splitlines()):
            return [("printed output", block.expected, p.stdout)]
        return []
    if block.kind == "bash":
        p = subprocess.run(["bash", "-c", block.text], cwd=work, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        return [] if p.returncode == 0 else [("exit status", "0", f"{p.returncode}\n{p.stderr[-3000:]}")]
    commands = console_commands(block.text)
    script = ["__rc=0"]
    for n, (cmd, _) in enumerate(commands):
        script += [f"echo '@@{n}@@'", f"( exit $__rc ); {cmd} 2>&1", "__rc=$?", f"echo \"@@rc $__rc\""]
    p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, capture_output=True, text=True,
                       timeout=TIMEOUT * len(commands))
    parts = re.split(r"^@@\d+@@\n", p.stdout, flags=re.M)[1:]
    problems = []
    for n, ((cmd, want), part) in enumerate(zip(commands, parts)):
        body, _, rc = part.rpartition("@@rc ")
        rc = int(rc.strip() or -1)
        next_is_status = n + 1 < len(commands) and commands[n + 1][0].strip() == "echo $?"
        shows_error = any(l.startswith("error:") for l in want)  # the one-line error of bad input
        if rc != 0 and not next_is_status and not shows_error:
            problems.append((f"$ {cmd} (exit status)", "0", f"{rc}\n{body[-3000:]}"))
        elif not lines_match(want, body.splitlines()):
            problems.append((f"$ {cmd}", "\n".join(want), body))
    if len(parts) != len(commands):
        problems.append(("commands run", str(len(commands)), f"{len(parts)}\n{p.stderr[-2000:]}"))
    return problems


BLOCKS = all_blocks()


def test_every_block_runs_or_says_why():
    """Counts what runs; an opt-out without a reason, or a marker on nothing runnable, fails."""
    ran = [b for b in BLOCKS if not b.no_run and not b.needs_shared]
    opted = [b for b in BLOCKS if b.no_run]
    shared = [b for b in BLOCKS if b.needs_shared and not b.no_run]
    for b in opted:
        assert len(b.no_run) >= 10, f"{b.name}: a no-run marker must say why"
    print(f"\nexamples: {len(BLOCKS)} blocks; {len(ran)} run always, {len(shared)} when ../shared/data exists, "
          f"{len(opted)} opted out")
    for b in opted:
        print(f"  opted out {b.name}: {b.no_run}")
    assert len(ran) > len(opted), f"{len(opted)} blocks opt out against {len(ran)} that run"


def test_readme_test_command_is_what_ci_runs():
    """The README's second command is the line .ci/run runs, character for character."""
    ci = [l for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.rstrip().endswith("pytest -q")]
    assert len(ci) == 1, ".ci/run should have one install-and-test line ending in `pytest -q`"
    readme = [b.text.strip() for b in parse_blocks(ROOT / "README.md")[:2]]
    assert readme[1] == ci[0].strip(), f"README's test command:\n{readme[1]}\n.ci/run:\n{ci[0]}"
    assert readme[0].endswith("verify eval --method prm-best-of-8")


def test_architecture_page_matches_the_source():
    """docs/architecture.md's diagram is drawn from the real imports and its rules from test_architecture."""
    p = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_architecture.py"), "--check"], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.name)
def test_example_runs(block: Block, tmp_path: Path):
    """One test per block; an opted-out block is reported as skipped with its reason (-ra)."""
    if block.no_run:
        pytest.skip(f"opted out: {block.no_run}")
    if block.needs_shared and not (SHARED / "data").exists():
        pytest.skip("needs ../shared/data")
    problems = run_block(block, make_workdir(tmp_path))
    assert not problems, "\n\n".join(f"{block.name}: {what}\n--- shown\n{want}\n--- got\n{got}"
                                     for what, want, got in problems)


def real_console_text(block: Block, work: Path) -> str:
    """The console block as it should read: each command followed by what it really printed."""
    commands = console_commands(block.text)
    script = ["__rc=0"]
    for n, (cmd, _) in enumerate(commands):
        script += [f"echo '@@{n}@@'", f"( exit $__rc ); {cmd} 2>&1", "__rc=$?"]
    p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=_env(), capture_output=True, text=True,
                       timeout=TIMEOUT * len(commands))
    parts = re.split(r"^@@\d+@@\n", p.stdout, flags=re.M)[1:]
    shown = [l for l in block.text.splitlines()]
    out, n = [], 0
    i = 0
    while i < len(shown):
        if shown[i].startswith("$ "):
            out.append(shown[i])
            while shown[i].endswith("\\") and i + 1 < len(shown):
                i += 1
                out.append(shown[i])
            out += parts[n].rstrip("\n").splitlines() if n < len(parts) else []
            n += 1
        i += 1
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # show the real output of the blocks of the given pages; --write puts it in
    import tempfile

    write = "--write" in sys.argv
    pages = [Path(a).resolve() for a in sys.argv[1:] if a != "--write"] or PAGES
    for block in [b for b in BLOCKS if b.page in pages and not b.no_run]:
        with tempfile.TemporaryDirectory() as tmp:
            problems = run_block(block, make_workdir(Path(tmp)))
        print(f"== {block.name} [{block.kind}] {'ok' if not problems else 'DIFFERS'}")
        for what, want, got in problems:
            print(f"-- {what}\n--- shown\n{want}\n--- got\n{got}")
        if write and problems and block.kind == "console":
            with tempfile.TemporaryDirectory() as tmp:
                new = real_console_text(block, make_workdir(Path(tmp)))
            text = block.page.read_text()
            assert text.count(block.text) == 1, f"{block.name}: block text not unique"
            block.page.write_text(text.replace(block.text, new))
            print(f"-- wrote the real output into {block.name}")
