"""`harness gaps`: regenerate gaps/*.md for every case (or only the given models)."""

from __future__ import annotations

import argparse

from .common import add_no_cache, hub_token, say

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness gaps`."""
    gaps = commands.add_parser(
        "gaps", help="regenerate gaps/*.md for every case (or only the given models)"
    )
    gaps.add_argument("models", nargs="*", help="HF ids or config paths (default: every case)")
    gaps.add_argument("--cases-dir", default="cases", help="folder of case files (default: cases)")
    gaps.add_argument("--out", default="gaps", help="output folder (default: gaps)")
    gaps.add_argument(
        "--offline", action="store_true", default=None, help="never touch the network"
    )
    add_no_cache(gaps)
    gaps.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the models (or every case), write the reports, say what changed per file."""
    from ..api import build_model_config
    from ..gaps import case_results, write_gap_reports

    use_cache = not args.no_cache
    if args.models:
        results = [
            build_model_config(m, offline=args.offline, token=hub_token(), use_cache=use_cache)
            for m in args.models
        ]
    else:
        results = case_results(args.cases_dir, use_cache=use_cache)
    files = write_gap_reports(results, args.out, prune=not args.models)
    say(*(f"{file.change.value:<9} {file.path}" for file in files))
    return 0
