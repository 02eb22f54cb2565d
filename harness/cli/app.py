"""The `harness` command: one sub-command per job, errors turned into one line and exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ..errors import HarnessError, json_printable, printable

__all__ = ["build_parser", "main", "validation_table"]

EXIT_ERROR = 2
EXIT_CLOSED_PIPE = 1  # as Python itself exits when stdout's reader has gone


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to look, without the usage block."""

    def error(self, message: str) -> NoReturn:
        """Print `<prog>: error: <message>; see <prog> --help` and exit with status 2."""
        hint = f"see `{self.prog} --help`"
        self.exit(EXIT_ERROR, f"{self.prog}: error: {_one_line(message)}; {hint}\n")


def _one_line(text: str) -> str:
    return printable(" ".join(text.split("\n")))


def _say(*lines: str) -> None:
    """Print each argument as one line on stdout, through `printable`: untrusted text (architecture
    names, entry names, docstrings of --layers-dir classes, paths) never reaches the terminal raw,
    and a newline inside it is shown as `\\n`, never starts a line of its own."""
    for line in lines:
        print(printable(line))


def _say_json(data: Any) -> None:
    """Write `data` as JSON on stdout, with terminal-active characters as JSON escapes."""
    from ..writers import dump_json

    sys.stdout.write(json_printable(dump_json(data)))


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
    _add_native_class(parser)
    _add_no_cache(parser)


def _add_native_class(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--native-class",
        action="store_true",
        help="build the transformers class that `architectures` names even though `auto_map` "
        "points at Hub code for a model type transformers lacks (Kimi-K2 names "
        "DeepseekV3ForCausalLM); no Hub code runs, and the output's provenance notes it",
    )


def _add_no_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="build on the meta device instead of reading the inspection cache "
        "(see `harness cache info`); the cache is neither read nor written",
    )


def _token() -> str | None:
    return os.environ.get("HF_TOKEN") or None


def _inspect(args: argparse.Namespace) -> int:
    from ..api import count_parameters, inspect_model_structure
    from ..output import save_tensor_inspection
    from ..pipeline.inventory import estimate_memory, estimate_memory_all
    from ..writers import check_output_target

    if args.tensors_out:
        check_output_target(args.tensors_out)  # before the build: a FIFO or device is refused
    inspection = inspect_model_structure(
        args.model,
        args.revision,
        offline=args.offline,
        token=_token(),
        trust_remote_code=args.trust_remote_code,
        use_cache=not args.no_cache,
        native_class=args.native_class,
    )
    counts = count_parameters(inspection)
    scope = _parameter_scope(inspection)
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
        **_active_json(scope),
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
        "checkpoint": _checkpoint_summary(inspection),
    }
    if args.json:
        _say_json(summary)
        return 0
    lines = [
        f"model:        {inspection.model} ({inspection.resolved.source}: "
        f"{inspection.resolved.display_path})",
        f"class:        {inspection.model_class} (model_type {inspection.model_type})",
        f"parameters:   {counts.total:,} ({counts.total_formatted})",
    ]
    width = max(len(name) for name in counts.by_component)
    lines += [f"  {name:<{width}}  {value:>18,}" for name, value in counts.by_component.items()]
    lines += _active_lines(scope)
    lines.append("weight memory (decimal GB):")
    lines += [f"  {m.dtype:<6} {m.gb:>12,.3f}" for m in memories]
    lines.append(f"largest:      {largest.name} {tuple(largest.shape)} = {largest.numel:,}")
    lines.append(
        f"tensors:      {len(inspection.tensors)} ({len(inspection.params)} parameters, "
        f"{len(inspection.buffers)} buffers, {aliases} tied aliases)"
    )
    lines += [f"note:         {note}" for note in inspection.notes]
    lines += _checkpoint_lines(summary["checkpoint"])
    if args.tensors_out:
        lines.append(f"wrote:        {args.tensors_out}")
    _say(*lines)
    return 0


def _checkpoint_summary(inspection: Any) -> dict[str, Any]:
    """Stored vs built: the vendored checkpoint.json (if any) and the terms between them."""
    from ..pipeline.checkpoint import vendored_summary
    from ..pipeline.reconcile import reconcile
    from ..pipeline.structure import analyze_layer_structure

    summary = vendored_summary(inspection.resolved)
    rec = reconcile(inspection, analyze_layer_structure(inspection), summary)
    return {
        "stored_total": rec.stored_total,
        "stored_by_dtype": rec.stored_by_dtype,
        "obtained": summary.obtained if summary is not None else None,
        "built_total": rec.built_total,
        "terms": [term.as_json() for term in rec.terms],
        "predicted_total": rec.predicted_total,
        "predicted_by_dtype": rec.predicted_by_dtype,
        "unexplained": rec.unexplained,
        "notes": list(rec.notes),
    }


