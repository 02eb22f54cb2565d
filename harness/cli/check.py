"""`harness check`: audit a hand-written Mantile config against the dry run of its model."""

from __future__ import annotations

import argparse

from .common import add_native_class, hub_token, say, say_json

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness check`."""
    check = commands.add_parser(
        "check", help="audit a hand-written Mantile config against the dry run of its model"
    )
    check.add_argument("config", help="the Mantile config JSON file to check")
    check.add_argument(
        "--model",
        help="HF id (or config.json path) of the model it describes; default: the config's "
        "hf_model_id, else its model_id, file name or name matched to a vendored model",
    )
    check.add_argument(
        "--layers-dir",
        help="the classes Mantile's loader knows, read from this folder (e.g. a Mantile "
        "checkout's backend/layers) instead of the catalog; files are read, never imported",
    )
    check.add_argument(
        "--offline", action="store_true", default=None, help="never touch the network"
    )
    check.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    add_native_class(check)
    check.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Audit the file and print the findings; the exit status says the worst level found."""
    from ..audit import audit_file

    report = audit_file(
        args.config,
        args.model,
        offline=args.offline,
        token=hub_token(),
        layers_dir=args.layers_dir,
        native_class=args.native_class,
    )
    if args.json:
        say_json(report.as_dict())
    else:
        say(*report.lines())  # a newline inside an entry name is escaped, never a new line
    return report.exit_status
