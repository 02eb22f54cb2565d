"""Entries: identical pieces merged, named and fitted to the target layer set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ...catalog import LayerSet, LayerSignature, layer_set
from ...catalog.formulas import exact_stand_in
from ..inventory import TensorRecord
from ..structure import ComponentKind, MoEAttrs, Structure
from .components import _pieces
from .pieces import MISSING_TARGET_CLASS, Piece

__all__ = [
    "MODEL_LEVEL",
    "CountedEntry",
    "LayerEntry",
    "active_parameters",
    "entries_parameter_total",
    "map_components",
]


MODEL_LEVEL = -1  # the layer index of an instance outside the decoder layers (as Mantile's own)


class CountedEntry:
    """The parameter counts of an entry that has `count` instances and `specs` with the
    per-instance `parameter_count` (a config entry, and a gap report's entry made from one)."""

    count: int
    specs: dict[str, Any]

    @property
    def parameter_count(self) -> int:
        """Parameters of one instance, exact from the dry run."""
        return int(self.specs["parameter_count"])

    @property
    def total_parameters(self) -> int:
        """count x parameter_count."""
        return self.count * self.parameter_count


@dataclass(frozen=True)
class LayerEntry(CountedEntry):
    """One entry of a Mantile config: in `layer_types` when supported, else in the unsupported list.

    `gap_kind` and `gap_report` stay set on a supported entry that came from a gap (a stand-in or
    a class picked up from the target), so the gap report keeps listing the model.
    """

    name: str
    class_name: str
    count: int
    supported: bool
    specs: dict[str, Any]
    # One index per instance, sorted: a layer with two norms appears twice, and a model-level
    # instance (embedding, final norm, LM head) is MODEL_LEVEL, so len(layer_indices) == count.
    layer_indices: tuple[int, ...]
    gap_kind: str | None = None
    gap_report: str | None = None
    example_tensors: tuple[TensorRecord, ...] = field(default=(), compare=False)
    # A stand-in: the gap kind it computes exactly and one line of what still differs.
    stand_in_for: str | None = None
    stand_in_note: str | None = None
    # The gap's own proposal (class and specs) when the entry is a stand-in.
    proposed_class: str | None = None
    proposed_specs: dict[str, Any] | None = None
    picked_up: bool = False  # a gap's proposed class found in the target layer set

    @property
    def layers(self) -> tuple[int, ...]:
        """The decoder layers the entry occurs in, each once, without the model level."""
        return tuple(sorted({index for index in self.layer_indices if index != MODEL_LEVEL}))

    def as_json(self) -> dict[str, Any]:
        """The entry as it appears in the config JSON."""
        data: dict[str, Any] = {
            "name": self.name,
            "class": self.class_name,
            "count": self.count,
            "supported": self.supported,
            "specs": self.specs,
            "layer_indices": list(self.layer_indices),
        }
        if self.stand_in_for:
            data["stand_in_for"] = self.stand_in_for
            data["stand_in_note"] = self.stand_in_note
            data["gap_report"] = self.gap_report
        if not self.supported:
            data["gap_kind"] = self.gap_kind
            data["gap_report"] = self.gap_report
        return data

    @property
    def gap_specs(self) -> dict[str, Any]:
        """The specs the gap proposes (a stand-in's own specs are its class's)."""
        return dict(self.proposed_specs if self.proposed_specs is not None else self.specs)

    @property
    def gap_class(self) -> str:
        """The class the gap proposes (for a stand-in, not the class standing in)."""
        return self.proposed_class or self.class_name


def map_components(
    structure: Structure,
    gaps_dir: str = "gaps",
    *,
    target: LayerSet | None = None,
    stand_ins: bool = True,
) -> list[LayerEntry]:
    """Map every component to pieces, merge identical ones, name them, fit them to the target.

    `target` is the layer set the config is for (default: the catalog); `stand_ins` False keeps
    every gap unsupported instead of declaring exact stand-ins.
    """
    merged: dict[str, list[Piece]] = {}
    for component in structure.components:
        for piece in _pieces(component, structure):
            merged.setdefault(piece.key(), []).append(piece)
    groups = list(merged.values())
    names = _unique_names(groups)
    chosen = target if target is not None else layer_set()
    entries = []
    for name, group in zip(names, groups, strict=True):
        first = group[0]
        indices = tuple(
            sorted(MODEL_LEVEL if p.layer_index is None else p.layer_index for p in group)
        )
        entry = LayerEntry(
            name=name,
            class_name=first.class_name,
            count=len(group),
            supported=first.supported,
            specs=dict(first.specs),
            layer_indices=indices,
            gap_kind=first.gap_kind,
            gap_report=f"{gaps_dir}/{first.gap_kind}.md" if first.gap_kind else None,
            example_tensors=first.tensors,
        )
        entries.append(_fit(entry, chosen, gaps_dir, stand_ins))
    return entries


def _with_layer_idx(
    specs: Mapping[str, Any], signature: LayerSignature, indices: Sequence[int]
) -> dict[str, Any]:
    """Specs with the entry's first layer index in front, where the constructor takes one."""
    if "layer_idx" not in signature.parameters or "layer_idx" in specs:
        return dict(specs)
    return {"layer_idx": indices[0] if indices else 0, **specs}


def _fit(entry: LayerEntry, target: LayerSet, gaps_dir: str, stand_ins: bool) -> LayerEntry:
    """The entry as the target can hold it: loadable and exact, picked up, a stand-in, or a gap."""
    if entry.supported:
        signature = target.get(entry.class_name)
        if signature is not None:
            specs = _with_layer_idx(entry.specs, signature, entry.layers)
            layer = target.layer(entry.class_name, specs)
            if layer is not None and layer.parameter_count() == entry.parameter_count:
                return replace(entry, specs=specs)
        # The target lacks the class, or binds these specs differently: the catalog's exact
        # class is the one it needs.
        kind = MISSING_TARGET_CLASS
        return replace(entry, supported=False, gap_kind=kind, gap_report=f"{gaps_dir}/{kind}.md")
    proposed = target.get(entry.class_name)
    if proposed is not None and proposed.bind(entry.specs).exact:
        specs = _with_layer_idx(entry.specs, proposed, entry.layers)
        return replace(entry, supported=True, specs=specs, picked_up=True)
    stand_in = exact_stand_in(entry.gap_kind, entry.specs, target) if stand_ins else None
    if stand_in is not None:
        signature = target.get(stand_in.class_name)
        layer = target.layer(stand_in.class_name, stand_in.specs)
        # The proof compares formulas; the count must also be the dry run's own.
        if (
            signature is not None
            and layer is not None
            and layer.parameter_count() == entry.parameter_count
        ):
            counted = {**stand_in.specs, "parameter_count": entry.parameter_count}
            return replace(
                entry,
                class_name=stand_in.class_name,
                supported=True,
                specs=_with_layer_idx(counted, signature, entry.layers),
                stand_in_for=entry.gap_kind,
                stand_in_note=stand_in.note,
                proposed_class=entry.class_name,
                proposed_specs=dict(entry.specs),
            )
    return entry


def _unique_names(groups: Sequence[Sequence[Piece]]) -> list[str]:
    names = [group[0].name for group in groups]
    repeated = {name for name in names if names.count(name) > 1}
    with_variant = [
        f"{name}_{group[0].variant}" if name in repeated and group[0].variant else name
        for name, group in zip(names, groups, strict=True)
    ]
    final: list[str] = []
    for name in with_variant:
        candidate, number = name, 2
        while candidate in final:
            candidate = f"{name}_{number}"
            number += 1
        final.append(candidate)
    return final


def entries_parameter_total(entries: Iterable[LayerEntry]) -> int:
    """Sum over entries of count x parameter_count."""
    return sum(entry.total_parameters for entry in entries)


def active_parameters(structure: Structure, entries: Sequence[LayerEntry]) -> int | None:
    """Parameters used per token: the total minus the routed experts a token does not visit."""
    inactive = 0
    has_moe = False
    for component in structure.of_kind(ComponentKind.MOE):
        a = component.attrs_as(MoEAttrs)
        if not a.num_experts or a.top_k is None:
            continue
        has_moe = True
        per_expert = (a.expert_params + a.expert_bias_params) // a.num_experts
        inactive += (a.num_experts - a.top_k) * per_expert
    if not has_moe:
        return None
    return entries_parameter_total(entries) - inactive