def _checkpoint_lines(data: dict[str, Any]) -> list[str]:
    stored = data["stored_total"]
    where = f"{stored:,} ({data['obtained']})" if stored is not None else "not vendored"
    lines = [
        f"checkpoint:   stored {where}, built {data['built_total']:,}",
        *(f"  {t['term']:<20} {t['params']:>+18,}  {t['detail']}" for t in data["terms"]),
        f"  {'predicted stored':<20} {data['predicted_total']:>18,}  "
        + ", ".join(f"{k} {v:,}" for k, v in data["predicted_by_dtype"].items()),
    ]
    if data["unexplained"] is not None:
        lines.append(f"  {'unexplained':<20} {data['unexplained']:>+18,}")
    return lines


def _parameter_scope(inspection: Any) -> Any:
    """The parts of the count that published figures scope differently (MoE: active ones too)."""
    from ..pipeline.check import parameter_scope
    from ..pipeline.config import build_from_inspection

    return parameter_scope(build_from_inspection(inspection, check_schema=False))


def _active_lines(scope: Any) -> list[str]:
    from ..pipeline.inventory import format_count

    if scope.active is None:
        return []
    without = scope.active_without_input_embedding
    return [
        f"active/token: {scope.active:,} ({format_count(scope.active)}): the total minus the "
        f"{scope.skipped_experts:,} parameters of routed experts a token does not visit",
        f"  without the input embedding {without:,} ({format_count(without)}), as most model "
        "cards count active parameters",
    ]


def _active_json(scope: Any) -> dict[str, int]:
    if scope.active is None:
        return {}
    return {
        "active_params": scope.active,
        "active_params_without_input_embedding": scope.active_without_input_embedding,
        "input_embedding_params": scope.input_embedding,
    }


def _build_with_case(args: argparse.Namespace) -> tuple[Any, list[Any] | None]:
    """Build the model; when a case file declares it, check its facts and embed the report."""
    from ..api import build_model_config, with_validation
    from ..pipeline.cases import find_case

    result = build_model_config(
        args.model,
        args.revision,
        offline=args.offline,
        token=_token(),
        trust_remote_code=args.trust_remote_code,
        layers_dir=getattr(args, "layers_dir", None),
        use_cache=not args.no_cache,
        stand_ins=not getattr(args, "no_stand_ins", False),
        hf_id=getattr(args, "hf_id", None),
        native_class=args.native_class,
    )
    hf_id = result.config["hf_model_id"]
    case = find_case(hf_id) if hf_id else None
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
        hf_id = result.config["hf_model_id"] or args.model
        raise HarnessError(
            f"no case file declares {hf_id}; scaffold one with `harness add {hf_id}` "
            "and fill in its public facts"
        )
    _say(*validation_table(checks))
    for check in checks:
        if check.terms or check.unexplained:
            _say(f"{check.fact}: stored = built + terms + unexplained")
            for term in check.terms:
                _say(f"  {term['term']:<20} {term['params']:>+20,}  {term['detail']}")
            _say(f"  {'unexplained':<20} {check.unexplained or 0:>+20,}")
    _say(result.config["validation_notes"])
    _say(*(f"fail: {check.message}" for check in checks if not check.passed))
    return 0 if result.config["validated"] else 1


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


def _build(args: argparse.Namespace) -> int:
    from ..output import write_build

    result, _ = _build_with_case(args)
    written = write_build(result, args.out)
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
        f"  picked up {entry.class_name} from {args.layers_dir}: {entry.name} (gap "
        f"{entry.gap_kind}) is in layer_types now"
        for entry in result.picked_up
    ]
    lines += [f"  finding: {finding}" for finding in config["findings"]]
    lines += [f"  warning: {warning}" for warning in result.warnings]
    lines += [f"wrote {path}" for path in written]
    _say(*lines)
    return 0


