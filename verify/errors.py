"""Errors that name where bad input came from (file, line, field)."""
from __future__ import annotations


class VerifyError(Exception):
    """Base class for errors raised by `verify` on bad input or configuration."""


class InputError(VerifyError):
    """Bad input data, located by file, 1-based line and field when known.

    >>> str(InputError("no 'gold' field", path="s.jsonl", line=3, field="gold"))
    "s.jsonl:3: field 'gold': no 'gold' field"
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.message = message
        self.path = path
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        if self.field is not None:
            where += f"field {self.field!r}: "
        return where + self.message


class UnknownSpecError(VerifyError, ValueError):
    """An unknown name in a registry (method, backend, dataset, PRM spec)."""
