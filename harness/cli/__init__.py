"""The `harness` command: one module per sub-command, assembled and run by `cli.app`."""

from .app import build_parser, main
from .validate import validation_table

__all__ = ["build_parser", "main", "validation_table"]
