"""The `verify` command line: a shim for the design card (the typer app lives in verify/commands/app.py).

Run as `verify ...` (console script `verify.commands.app:main`) or `python cli.py ...`.
"""
from verify.commands.app import app, main

__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