def _layers(args: argparse.Namespace) -> int:
    from ..catalog import get_supported_layers

    layers = get_supported_layers(args.layers_dir)
    if args.json:
        _say_json({name: info.as_dict() for name, info in layers.items()})
        return 0
    for name, info in layers.items():
        if info.abstract:
            continue
        optional = ", ".join(f"{k}={v!r}" for k, v in info.spec_optional.items())
        parallel = ", ".join(sorted(info.supported_parallelism or ())) or "-"
        _say(f"{name}: {info.docstring}")
        _say(f"  required: {', '.join(info.spec_required)}")
        _say(f"  optional: {optional or '-'}")
        _say(f"  parallelism: {parallel}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..audit import audit_file

    report = audit_file(
        args.config,
        args.model,
        offline=args.offline,
        token=_token(),
        layers_dir=args.layers_dir,
        native_class=args.native_class,
    )
    if args.json:
        _say_json(report.as_dict())
    else:
        _say(*report.lines())  # a newline inside an entry name is escaped, never a new line
    return report.exit_status


def _gaps(args: argparse.Namespace) -> int:
    from ..api import build_model_config
    from ..gaps import case_results, write_gap_reports

    use_cache = not args.no_cache
    if args.models:
        results = [
            build_model_config(m, offline=args.offline, token=_token(), use_cache=use_cache)
            for m in args.models
        ]
    else:
        results = case_results(args.cases_dir, use_cache=use_cache)
    files = write_gap_reports(results, args.out, prune=not args.models)
    _say(*(f"{file.change.value:<9} {file.path}" for file in files))
    return 0


def _add(args: argparse.Namespace) -> int:
    from ..scaffold import add_model, next_steps, prepare_scaffold

    scaffold = prepare_scaffold(
        args.hf_id,
        config_path=args.config,
        revision=args.revision,
        cases_dir=args.cases_dir,
        offline=args.offline,
        token=_token(),
        trust_remote_code=args.trust_remote_code,
        native_class=args.native_class,
    )
    lines = [f"wrote {path}" for path in add_model(scaffold)]
    total = scaffold.result.config["total_params"]
    lines.append(f"{scaffold.hf_id}: the dry run counts {total:,} parameters. Next:")
    lines += [f"  {n}. {step}" for n, step in enumerate(next_steps(scaffold), start=1)]
    _say(*lines)
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    from ..pipeline.cases import find_cases_dir
    from ..pipeline.checkpoint import CheckpointSummary
    from ..pipeline.reconcile import reconcile
    from ..scaffold import checkpoint_claim_lines, vendor_checkpoint

    recorded = None
    if args.total is not None:
        if not args.source:
            raise HarnessError("--total needs --source: the page or file that records it")
        counts = {}
        for item in args.dtype_count or []:
            dtype, _, value = item.partition("=")
            if not dtype or not value.isdigit():
                raise HarnessError(f"--dtype-count {item!r} is not DTYPE=COUNT (BF16=123)")
            counts[dtype] = int(value)
        recorded = CheckpointSummary(
            hf_id=args.hf_id,
            revision=args.revision,
            total=args.total,
            parameters=counts,
            obtained="recorded-scrape",
            source=args.source,
            note="recorded from a public scrape of the Hub API; no safetensors headers were read",
        )
    cases_dir = args.cases_dir or find_cases_dir() or "cases"
    path, summary, result = vendor_checkpoint(
        args.hf_id,
        cases_dir=cases_dir,
        offline=args.offline,
        token=_token(),
        recorded=recorded,
        native_class=args.native_class,
    )
    _say(f"wrote {path}")
    _say(*reconcile(result.inspection, result.structure, summary).lines())
    _say("the claim for the case's facts:")
    _say(*checkpoint_claim_lines(args.hf_id, result, summary))
    return 0


def _cache_info(args: argparse.Namespace) -> int:
    from ..cache import cache_info

    _say(*cache_info().lines())
    return 0


def _cache_clear(args: argparse.Namespace) -> int:
    from ..cache import clear_cache

    _say(*clear_cache().lines())
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ..bench import bench_command

    return bench_command(args)


def _coverage(args: argparse.Namespace) -> int:
    from ..coverage import coverage_command

    return coverage_command(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from ..dtypes import DTYPE_BYTES

    parser = _Parser(
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
    _add_no_cache(gaps)
    gaps.set_defaults(func=_gaps)

    add = commands.add_parser(
        "add", help="vendor a model's config and scaffold its case file with TODO claims"
    )
    add.add_argument("hf_id", help="Hub id (org/name); names the case file and snapshot folder")
    add.add_argument(
        "--config", help="the model's config.json to vendor (default: HF cache, then the Hub)"
    )
    add.add_argument("--revision", help="Hub revision the config belongs to (40-hex commit best)")
    add.add_argument(
        "--cases-dir",
        default="cases",
        help="folder of case files (default: cases in the working directory, never a parent's)",
    )
    add.add_argument("--offline", action="store_true", default=None, help="never touch the network")
    add.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="the model needs Hub code: build it with the code at --revision (a 40-hex commit "
        "you reviewed) and record the opt-in in the case",
    )
    _add_native_class(add)
    add.set_defaults(func=_add)

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
    _add_native_class(checkpoint)
    checkpoint.set_defaults(func=_checkpoint)

    layers = commands.add_parser("layers", help="list the layer classes of the catalog or a folder")
    layers.add_argument(
        "--layers-dir", help="folder of Python files to read instead of the catalog"
    )
    layers.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    layers.set_defaults(func=_layers)

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
    _add_native_class(check)
    check.set_defaults(func=_check)

    cache = commands.add_parser("cache", help="show or clear the inspection cache")
    cache_commands = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    cache_commands.add_parser("info", help="cache folder, entries and size").set_defaults(
        func=_cache_info
    )
    cache_commands.add_parser(
        "clear", help="delete the cache entries (only files the harness wrote)"
    ).set_defaults(func=_cache_clear)

    from ..bench import add_bench_arguments

    bench = commands.add_parser(
        "bench", help="time inspection vs accelerate, the conformance suite cold/warm, coverage"
    )
    add_bench_arguments(bench)
    bench.set_defaults(func=_bench)

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
    coverage.set_defaults(func=_coverage)
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
