"""The `harness` command: one sub-command per job, errors turned into one line and exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .errors import HarnessError

__all__ = ["build_parser", "main"]

EXIT_ERROR = 2


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="HF id (org/name), a config.json, or a folder holding one")
    parser.add_argument("--revision", help="Hub revision (branch, tag or 40-hex commit)")
    parser.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="never touch the network (also on when HF_HUB_OFFLINE=1)",
    )
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow Hub code for model types transformers lacks; needs a pinned 40-hex --revision. "
        "This runs code from the Hub on this machine: review it first",
    )


def _token() -> str | None:
    return os.environ.get("HF_TOKEN") or None


def _inspect(args: argparse.Namespace) -> int:
    from .inspection import (
        count_parameters,
        estimate_memory,
        estimate_memory_all,
        inspect_model_structure,
    )
    from .writers import dump_json, save_tensor_inspection

    inspection = inspect_model_structure(
        args.model,
        args.revision,
        offline=args.offline,
        token=_token(),
        trust_remote_code=args.trust_remote_code,
    )
    counts = count_parameters(inspection)
    memories = (
        [estimate_memory(inspection, args.dtype)] if args.dtype else estimate_memory_all(inspection)
    )
    largest = max(inspection.params, key=lambda t: t.numel)
    aliases = sum(len(t.aliases) for t in inspection.tensors)
    if args.tensors_out:
        save_tensor_inspection(inspection, args.tensors_out)
    summary: dict[str, Any] = {
        "model": inspection.model,
        "source": inspection.resolved.source,
        "config_path": inspection.resolved.display_path,
        "config_sha256": inspection.resolved.sha256,
        "model_class": inspection.model_class,
        "model_type": inspection.model_type,
        "total_params": counts.total,
        "total_params_formatted": counts.total_formatted,
        "by_component": counts.by_component,
        "buffer_elements": counts.buffers,
        "memory_gb": {m.dtype: round(m.gb, 3) for m in memories},
        "largest_tensor": {
            "name": largest.name,
            "shape": list(largest.shape),
            "params": largest.numel,
        },
        "tensor_count": len(inspection.tensors),
        "param_tensors": len(inspection.params),
        "buffer_tensors": len(inspection.buffers),
        "tied_aliases": aliases,
        "notes": list(inspection.notes),
        "versions": inspection.versions,
    }
    if args.json:
        sys.stdout.write(dump_json(summary))
        return 0
    lines = [
        f"model:        {inspection.model} ({inspection.resolved.source}: "
        f"{inspection.resolved.display_path})",
        f"class:        {inspection.model_class} (model_type {inspection.model_type})",
        f"parameters:   {counts.total:,} ({counts.total_formatted})",
    ]
    width = max(len(name) for name in counts.by_component)
    lines += [f"  {name:<{width}}  {value:>18,}" for name, value in counts.by_component.items()]
    lines.append("weight memory (decimal GB):")
    lines += [f"  {m.dtype:<6} {m.gb:>12,.3f}" for m in memories]
    lines.append(f"largest:      {largest.name} {tuple(largest.shape)} = {largest.numel:,}")
    lines.append(
        f"tensors:      {len(inspection.tensors)} ({len(inspection.params)} parameters, "
        f"{len(inspection.buffers)} buffers, {aliases} tied aliases)"
    )
    lines += [f"note:         {note}" for note in inspection.notes]
    if args.tensors_out:
        lines.append(f"wrote:        {args.tensors_out}")
    print("\n".join(lines))
    return 0


def _build_with_case(args: argparse.Namespace) -> tuple[Any, list[Any] | None]:
    """Build the model; when a case file declares it, check its facts and embed the report."""
    from .build import build_model_config
    from .cases import find_case
    from .check import with_validation

    result = build_model_config(
        args.model,
        args.revision,
        offline=args.offline,
        token=_token(),
        trust_remote_code=args.trust_remote_code,
        layers_dir=getattr(args, "layers_dir", None),
    )
    case = find_case(result.inspection.hf_id) if result.inspection.hf_id else None
    if case is None:
        return result, None
    return with_validation(case, result)


def _cell(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return repr(value)


def _validate(args: argparse.Namespace) -> int:
    result, checks = _build_with_case(args)
    if checks is None:
        hf_id = result.inspection.hf_id or args.model
        raise HarnessError(
            f"no case file declares {hf_id}; scaffold one with `harness add {hf_id}` "
            "and fill in its public facts"
        )
    rows = [("fact", "expected", "observed", "difference", "status", "source")]
    for check in checks:
        diff = "" if check.difference is None else f"{check.difference:+.3%}"
        expected, observed = _cell(check.expected), _cell(check.observed)
        rows.append((check.fact, expected, observed, diff, check.status, check.source))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    print(result.config["validation_notes"])
    return 0 if result.config["validated"] else 1


def _build(args: argparse.Namespace) -> int:
    from .writers import write_build

    result, _ = _build_with_case(args)
    written = write_build(result, args.out)
    config = result.config
    unsupported = [e for e in result.entries if not e.supported]
    print(
        f"{result.model_id}: {config['total_params']:,} parameters "
        f"({config['total_params_formatted']}) in {len(result.entries)} layer types, "
        f"{len(unsupported)} unsupported"
    )
    for entry in result.entries:
        mark = "ok " if entry.supported else "GAP"
        print(
            f"  {mark} {entry.name:<26} {entry.class_name:<30} x{entry.count:<4} "
            f"{entry.parameter_count:>16,}"
            + (f"  -> {entry.gap_report}" if entry.gap_report else "")
        )
    for finding in config["findings"]:
        print(f"  finding: {finding}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    for path in written:
        print(f"wrote {path}")
    return 0


def _layers(args: argparse.Namespace) -> int:
    from .catalog import get_supported_layers
    from .writers import dump_json

    layers = get_supported_layers(args.layers_dir)
    if args.json:
        sys.stdout.write(dump_json({name: info.as_dict() for name, info in layers.items()}))
        return 0
    for name, info in layers.items():
        if info.abstract:
            continue
        optional = ", ".join(f"{k}={v!r}" for k, v in info.spec_optional.items())
        parallel = ", ".join(sorted(info.supported_parallelism or ())) or "-"
        print(f"{name}: {info.docstring}")
        print(f"  required: {', '.join(info.spec_required)}")
        print(f"  optional: {optional or '-'}")
        print(f"  parallelism: {parallel}")
    return 0


def _gaps(args: argparse.Namespace) -> int:
    from .build import build_model_config
    from .gaps import case_results, write_gap_reports

    if args.models:
        results = [build_model_config(m, offline=args.offline, token=_token()) for m in args.models]
    else:
        results = case_results(args.cases_dir)
    written = write_gap_reports(results, args.out, prune=not args.models)
    for path in written:
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from .dtypes import DTYPE_BYTES

    parser = argparse.ArgumentParser(
        prog="harness",
        description="Conformance harness for Mantile-style LLM model configs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inspect = commands.add_parser(
        "inspect", help="dry-run a model on the meta device and summarise its tensors"
    )
    _add_model_arguments(inspect)
    inspect.add_argument(
        "--tensors-out", help="write the tensor inventory to FILE.csv or FILE.json"
    )
    inspect.add_argument("--dtype", choices=sorted(DTYPE_BYTES), help="memory for this dtype only")
    inspect.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    inspect.set_defaults(func=_inspect)

    build = commands.add_parser(
        "build", help="write the Mantile config <model_id>.json and its tensor CSV"
    )
    _add_model_arguments(build)
    build.add_argument("--out", default="out", help="output folder (default: out)")
    build.add_argument(
        "--layers-dir",
        help="check entries against the layer classes in this folder (e.g. a Mantile checkout's "
        "backend/layers); files are read, never imported",
    )
    build.set_defaults(func=_build)

    validate = commands.add_parser(
        "validate", help="check a model against its case's public facts and print the report"
    )
    _add_model_arguments(validate)
    validate.set_defaults(func=_validate)

    gaps = commands.add_parser(
        "gaps", help="regenerate gaps/*.md for every case (or only the given models)"
    )
    gaps.add_argument("models", nargs="*", help="HF ids or config paths (default: every case)")
    gaps.add_argument("--cases-dir", default="cases", help="folder of case files (default: cases)")
    gaps.add_argument("--out", default="gaps", help="output folder (default: gaps)")
    gaps.add_argument(
        "--offline", action="store_true", default=None, help="never touch the network"
    )
    gaps.set_defaults(func=_gaps)

    layers = commands.add_parser("layers", help="list the layer classes of the catalog or a folder")
    layers.add_argument(
        "--layers-dir", help="folder of Python files to read instead of the catalog"
    )
    layers.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    layers.set_defaults(func=_layers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a HarnessError becomes one line on stderr and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except HarnessError as exc:
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
