"""What an estimate covers: the part of a config the estimator computes, against the whole model.

`estimate_coverage` compares the entries of `layer_types` (what Mantile loads and computes) with all
entries (the whole dry run) in five measures: parameters, weight bytes at bf16, prefill FLOPs of one
reference prompt, decode FLOPs of one token at a reference context, and the KV-cache bytes of one
sequence at that context. A loadable entry is costed with its catalog class's formulas (a class
picked up from a layers folder, which the catalog does not know, with its gap kind's reference
formula); an unsupported one with its gap kind's reference formula (harness.catalog.formulas).
Parameters are always exact (the dry run's); a measure no formula gives is listed under
`not_estimated` with the reason, and the whole is then a lower bound. Pure and cheap: no torch, only
the entries, so a warm conformance run computes it from the cached inspection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog import layer_set
from ..catalog.formulas import Step, exact_stand_in, formula_for
from ..dtypes import bytes_per_element
from .mapping import MISSING_TARGET_CLASS, LayerEntry

__all__ = [
    "DECODE_BATCH",
    "DECODE_CONTEXT",
    "DTYPE",
    "MEASURES",
    "PREFILL_BATCH",
    "PREFILL_TOKENS",
    "EstimateCoverage",
    "Missing",
    "Share",
    "estimate_coverage",
]

DTYPE = "bf16"
PREFILL_BATCH = 1
PREFILL_TOKENS = 1024
DECODE_BATCH = 1
DECODE_CONTEXT = 1024  # keys the new token attends, itself included
MEASURES = (
    "parameters",
    "weight_bytes",
    "prefill_flops",
    "decode_flops_per_token",
    "kv_cache_bytes",
)


@dataclass(frozen=True)
class Share:
    """One measure: what the loadable entries compute, and the whole model."""

    modelled: int
    whole: int

    @property
    def share(self) -> float:
        """modelled / whole, rounded to 4 places (1.0 when the whole is 0)."""
        return round(self.modelled / self.whole, 4) if self.whole else 1.0

    def percent(self) -> str:
        """`100%` or `0%` only when exact, else one decimal (`>99.9%`, `<0.1%` at the ends)."""
        if self.modelled == self.whole:
            return "100%"
        if self.modelled == 0:
            return "0%"
        value = 100 * self.modelled / self.whole
        if value < 0.1:
            return "<0.1%"
        return ">99.9%" if value > 99.9 else f"{value:.1f}%"

    def as_json(self) -> dict[str, Any]:
        """`{"modelled": ..., "whole": ..., "share": ...}`."""
        return {"modelled": self.modelled, "whole": self.whole, "share": self.share}


@dataclass(frozen=True)
class Missing:
    """An entry the estimate leaves out (unsupported), or a measure no formula gives."""

    name: str
    gap_kind: str
    why: str

    def label(self) -> str:
        """`lm_head (tied)`, or just the name when the reason is the name."""
        return self.name if self.why == self.name else f"{self.name} ({self.why})"

    def as_json(self) -> dict[str, str]:
        """`{"name": ..., "gap_kind": ..., "why": ...}`."""
        return {"name": self.name, "gap_kind": self.gap_kind, "why": self.why}


@dataclass(frozen=True)
class EstimateCoverage:
    """The five measures, the entries left out, and the measures no formula gives."""

    measures: dict[str, Share]
    missing: tuple[Missing, ...]
    not_estimated: tuple[Missing, ...]

    def summary(self) -> str:
        """One line: `Mantile models 100% of parameters and 91.2% of decode FLOPs; missing: ...`."""
        parameters = self.measures["parameters"].percent()
        decode = self.measures["decode_flops_per_token"].percent()
        left_out = ", ".join(m.label() for m in self.missing) or "nothing"
        line = (
            f"Mantile models {parameters} of parameters and {decode} of decode FLOPs "
            f"(B={DECODE_BATCH}, context {DECODE_CONTEXT:,}); missing: {left_out}"
        )
        if self.not_estimated:
            line += "; not estimated: " + ", ".join(m.label() for m in self.not_estimated)
        return line

    def as_json(self) -> dict[str, Any]:
        """The config's `estimate_coverage` block."""
        return {
            "summary": self.summary(),
            "dtype": DTYPE,
            "prefill": {"batch_size": PREFILL_BATCH, "seq_len": PREFILL_TOKENS},
            "decode": {"batch_size": DECODE_BATCH, "context_len": DECODE_CONTEXT},
            **{name: share.as_json() for name, share in self.measures.items()},
            "missing": [m.as_json() for m in self.missing],
            "not_estimated": [m.as_json() for m in self.not_estimated],
        }


