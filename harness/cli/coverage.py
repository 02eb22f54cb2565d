"""`harness coverage`: every registered architecture through the harness, its files, its gate."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness coverage`."""
    coverage = commands.add_parser(
        "coverage",
        help="run every causal-LM and image-text-to-text architecture of the installed "
        "transformers through the harness; write coverage/README.md and coverage.json",
    )
    coverage.add_argument(
        "--jobs", type=int, help="worker processes (default: all cores, os.cpu_count())"
    )
    coverage.add_argument("--out", default="coverage", help="output folder (default: coverage)")
    coverage.add_argument("--quiet", action="store_true", help="no progress bar")
    coverage.add_argument(
        "--timings", action="store_true", help="print seconds per architecture (never written)"
    )
    coverage.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the files differ from a fresh sweep",
    )
    coverage.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """`harness coverage`: sweep, write (or --check) the files, print figures and gate problems."""
    from ..coverage import MAX_UNKNOWN_SHARE, load_overrides, summary, sweep
    from ..coverage_gate import gate_problems, load_allowlist
    from ..coverage_report import expected_files, timings_lines, write_coverage

    progress = not args.quiet and sys.stderr.isatty()
    jobs = args.jobs or os.cpu_count() or 1
    start = time.perf_counter()
    results = sweep(jobs=jobs, progress=progress)
    wall = time.perf_counter() - start
    allowlist = load_allowlist()
    overrides = load_overrides()
    problems = gate_problems(results, allowlist, overrides)
    counts = summary(results)
    stale: list[str] = []
    if args.check:
        for name, text in expected_files(results, allowlist, overrides).items():
            path = Path(args.out) / name
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
    else:
        for path in write_coverage(results, args.out, allowlist, overrides):
            print(f"wrote {path}")
    print(
        f"{counts['registered']} architectures: {counts['builds']} build, {counts['closes']} "
        f"close accounting exactly ({counts['closes_without_override']} without an override, "
        f"{counts['with_override']} built with one), {counts['with_unknown']} with unknown "
        f"components ({counts['above_unknown_limit']} above {MAX_UNKNOWN_SHARE:.0%} of their "
        f"parameters), {counts['check_clean']} check clean, {len(allowlist)} allowlisted; "
        f"{wall:.1f} s with --jobs {jobs}"
    )
    if args.timings:
        print("\n".join(timings_lines(results, wall)))
    for path in stale:
        print(
            f"harness coverage: {path} differs from a fresh sweep; run `harness coverage` "
            "and review the diff",
            file=sys.stderr,
        )
    for problem in problems:
        print(f"harness coverage: gate: {problem}", file=sys.stderr)
    return 1 if stale or problems else 0
