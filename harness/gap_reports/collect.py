"""Collect: the gap entries of many builds grouped by gap kind, models and entries sorted.

Every entry that comes from a gap (in `unsupported_layer_types`, or a stand-in in `layer_types`)
is collected under its kind. A model whose component a stand-in computes stays listed: the real
class is still wanted (the stand-in differs under tensor parallelism).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog.registry import GapKind, gap_kind
from ..pipeline.inventory import TensorRecord
from ..pipeline.mapping import CountedEntry

if TYPE_CHECKING:
    from ..pipeline.config import BuildResult

__all__ = ["BlockedEntry", "BlockedModel", "GapKindReport", "collect_gaps"]

GAPS_DIR = "gaps"
# What a report names as the proposed class of a kind that proposes none (missing_target_class).
_EACH_ENTRY_CLASS = "the catalog class each entry names"


@dataclass(frozen=True)
class BlockedEntry(CountedEntry):
    """One unsupported config entry of one model: specs, instances, first instance's tensors."""

    name: str
    class_name: str
    count: int
    layer_indices: tuple[int, ...]
    specs: dict[str, Any]
    example_tensors: tuple[TensorRecord, ...]
    # Tensors the entry uses but does not own (a tied lm_head reads the embedding's weight).
    shared_tensors: tuple[TensorRecord, ...] = ()
    # The layer_types class computing it meanwhile as an exact stand-in, if any.
    stand_in: str | None = None

    @property
    def in_config(self) -> str:
        """Where the generated config holds it: a stand-in, or the unsupported list."""
        if self.stand_in:
            return f"stand-in `{self.stand_in}` in `layer_types`"
        return "`unsupported_layer_types`"

    @property
    def constructor_specs(self) -> dict[str, Any]:
        """The specs without the `parameter_count` metadata key."""
        return {key: value for key, value in self.specs.items() if key != "parameter_count"}


@dataclass(frozen=True)
class BlockedModel:
    """A model that one gap kind blocks, with its entries of that kind."""

    model: str  # the Hub id, else Mantile's model_id
    model_id: str
    num_layers: int | None
    entries: tuple[BlockedEntry, ...]

    @property
    def total_parameters(self) -> int:
        """Parameters of this model held by entries of the gap kind."""
        return sum(entry.total_parameters for entry in self.entries)


@dataclass(frozen=True)
class GapKindReport:
    """Everything one gap report shows: the kind's registry record and the models it blocks."""

    gap_kind: str
    record: GapKind
    models: tuple[BlockedModel, ...]

    @property
    def title(self) -> str:
        """The report's heading (the registry's title)."""
        return self.record.title

    @property
    def severity(self) -> str:
        """HIGH, MEDIUM or LOW."""
        return self.record.severity.value

    @property
    def proposed_class(self) -> str:
        """The class proposed for the kind, or what names it when the kind proposes none."""
        return _proposed(self.record)

    @property
    def summary(self) -> str:
        """What the component computes and why no catalog class reproduces it."""
        return self.record.summary

    @property
    def file_name(self) -> str:
        """The report's file name inside the gaps folder."""
        return f"{self.gap_kind}.md"

    @property
    def report_path(self) -> str:
        """The report's path as configs link it (`gaps/<gap_kind>.md`)."""
        return f"{GAPS_DIR}/{self.file_name}"

    @property
    def models_blocked(self) -> int:
        """Number of distinct models with at least one entry of this kind."""
        return len(self.models)

    @property
    def entry_count(self) -> int:
        """Number of config entries of this kind over all models."""
        return sum(len(model.entries) for model in self.models)

    @property
    def instance_count(self) -> int:
        """Layer instances of this kind over all models (sum of entry counts)."""
        return sum(entry.count for model in self.models for entry in model.entries)

    @property
    def total_parameters(self) -> int:
        """Parameters held by entries of this kind over all models."""
        return sum(model.total_parameters for model in self.models)

    def rank_key(self) -> tuple[int, int, str]:
        """Index order: most models blocked first, then severity, then name."""
        return (-self.models_blocked, self.record.severity.rank, self.gap_kind)


def _proposed(record: GapKind) -> str:
    return record.proposed_class or _EACH_ENTRY_CLASS


def _model_label(result: BuildResult) -> str:
    return result.inspection.hf_id or result.model_id


def _tied_tensors(result: BuildResult, entry_name: str) -> tuple[TensorRecord, ...]:
    """Tensors the model owns elsewhere and reaches under the entry's name through an alias."""
    found = []
    for record in result.inspection.tensors:
        for alias in record.aliases:
            module = alias.rpartition(".")[0]
            if module.rpartition(".")[2] == entry_name:
                found.append(record)
                break
    return tuple(sorted(found, key=lambda record: record.name))


def collect_gaps(results: Iterable[BuildResult]) -> dict[str, GapKindReport]:
    """Group the unsupported entries of many builds by gap kind, models and entries sorted."""
    grouped: dict[str, dict[str, BlockedModel]] = {}
    for result in results:
        label = _model_label(result)
        by_kind: dict[str, list[BlockedEntry]] = {}
        for entry in result.entries:
            if entry.supported and not entry.stand_in_for:
                continue
            kind = entry.gap_kind or "unknown"
            shared: tuple[TensorRecord, ...] = ()
            if not entry.example_tensors:
                shared = _tied_tensors(result, entry.name)
            by_kind.setdefault(kind, []).append(
                BlockedEntry(
                    name=entry.name,
                    class_name=entry.gap_class,
                    count=entry.count,
                    layer_indices=entry.layers,
                    specs=entry.gap_specs,
                    example_tensors=tuple(entry.example_tensors),
                    shared_tensors=shared,
                    stand_in=entry.class_name if entry.stand_in_for else None,
                )
            )
        for kind, entries in by_kind.items():
            models = grouped.setdefault(kind, {})
            if label in models:
                raise ValueError(
                    f"model {label!r} appears twice among the builds passed to collect_gaps; "
                    f"pass each model once"
                )
            models[label] = BlockedModel(
                model=label,
                model_id=result.model_id,
                num_layers=result.structure.num_layers,
                entries=tuple(sorted(entries, key=lambda e: e.name)),
            )
    reports: dict[str, GapKindReport] = {}
    for kind in sorted(grouped):
        models = tuple(
            grouped[kind][label] for label in sorted(grouped[kind], key=lambda s: (s.lower(), s))
        )
        reports[kind] = GapKindReport(kind, gap_kind(kind), models)
    return reports