# Measures per instance: None where no formula gives it; `lower` names lower-bound measures.
@dataclass(frozen=True)
class _Costs:
    values: dict[str, int | None]
    lower: tuple[str, ...] = ()


def _catalog_costs(entry: LayerEntry, size: float) -> _Costs | None:
    layer = layer_set().layer(entry.class_name, entry.specs)
    if layer is None:
        return None
    return _Costs(
        {
            "parameters": entry.parameter_count,
            "weight_bytes": round(entry.parameter_count * size),
            "prefill_flops": layer.flops(PREFILL_BATCH, PREFILL_TOKENS, phase="prefill"),
            "decode_flops_per_token": layer.flops(
                DECODE_BATCH, 1, phase="decode", context_len=DECODE_CONTEXT
            ),
            "kv_cache_bytes": round(layer.kv_cache_bytes(DECODE_BATCH, DECODE_CONTEXT)),
        }
    )


def _formula_costs(entry: LayerEntry, size: float) -> _Costs:
    specs = entry.gap_specs
    formula = formula_for(entry.gap_kind)
    values: dict[str, int | None] = {
        "parameters": entry.parameter_count,
        "weight_bytes": round(entry.parameter_count * size),
        "prefill_flops": None,
        "decode_flops_per_token": None,
        "kv_cache_bytes": None,
    }
    if formula is None:
        return _Costs(values)
    if formula.flops is not None:
        values["prefill_flops"] = formula.flops(specs, Step.prefill(PREFILL_BATCH, PREFILL_TOKENS))
        values["decode_flops_per_token"] = formula.flops(
            specs, Step.decode(DECODE_BATCH, DECODE_CONTEXT)
        )
    if formula.cache_bytes is not None:
        cache = formula.cache_bytes(specs, DECODE_BATCH, DECODE_CONTEXT, size)
        values["kv_cache_bytes"] = None if cache is None else round(cache)
    lower = () if formula.flops_exact else ("prefill_flops", "decode_flops_per_token")
    return _Costs(values, lower)


def _why_missing(entry: LayerEntry) -> str:
    specs = entry.gap_specs
    if entry.gap_kind == "lm_head":
        if specs.get("tied"):
            return "tied"
        if specs.get("has_bias"):
            return "bias"
    if exact_stand_in(entry.gap_kind, specs, layer_set()) is not None:
        return "stand-ins off"
    if entry.gap_kind == "lm_head":
        return "no exact stand-in"
    if entry.gap_kind == MISSING_TARGET_CLASS:
        return f"{entry.class_name} not in the target layer set"
    return str(entry.gap_kind)


def _not_estimated(entry: LayerEntry, costs: _Costs) -> Missing | None:
    unknown = [name for name, value in costs.values.items() if value is None]
    kind = str(entry.gap_kind)
    if unknown:
        return Missing(entry.name, kind, f"no formula for {', '.join(unknown)}")
    if costs.lower:
        return Missing(entry.name, kind, "FLOPs lower bound")
    return None


def estimate_coverage(entries: Sequence[LayerEntry]) -> EstimateCoverage:
    """The share of each measure the loadable entries compute (see the module docstring)."""
    size = bytes_per_element(DTYPE)
    modelled = dict.fromkeys(MEASURES, 0)
    whole = dict.fromkeys(MEASURES, 0)
    missing: list[Missing] = []
    not_estimated: list[Missing] = []
    for entry in entries:
        # A catalog class the target lacks still has the catalog's formulas.
        by_class = entry.supported or entry.gap_kind == MISSING_TARGET_CLASS
        costs = (_catalog_costs(entry, size) if by_class else None) or _formula_costs(entry, size)
        for name, value in costs.values.items():
            if value is None:
                continue
            whole[name] += entry.count * value
            if entry.supported:
                modelled[name] += entry.count * value
        if not entry.supported:
            missing.append(Missing(entry.name, str(entry.gap_kind), _why_missing(entry)))
        unknown = _not_estimated(entry, costs)
        if unknown is not None:
            not_estimated.append(unknown)
    measures = {name: Share(modelled[name], whole[name]) for name in MEASURES}
    return EstimateCoverage(measures, tuple(missing), tuple(not_estimated))
