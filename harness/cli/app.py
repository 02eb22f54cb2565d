"""The `harness` command: one sub-command per module, errors turned into one line and exit status 2.

Each command module has `add_parser(commands)`, which registers its sub-command with its options
and command function, and the command function itself, which computes and then prints. `main`
parses, runs the function, and is the one place a HarnessError becomes a message.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from ..errors import HarnessError, printable
from . import (
    add,
    bench,
    build,
    cache,
    check,
    checkpoint,
    coverage,
    gaps,
    inspection,
    layers,
    validate,
)

__all__ = ["COMMANDS", "build_parser", "main"]

EXIT_ERROR = 2
EXIT_CLOSED_PIPE = 1  # as Python itself exits when stdout's reader has gone
# The sub-commands, in the order `harness --help` lists them.
COMMANDS = (
    inspection,
    build,
    validate,
    gaps,
    add,
    checkpoint,
    layers,
    check,
    cache,
    bench,
    coverage,
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to look, without the usage block."""

    def error(self, message: str) -> NoReturn:
        """Print `<prog>: error: <message>; see <prog> --help` and exit with status 2."""
        hint = f"see `{self.prog} --help`"
        self.exit(EXIT_ERROR, f"{self.prog}: error: {_one_line(message)}; {hint}\n")


def _one_line(text: str) -> str:
    return printable(" ".join(text.split("\n")))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = _Parser(
        prog="harness",
        description="Conformance harness for Mantile-style LLM model configs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a HarnessError becomes one line on stderr and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        status = func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
        return status
    except BrokenPipeError:
        return _closed_pipe()
    except HarnessError as exc:
        print(f"harness {args.command}: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_ERROR


def _closed_pipe() -> int:
    """The reader of stdout went away (`harness validate X | head -1`): stop quietly.

    Python's documented recipe: point stdout at devnull so the interpreter's last flush of the
    unwritten rest cannot raise a second BrokenPipeError, and exit with status 1.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_CLOSED_PIPE
