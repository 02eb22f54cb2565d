"""`harness inspect`: dry-run a model on the meta device and summarise its tensors."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .common import add_model_arguments, hub_token, say, say_json

if TYPE_CHECKING:
    from ..api import ParameterCount
    from ..pipeline.check import ParameterScope
    from ..pipeline.inventory import Inspection, MemoryEstimate, TensorRecord

__all__ = ["Inspected", "add_parser", "checkpoint_summary", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness inspect`."""
    from ..dtypes import DTYPE_BYTES

    inspect = commands.add_parser(
        "inspect", help="dry-run a model on the meta device and summarise its tensors"
    )
    add_model_arguments(inspect)
    inspect.add_argument(
        "--tensors-out", help="write the tensor inventory to FILE.csv or FILE.json"
    )
    inspect.add_argument("--dtype", choices=sorted(DTYPE_BYTES), help="memory for this dtype only")
    inspect.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    inspect.set_defaults(func=run)


@dataclass(frozen=True)
class Inspected:
    """What `harness inspect` reports of one model; `as_json` and `lines` only format it."""

    inspection: Inspection
    counts: ParameterCount
    scope: ParameterScope
    memories: tuple[MemoryEstimate, ...]
    checkpoint: dict[str, Any]

    @property
    def largest(self) -> TensorRecord:
        """The parameter with the most elements."""
        return max(self.inspection.params, key=lambda t: t.numel)

    @property
    def aliases(self) -> int:
        """Tied names besides each tensor's first one."""
        return sum(len(t.aliases) for t in self.inspection.tensors)

    def as_json(self) -> dict[str, Any]:
        """The `--json` summary."""
        inspection, counts, largest = self.inspection, self.counts, self.largest
        return {
            "model": inspection.model,
            "source": inspection.resolved.source.value,
            "config_path": inspection.resolved.display_path,
            "config_sha256": inspection.resolved.sha256,
            "model_class": inspection.model_class,
            "model_type": inspection.model_type,
            "total_params": counts.total,
            "total_params_formatted": counts.total_formatted,
            "by_component": counts.by_component,
            **_active_json(self.scope),
            "buffer_elements": counts.buffers,
            "memory_gb": {m.dtype: round(m.gb, 3) for m in self.memories},
            "largest_tensor": {
                "name": largest.name,
                "shape": list(largest.shape),
                "params": largest.numel,
            },
            "tensor_count": len(inspection.tensors),
            "param_tensors": len(inspection.params),
            "buffer_tensors": len(inspection.buffers),
            "tied_aliases": self.aliases,
            "notes": list(inspection.notes),
            "versions": inspection.versions,
            "checkpoint": self.checkpoint,
        }

    def lines(self, tensors_out: str | None = None) -> list[str]:
        """The text summary (`tensors_out`: the inventory file written, named last)."""
        inspection, counts, largest = self.inspection, self.counts, self.largest
        lines = [
            f"model:        {inspection.model} ({inspection.resolved.source}: "
            f"{inspection.resolved.display_path})",
            f"class:        {inspection.model_class} (model_type {inspection.model_type})",
            f"parameters:   {counts.total:,} ({counts.total_formatted})",
        ]
        width = max(len(name) for name in counts.by_component)
        lines += [f"  {name:<{width}}  {value:>18,}" for name, value in counts.by_component.items()]
        lines += _active_lines(self.scope)
        lines.append("weight memory (decimal GB):")
        lines += [f"  {m.dtype:<6} {m.gb:>12,.3f}" for m in self.memories]
        lines.append(f"largest:      {largest.name} {tuple(largest.shape)} = {largest.numel:,}")
        lines.append(
            f"tensors:      {len(inspection.tensors)} ({len(inspection.params)} parameters, "
            f"{len(inspection.buffers)} buffers, {self.aliases} tied aliases)"
        )
        lines += [f"note:         {note}" for note in inspection.notes]
        lines += _checkpoint_lines(self.checkpoint)
        if tensors_out:
            lines.append(f"wrote:        {tensors_out}")
        return lines


def run(args: argparse.Namespace) -> int:
    """Inspect, write the inventory when asked, print the summary."""
    from .. import api
    from ..output import save_tensor_inspection
    from ..pipeline.check import parameter_scope
    from ..pipeline.config import build_from_inspection
    from ..pipeline.inventory import estimate_memory, estimate_memory_all
    from ..writers import check_output_target

    if args.tensors_out:
        check_output_target(args.tensors_out)  # before the build: a FIFO or device is refused
    inspection = api.inspect_model_structure(
        args.model,
        args.revision,
        offline=args.offline,
        token=hub_token(),
        trust_remote_code=args.trust_remote_code,
        use_cache=not args.no_cache,
        native_class=args.native_class,
    )
    # The build gives the structure the counts use, and the scope of MoE (active) parameters.
    result = build_from_inspection(inspection, check_schema=False)
    counts = api.count_parameters(inspection, result.structure)
    scope = parameter_scope(result)
    memories = (
        [estimate_memory(inspection, args.dtype)] if args.dtype else estimate_memory_all(inspection)
    )
    if args.tensors_out:
        save_tensor_inspection(inspection, args.tensors_out)
    inspected = Inspected(
        inspection, counts, scope, tuple(memories), checkpoint_summary(inspection)
    )
    if args.json:
        say_json(inspected.as_json())
    else:
        say(*inspected.lines(args.tensors_out))
    return 0


def checkpoint_summary(inspection: Inspection) -> dict[str, Any]:
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


def _active_lines(scope: ParameterScope) -> list[str]:
    from ..pipeline.inventory import format_count

    if scope.active is None:
        return []
    without = scope.active_without_input_embedding
    assert without is not None
    return [
        f"active/token: {scope.active:,} ({format_count(scope.active)}): the total minus the "
        f"{scope.skipped_experts:,} parameters of routed experts a token does not visit",
        f"  without the input embedding {without:,} ({format_count(without)}), as most model "
        "cards count active parameters",
    ]


def _active_json(scope: ParameterScope) -> dict[str, int]:
    if scope.active is None:
        return {}
    return {
        "active_params": scope.active,
        "active_params_without_input_embedding": scope.active_without_input_embedding,
        "input_embedding_params": scope.input_embedding,
    }
