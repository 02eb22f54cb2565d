"""`harness build`: write the Mantile config <model_id>.json and its tensor CSV."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import printable
from .common import add_model_arguments, build_with_case, say

if TYPE_CHECKING:
    from ..pipeline.config import BuildResult

__all__ = ["add_parser", "build_lines", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness build`."""
    build = commands.add_parser(
        "build", help="write the Mantile config <model_id>.json and its tensor CSV"
    )
    add_model_arguments(build)
    build.add_argument("--out", default="out", help="output folder (default: out)")
    build.add_argument(
        "--layers-dir",
        help="build for the layer classes in this folder (e.g. a Mantile checkout's "
        "backend/layers) instead of the catalog: layer_types holds only what they load, and a "
        "gap whose proposed class is there is picked up; files are read, never imported",
    )
    build.add_argument(
        "--no-stand-ins",
        action="store_true",
        help="no exact stand-ins (an untied LM head as MLPLayer ...): every gap goes to "
        "unsupported_layer_types",
    )
    build.add_argument(
        "--hf-id",
        help="the Hub id (org/name) a local config.json belongs to: recorded as hf_model_id, so "
        "`harness check` of the output finds the model (default: the config's _name_or_path "
        "when it is a Hub id)",
    )
    build.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build (with the case's validation when there is one), write both files, list the entries."""
    from ..output import write_build

    result, _ = build_with_case(args)
    written = write_build(result, args.out)
    say(*build_lines(result, written, args.layers_dir))
    return 0


def build_lines(result: BuildResult, written: Sequence[Path], layers_dir: str | None) -> list[str]:
    """The entries, coverage, picked-up gaps, findings, warnings and the files written."""
    config = result.config
    unsupported = [e for e in result.entries if not e.supported]
    lines = [
        f"{result.model_id}: {config['total_params']:,} parameters "
        f"({config['total_params_formatted']}) in {len(result.entries)} entries: "
        f"{len(result.entries) - len(unsupported)} in layer_types, {len(unsupported)} in "
        f"unsupported_layer_types"
    ]
    for entry in result.entries:
        mark = "GAP" if not entry.supported else ("sub" if entry.stand_in_for else "ok ")
        lines.append(
            f"  {mark} {printable(entry.name):<26} {printable(entry.class_name):<30} "
            f"x{entry.count:<4} {entry.parameter_count:>16,}"
            + (f"  -> {entry.gap_report}" if entry.gap_report else "")
        )
    lines.append(result.coverage_line())
    lines += [
        f"  picked up {entry.class_name} from {layers_dir}: {entry.name} (gap "
        f"{entry.gap_kind}) is in layer_types now"
        for entry in result.picked_up
    ]
    lines += [f"  finding: {finding}" for finding in config["findings"]]
    lines += [f"  warning: {warning}" for warning in result.warnings]
    lines += [f"wrote {path}" for path in written]
    return lines
