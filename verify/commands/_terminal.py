"""Terminal safety for every command: untrusted text cannot drive the terminal.

File names, answers, reasons, model names and error messages all reach stdout and stderr.
Rather than escaping at each of the many places that print them, the `verify` app wraps
both streams once (`escape_streams`, called by the app's root callback): every control
character is written as ``\\xNN`` (see `verify.commands._shell.printable`), except newline
and tab, and a carriage return or ``\\r\\x1b[K`` at the very start of a write, which is how
our own progress lines redraw themselves. So ``ESC ] 0;title BEL`` in a file name or a model
answer prints as ``\\x1b]0;title\\x07`` and retitles nothing.
"""
from __future__ import annotations

import io
import re
import sys
from typing import TextIO

from verify.commands._shell import printable

_REDRAW = ("\r\x1b[K", "\r")  # our own progress redraw, allowed only at the start of a write
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # what printable escapes, but \t \n


def escape_text(text: str) -> str:
    r"""`text` with control characters escaped, keeping newlines, tabs and a leading redraw.

    >>> escape_text("\r\x1b[Kok \x1b]0;pwned\x07\n")
    '\r\x1b[Kok \\x1b]0;pwned\\x07\n'
    """
    head = next((r for r in _REDRAW if text.startswith(r)), "")
    body = text[len(head):]
    if not _CONTROL.search(body):  # the common case: nothing to escape, no per-character loop
        return text
    return head + "\n".join("\t".join(printable(part) for part in line.split("\t")) for line in body.split("\n"))


class EscapingStream(io.TextIOBase):
    """A text stream that escapes control characters (`escape_text`) before writing."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(escape_text(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.stream, "errors", None)


def escape_streams() -> None:
    """Wrap sys.stdout and sys.stderr in `EscapingStream` (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, EscapingStream):
            setattr(sys, name, EscapingStream(stream))
