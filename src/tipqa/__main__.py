"""`python -m tipqa`: the same command as `tipqa` (cli.py)."""
from .cli import cli

cli(prog_name="tipqa")
