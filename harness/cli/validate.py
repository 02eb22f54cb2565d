"""`harness validate`: check a model against its case's public facts and print the report."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import HarnessError
from .common import add_model_arguments, build_with_case, say

if TYPE_CHECKING:
    from ..pipeline.check import CheckResult

__all__ = ["VALIDATE_COLUMNS", "VALIDATE_LEGEND", "add_parser", "run", "validation_table"]

VALIDATE_COLUMNS = (
    "fact",
    "published",
    "stated difference",
    "dry run",
    "difference*",
    "tolerance",
    "status",
    "source",
)
VALIDATE_LEGEND = (
    "* difference = (dry run - (published - stated difference)) / (published - stated "
    "difference): the relative gap left after the claim's expected_difference; a claim passes "
    "within its tolerance, a structural fact must be equal"
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness validate`."""
    validate = commands.add_parser(
        "validate", help="check a model against its case's public facts and print the report"
    )
    add_model_arguments(validate)
    validate.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the fact table, the checkpoint terms, the notes and every failure; exit 1 on one."""
    result, checks = build_with_case(args)
    if checks is None:
        hf_id = result.config["hf_model_id"] or args.model
        raise HarnessError(
            f"no case file declares {hf_id}; scaffold one with `harness add {hf_id}` "
            "and fill in its public facts"
        )
    say(*validation_lines(checks, result.config))
    return 0 if result.config["validated"] else 1


def validation_lines(checks: Sequence[CheckResult], config: dict[str, Any]) -> list[str]:
    """The table, each checkpoint claim's terms, the validation notes and the failures."""
    lines = validation_table(checks)
    for check in checks:
        if check.terms or check.unexplained:
            lines.append(f"{check.fact}: stored = built + terms + unexplained")
            for term in check.terms:
                lines.append(f"  {term['term']:<20} {term['params']:>+20,}  {term['detail']}")
            lines.append(f"  {'unexplained':<20} {check.unexplained or 0:>+20,}")
    lines.append(config["validation_notes"])
    lines += [f"fail: {check.message}" for check in checks if not check.passed]
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return repr(value)


def validation_table(checks: Sequence[Any]) -> list[str]:
    """The `harness validate` table: one row per fact, plainly labelled columns, then a legend."""
    rows = [VALIDATE_COLUMNS]
    for check in checks:
        claim = check.tolerance is not None
        rows.append(
            (
                check.fact,
                _cell(check.expected),
                f"{check.expected_difference:+,}" if claim and check.expected_difference else "",
                _cell(check.observed),
                "" if check.difference is None else f"{check.difference:+.3%}",
                f"{check.tolerance:.2%}" if claim and check.tolerance else "exact",
                check.status,
                check.source,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(VALIDATE_COLUMNS) - 1)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1]
        for row in rows
    ]
    return [*lines, VALIDATE_LEGEND]
