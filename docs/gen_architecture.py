"""Draw the rooms of the project and the imports between them, from the real source.

    python docs/gen_architecture.py            # print the mermaid diagram
    python docs/gen_architecture.py --check    # exit 1 if docs/architecture.md shows another one

A room is a package (`verify/checker/`, `prm/`, ...) or, for the loose modules directly in
`verify/`, the room `verify (core)`. An arrow A --> B means some module of A imports a module
of B at import time; a dotted arrow means the import only happens inside a function (lazily).
Third-party heavy stacks (torch, transformers, vllm) are drawn as one node each.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("verify", "prm", "evals")
HEAVY = ("torch", "transformers", "vllm")
BEGIN, END = "```mermaid", "```"


def room_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] in HEAVY:
        return parts[0]
    if parts[0] == "cli":
        return "cli.py"
    if module == "verify.__main__":  # `python -m verify` is the command shell's door
        return "verify.commands"
    if parts[0] not in PACKAGES:
        return None
    if parts[0] == "verify" and len(parts) > 1 and (ROOT / "verify" / parts[1]).is_dir():
        return f"verify.{parts[1]}"
    return "verify (core)" if parts[0] == "verify" else parts[0]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, here: str):
    """(module, lazy) for every import; lazy = inside a function body."""
    def walk(node, lazy):
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for a in child.names:
                    yield a.name, lazy
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = here.split(".")[: len(here.split(".")) - child.level + 1]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                yield mod, lazy
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                continue  # typing-only imports are not imports at run time
            else:
                yield from walk(child, inner)
    yield from walk(tree, False)


def _is_type_checking(test: ast.AST) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def edges() -> dict[tuple[str, str], bool]:
    """(from room, to room) -> True when at least one import of that pair is at import time."""
    out: dict[tuple[str, str], bool] = {}
    files = [ROOT / "cli.py"] + sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))
    for path in files:
        here = _module_name(path)
        src = room_of(here)
        for mod, lazy in _imports(ast.parse(path.read_text(), str(path)), here):
            dst = room_of(mod)
            if dst is None or dst == src:
                continue
            out[(src, dst)] = out.get((src, dst), False) or not lazy
    return out


def mermaid() -> str:
    lines = ["graph TD"]
    ids = {}
    def node(name):
        if name not in ids:
            ids[name] = f"n{len(ids)}"
            shape = f'[("{name}")]' if name in HEAVY else f'["{name}"]'
            lines.append(f"    {ids[name]}{shape}")
        return ids[name]
    for (a, b), eager in sorted(edges().items()):
        ia, ib = node(a), node(b)
        lines.append(f"    {ia} {'-->' if eager else '-.->'} {ib}")
    return "\n".join(lines)


def page_diagram(page: Path) -> str | None:
    text = page.read_text()
    if BEGIN not in text:
        return None
    body = text.split(BEGIN, 1)[1]
    return body.split("\n" + END, 1)[0].strip("\n")


if __name__ == "__main__":
    diagram = mermaid()
    if "--check" in sys.argv:
        shown = page_diagram(ROOT / "docs" / "architecture.md")
        if shown != diagram:
            print("docs/architecture.md: the diagram differs from the imports; paste the output of "
                  "`python docs/gen_architecture.py`", file=sys.stderr)
            sys.exit(1)
    else:
        print(diagram)
