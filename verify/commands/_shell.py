"""The command shell's one policy: exit codes, errors, refused options, negative arguments, noise.

Exit codes of every `verify` command:

    0  success
    1  only where a command documents it: `check` (not equal), a `--min-accuracy` gate not met
    2  bad input or usage: a one-line `error: ...` on stderr, no traceback

`fail` is the single way a command reports bad input. `refuse_unused` makes an option that
would be ignored in the chosen mode an error instead of a silent no-op. `DashArgsCommand`
lets positional arguments start with a minus (`verify check -3 '\\boxed{-3}'`).
"""
from __future__ import annotations

import os
import warnings
from typing import NoReturn

import typer
from typer.core import TyperCommand

EXIT_OK = 0
EXIT_NOT_MET = 1       # documented per command: `check` not equal, `--min-accuracy` not met
EXIT_BAD_INPUT = 2     # bad input or usage (click uses 2 for usage errors too)

BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off"})


def fail(message: object, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print `error: MESSAGE` on stderr and exit with `code` (2: bad input or usage)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def given(ctx: typer.Context, name: str) -> bool:
    """True if the user passed option `name` (the parameter name) on the command line or by env."""
    source = ctx.get_parameter_source(name)  # by name: typer vendors its own copy of click's enum
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def refuse_unused(ctx: typer.Context, names: list[str], why: str) -> None:
    """Exit 2 naming the first option in `names` the user gave although it would be ignored (`why`)."""
    for name in names:
        if given(ctx, name):
            param = next(p for p in ctx.command.params if p.name == name)
            flag = max(param.opts, key=len)
            fail(f"{flag} {why}")


class DashArgsCommand(TyperCommand):
    """A command whose positional arguments may start with '-' (negative numbers: `-1`, `-x`).

    Tokens are sorted before click parses them: declared options (with their values) stay in
    front, every other token becomes a positional after a `--`. A command using this class
    must declare no short option names other than the ones it matches exactly. A flag followed
    by a truth word (`--isolate true`) is refused: flags take no value.
    """

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._sort_args(ctx, list(args)))

    def _sort_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        takes_value, flags = set(), {}
        for p in self.get_params(ctx):
            if p.param_type_name == "option":  # typer's options are not click.Option subclasses
                if p.is_flag or p.count:
                    for o in p.opts:
                        flags[o] = (p.secondary_opts or [""])[0]
                else:
                    takes_value.update(p.opts + p.secondary_opts)
        options: list[str] = []
        positionals: list[str] = []
        i = 0
        while i < len(args):
            tok = args[i]
            if tok == "--":
                positionals += args[i + 1:]
                break
            if tok in takes_value:
                options += args[i:i + 2]
                i += 2
                continue
            if tok in flags:
                nxt = args[i + 1] if i + 1 < len(args) else ""
                if nxt.lower() in BOOL_WORDS:
                    other = f" (or {flags[tok]})" if flags[tok] else ""
                    fail(f"{tok} is a flag and takes no value: write {tok}{other}, not {tok} {nxt}")
                options.append(tok)
            elif tok.startswith("--") and tok != "--":
                options.append(tok)  # --name=value, or an unknown option click will name
            else:
                positionals.append(tok)  # includes '-', '-1', '-x': answers, not options
            i += 1
        return options + (["--"] + positionals if positionals else [])


_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))


def printable(text: str) -> str:
    """`text` with control characters escaped, so untrusted answers cannot drive the terminal.

    C0 and C1 controls, DEL and bidirectional overrides become `\\xNN` / `\\uNNNN`
    (newline and tab included: one result stays on one line).

    >>> printable("a\\x1b[31mb\\x07")
    'a\\\\x1b[31mb\\\\x07'
    """
    out = []
    for ch in text:
        c = ord(ch)
        if c < 0x20 or 0x7F <= c <= 0x9F:
            out.append(f"\\x{c:02x}")
        elif c in _BIDI:
            out.append(f"\\u{c:04x}")
        else:
            out.append(ch)
    return "".join(out)


def quiet_third_party() -> None:
    """Silence other libraries' progress bars, deprecation warnings and load reports.

    Called by the `verify` app unless `--verbose` is given, before any heavy import, since
    huggingface_hub and transformers read these variables when they are imported. Our own
    progress lines are unaffected (they do not use tqdm). Values the user set are kept.
    """
    for key, value in (("TRANSFORMERS_VERBOSITY", "error"),          # load reports, advisory warnings
                       ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"),
                       ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),         # hub downloads, transformers' bars
                       ("TQDM_DISABLE", "1"),                        # GGUF de-quantisation bar (bare tqdm)
                       ("VLLM_LOGGING_LEVEL", "WARNING"),
                       ("TF_CPP_MIN_LOG_LEVEL", "3")):
        os.environ.setdefault(key, value)
    for category in (DeprecationWarning, FutureWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category,
                                module=r"(transformers|torch|huggingface_hub|accelerate|peft|vllm|datasets)(\.|$)")
