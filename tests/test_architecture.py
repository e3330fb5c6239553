"""The import directions of docs/architecture.md, enforced on the source (AST, nothing imported).

`FORBIDDEN` is the rule table the architecture page quotes: a room (a package or folder)
must not import from the rooms listed for it, anywhere in its files (inside functions too).
`HEAVY` modules must not be imported at module level anywhere in the core (`verify/`, `prm/`,
`evals/`): only inside the function that needs them, so `import verify`, `verify --help` and
`verify check` never load torch. `EXCEPTIONS` lists the known, dated departures.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ("verify", "prm", "evals")

# room -> rooms it must not import (a room is a package prefix; "prm" covers prm.*)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "verify.records": ("verify.checker", "verify.select", "verify.analytic", "verify.sampling", "verify.rewards",
                       "verify.commands", "verify.api", "prm", "evals"),
    "verify.checker": ("verify.select", "verify.analytic", "verify.sampling", "verify.rewards", "verify.commands",
                       "verify.api", "prm", "evals"),
    "verify.select": ("verify.analytic", "verify.sampling", "verify.rewards", "verify.commands", "verify.api",
                      "prm", "evals"),
    "verify.analytic": ("verify.sampling", "verify.rewards", "verify.commands", "verify.api", "prm", "evals"),
    "verify.sampling": ("verify.analytic", "verify.rewards", "verify.commands", "verify.api", "prm", "evals"),
    "verify.rewards": ("verify.sampling", "verify.commands", "verify.api", "prm", "evals"),
    "prm": ("verify.commands", "verify.api", "evals"),
    "evals": ("verify.commands", "verify.api"),
}
HEAVY = ("torch", "transformers", "vllm")

# (file, imported module) -> why it is allowed for now
EXCEPTIONS: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import in the file.

    For `from a import b` both `a` and `a.b` are listed (b may be a submodule). Imports under
    `if TYPE_CHECKING:` are skipped: they never run.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module, is_package = _module_name(path), path.name == "__init__.py"
    out: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                out.extend((a.name, child.lineno, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                mod = _resolve(child, module, is_package)
                out.append((mod, child.lineno, top))
                out.extend((f"{mod}.{a.name}", child.lineno, top) for a in child.names if a.name != "*")
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, top and not nested)

    visit(tree, True)
    return out


def _in(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


def _files(*rooms: str) -> list[Path]:
    out = []
    for room in rooms:
        folder = ROOT.joinpath(*room.split("."))
        if folder.is_dir():
            out += sorted(folder.rglob("*.py"))
        elif folder.with_suffix(".py").is_file():
            out.append(folder.with_suffix(".py"))
    return out


def violations() -> list[str]:
    """Every broken rule, as 'file:line: room imports module' lines (empty: the house holds)."""
    found: dict[tuple[str, int], str] = {}  # one line per import statement: the first name it breaks on
    for room, banned in FORBIDDEN.items():
        for path in _files(room):
            rel = path.relative_to(ROOT).as_posix()
            for mod, line, _ in imports(path):
                hit = next((b for b in banned if _in(mod, b)), None)
                if hit and (rel, mod) not in EXCEPTIONS and (rel, mod.rsplit(".", 1)[0]) not in EXCEPTIONS:
                    found.setdefault((rel, line), f"{rel}:{line}: {room} must not import {hit} ({mod})")
    for path in _files(*CORE):
        rel = path.relative_to(ROOT).as_posix()
        for mod, line, top in imports(path):
            if top and any(_in(mod, h) for h in HEAVY):
                found.setdefault((rel, line), f"{rel}:{line}: module-level import of {mod} "
                                              "(import it inside the function)")
    return sorted(found.values())


def test_import_directions_hold():
    assert violations() == []


def test_every_room_in_the_table_exists():
    for room in list(FORBIDDEN) + [b for banned in FORBIDDEN.values() for b in banned]:
        path = ROOT.joinpath(*room.split("."))
        assert path.is_dir() or path.with_suffix(".py").is_file(), room
    for (rel, mod), why in EXCEPTIONS.items():
        assert any(m == mod for m, _, _ in imports(ROOT / rel)), f"stale exception {rel} -> {mod}: {why}"


@pytest.mark.parametrize("source,room,expected", [
    ("from verify.sampling.base import SamplingParams\n", "verify.checker",
     ["verify/checker/_probe.py:1: verify.checker must not import verify.sampling (verify.sampling.base)"]),
    ("def f():\n    import prm.scorers\n", "verify.sampling",
     ["verify/sampling/_probe.py:2: verify.sampling must not import prm (prm.scorers)"]),
    ("from ..sampling import base\n", "verify.checker",
     ["verify/checker/_probe.py:1: verify.checker must not import verify.sampling (verify.sampling)"]),
    ("import torch\n", "evals", ["evals/_probe.py:1: module-level import of torch (import it inside the function)"]),
    ("try:\n    from transformers import AutoModel\nexcept ImportError:\n    pass\n", "prm",
     ["prm/_probe.py:2: module-level import of transformers (import it inside the function)"]),
    ("def load():\n    import torch\n", "evals", []),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n", "prm", []),
])
def test_the_checker_catches_what_it_should(tmp_path, monkeypatch, source, room, expected):
    """The rules find a planted import (top level, in a function, relative, under try) and pass lazy ones."""
    fake = tmp_path / "root"
    folder = fake.joinpath(*room.split("."))
    folder.mkdir(parents=True)
    (folder / "_probe.py").write_text(source)
    monkeypatch.setitem(globals(), "ROOT", fake)
    monkeypatch.setitem(globals(), "EXCEPTIONS", {})
    assert violations() == expected


def test_cli_py_is_a_thin_shim():
    tree = ast.parse((ROOT / "cli.py").read_text())
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    assert not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in body)
    imported = [n for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [(n.module, sorted(a.name for a in n.names)) for n in imported] == [("verify.commands.app", ["app", "main"])]
    assert len(body) <= 3  # the import, __all__, the __main__ guard


def test_the_command_line_loads_nothing_heavy():
    """`verify --help` and `verify check` import the app: it must not pull numpy, torch or the samplers."""
    import subprocess
    import sys
    code = ("import sys, verify.commands.app\n"
            "print(sorted(m for m in ('numpy', 'scipy', 'torch', 'transformers', 'vllm', 'datasets', "
            "'verify.sampling', 'prm', 'evals') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert (out.returncode, out.stdout) == (0, "[]\n"), out.stderr
