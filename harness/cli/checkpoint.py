"""`harness checkpoint`: vendor checkpoint.json beside a vendored config, print the claim."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import HarnessError
from .common import add_native_class, hub_token, say

if TYPE_CHECKING:
    from ..pipeline.checkpoint import CheckpointSummary

__all__ = ["add_parser", "recorded_summary", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness checkpoint`."""
    checkpoint = commands.add_parser(
        "checkpoint",
        help="vendor checkpoint.json (the Hub's safetensors totals) beside a vendored config and "
        "print the filled checkpoint_params claim",
    )
    checkpoint.add_argument("hf_id", help="Hub id (org/name) whose config is vendored")
    checkpoint.add_argument(
        "--cases-dir", help="folder of case files (default: the nearest cases/, else ./cases)"
    )
    checkpoint.add_argument(
        "--offline", action="store_true", default=None, help="never touch the network"
    )
    checkpoint.add_argument(
        "--total", type=int, help="a recorded Hub safetensors total instead of reading the Hub"
    )
    checkpoint.add_argument("--source", help="with --total: where it is recorded (URL@commit)")
    checkpoint.add_argument("--revision", help="with --total: the revision it was recorded at")
    checkpoint.add_argument(
        "--dtype-count",
        action="append",
        metavar="DTYPE=COUNT",
        help="with --total: a recorded per-dtype count (repeat for each dtype)",
    )
    add_native_class(checkpoint)
    checkpoint.set_defaults(func=run)


def recorded_summary(args: argparse.Namespace) -> CheckpointSummary | None:
    """The summary `--total`, `--source` and `--dtype-count` record, or None without --total."""
    from ..pipeline.checkpoint import CheckpointSummary

    if args.total is None:
        return None
    if not args.source:
        raise HarnessError("--total needs --source: the page or file that records it")
    counts = {}
    for item in args.dtype_count or []:
        dtype, _, value = item.partition("=")
        if not dtype or not value.isdigit():
            raise HarnessError(f"--dtype-count {item!r} is not DTYPE=COUNT (BF16=123)")
        counts[dtype] = int(value)
    return CheckpointSummary(
        hf_id=args.hf_id,
        revision=args.revision,
        total=args.total,
        parameters=counts,
        obtained="recorded-scrape",
        source=args.source,
        note="recorded from a public scrape of the Hub API; no safetensors headers were read",
    )


def run(args: argparse.Namespace) -> int:
    """Vendor the summary, print the reconciliation and the filled claim."""
    from ..pipeline.cases import find_cases_dir
    from ..pipeline.reconcile import reconcile
    from ..scaffold import checkpoint_claim_lines, vendor_checkpoint

    recorded = recorded_summary(args)
    cases_dir = args.cases_dir or find_cases_dir() or "cases"
    path, summary, result = vendor_checkpoint(
        args.hf_id,
        cases_dir=cases_dir,
        offline=args.offline,
        token=hub_token(),
        recorded=recorded,
        native_class=args.native_class,
    )
    say(f"wrote {path}")
    say(*reconcile(result.inspection, result.structure, summary).lines())
    say("the claim for the case's facts:")
    say(*checkpoint_claim_lines(args.hf_id, result, summary))
    return 0
