"""Thin typer commands: parse options, call one library function, print.

Each module here imports its heavy dependencies inside the command function so that
`verify --help` and `verify check` never import torch or vllm.
"""
