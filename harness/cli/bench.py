"""`harness bench`: time inspection against accelerate, the conformance suite and the sweep."""

from __future__ import annotations

import argparse

from ..errors import HarnessError

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness bench` and its options."""
    from ..bench import DEFAULT_OUT

    parser = commands.add_parser(
        "bench", help="time inspection vs accelerate, the conformance suite cold/warm, coverage"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per model and side; the median counts (5)"
    )
    parser.add_argument(
        "--suite-repeat", type=int, default=3, help="cold and warm suite runs each (3)"
    )
    parser.add_argument(
        "--model",
        action="append",
        dest="models",
        help="time only this HF id (repeatable; default: every case in cases/)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        choices=("models", "suite", "coverage"),
        default=[],
        help="leave a part out (repeatable)",
    )
    parser.add_argument(
        "--out", default=str(DEFAULT_OUT), help=f"JSON results file (default: {DEFAULT_OUT})"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table, write the JSON; exit 1 when a suite run failed."""
    from ..bench import run_bench, write_report
    from ..pipeline.cases import find_cases_dir, load_cases

    if args.repeat < 1 or args.suite_repeat < 1:
        raise HarnessError("--repeat and --suite-repeat must be at least 1")
    cases_dir = find_cases_dir()
    if cases_dir is None:
        raise HarnessError(
            "harness bench found no cases/ folder here or above; run it inside the repository"
        )
    models = args.models or [case.hf_id for case in load_cases(cases_dir)]
    report = run_bench(
        models,
        repeat=args.repeat,
        suite_repeat=args.suite_repeat,
        root=cases_dir.parent,
        skip=args.skip,
    )
    print("\n".join(report.lines()))
    print(f"wrote {write_report(report, args.out)}")
    return 0 if report.suite is None or report.suite.passed else 1
