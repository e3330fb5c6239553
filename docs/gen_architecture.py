"""Draw the rooms of the project and the imports between them, from the real source.

    python docs/gen_architecture.py            # print the mermaid diagram and the rules table
    python docs/gen_architecture.py --write    # put both into docs/architecture.md
    python docs/gen_architecture.py --check    # exit 1 if docs/architecture.md shows others

A room is a package (`verify/checker/`, `prm/`, ...) or, for the loose modules directly in
`verify/`, the room `verify (core)`. An arrow A --> B means some module of A imports a module
of B at import time; a dotted arrow means the import only happens inside a function (lazily).
Third-party heavy stacks (torch, transformers, vllm) are drawn as one node each. The rules
table comes from tests/test_architecture.py, which enforces it.
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("verify", "prm", "evals")
HEAVY = ("torch", "transformers", "vllm")
BEGIN, END = "```mermaid", "```"
RULES_BEGIN, RULES_END = "<!-- rules: made by docs/gen_architecture.py -->", "<!-- /rules -->"


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
            ids[name] = re.sub(r"\W+", "_", name).strip("_")
            shape = f'[("{name}")]' if name in HEAVY else f'["{name}"]'
            lines.append(f"    {ids[name]}{shape}")
        return ids[name]
    for (a, b), eager in sorted(edges().items()):
        ia, ib = node(a), node(b)
        lines.append(f"    {ia} {'-->' if eager else '-.->'} {ib}")
    return "\n".join(lines)


def rules_table() -> str:
    """The import rules of tests/test_architecture.py (FORBIDDEN, HEAVY, EXCEPTIONS) as a table."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_arch_rules", ROOT / "tests" / "test_architecture.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = ["| room | must not import (anywhere, lazily either) |", "|---|---|"]
    rows += [f"| `{room}` | {', '.join(f'`{r}`' for r in banned)} |" for room, banned in mod.FORBIDDEN.items()]
    rows.append(f"| `verify`, `prm`, `evals` | {', '.join(f'`{h}`' for h in mod.HEAVY)} at module level (only inside "
                "the function that needs them) |")
    if mod.EXCEPTIONS:
        rows += ["", "Known exceptions:", ""]
        rows += [f"- `{f}` imports `{m}`: {why}" for (f, m), why in mod.EXCEPTIONS.items()]
    else:
        rows += ["", "Known exceptions: none."]
    return "\n".join(rows)


def page_rules(page: Path) -> str | None:
    text = page.read_text()
    if RULES_BEGIN not in text:
        return None
    return text.split(RULES_BEGIN, 1)[1].split(RULES_END, 1)[0].strip("\n")


def page_diagram(page: Path) -> str | None:
    text = page.read_text()
    if BEGIN not in text:
        return None
    body = text.split(BEGIN, 1)[1]
    return body.split("\n" + END, 1)[0].strip("\n")


if __name__ == "__main__":
    page = ROOT / "docs" / "architecture.md"
    if "--check" in sys.argv:
        if page_diagram(page) != mermaid() or page_rules(page) != rules_table():
            print("docs/architecture.md differs from the source; run `python docs/gen_architecture.py --write`",
                  file=sys.stderr)
            sys.exit(1)
    elif "--write" in sys.argv:
        text = page.read_text()
        a = text.index(BEGIN) + len(BEGIN) + 1
        text = text[:a] + mermaid() + text[text.index("\n" + END, a):]
        a = text.index(RULES_BEGIN) + len(RULES_BEGIN) + 1
        text = text[:a] + rules_table() + "\n" + text[text.index(RULES_END, a):]
        page.write_text(text)
    else:
        print(mermaid())
        print()
        print(rules_table())
