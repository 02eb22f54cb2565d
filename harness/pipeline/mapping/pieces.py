"""Pieces: one component's share mapped to one class or gap kind, before entries merge them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...catalog import layer_set
from ...catalog.registry import proposed_class
from ..inventory import TensorRecord
from ..structure import Component

__all__ = ["MISSING_TARGET_CLASS", "Piece"]

# Gap kind of a catalog-exact entry whose class the target layer set lacks (or binds differently).
MISSING_TARGET_CLASS = "missing_target_class"


@dataclass(frozen=True)
class Piece:
    """One component's share mapped to one class, before identical pieces merge into entries."""

    name: str
    class_name: str
    supported: bool
    specs: dict[str, Any]  # constructor specs without layer_idx, plus parameter_count
    layer_index: int | None
    gap_kind: str | None = None
    tensors: tuple[TensorRecord, ...] = ()
    variant: str = ""

    def key(self) -> str:
        """Identity for merging: same name, class, support, gap and specs."""
        return json.dumps(
            [self.name, self.class_name, self.supported, self.gap_kind, self.specs], sort_keys=True
        )


def _layer_count(class_name: str, specs: Mapping[str, Any]) -> int | None:
    """The catalog formula's parameter count for specs, or None when they do not bind."""
    layer = layer_set().layer(class_name, specs)
    return None if layer is None else layer.parameter_count()


def _piece(
    name: str,
    component: Component,
    class_name: str,
    gap_kind: str | None,
    specs: dict[str, Any],
    count: int,
    tensors: Sequence[TensorRecord],
    variant: str,
) -> Piece:
    return Piece(
        name,
        class_name,
        gap_kind is None,
        {**specs, "parameter_count": count},
        component.layer_index,
        gap_kind,
        tuple(tensors) or component.tensors,
        variant,
    )


def _supported(
    name: str,
    component: Component,
    class_name: str,
    specs: dict[str, Any],
    count: int,
    tensors: Sequence[TensorRecord] = (),
    variant: str = "",
) -> Piece:
    return _piece(name, component, class_name, None, specs, count, tensors, variant)


def _gap(
    name: str,
    component: Component,
    gap_kind: str,
    specs: dict[str, Any],
    count: int,
    tensors: Sequence[TensorRecord] = (),
    variant: str = "",
) -> Piece:
    cls = proposed_class(gap_kind)  # the registry: harness/catalog/gap_kinds/<kind>.toml
    return _piece(name, component, cls, gap_kind, specs, count, tensors, variant)


def _first_fit(
    candidates: Iterable[tuple[str, dict[str, Any]]], target: int
) -> tuple[str, dict[str, Any]] | None:
    for class_name, specs in candidates:
        if _layer_count(class_name, specs) == target:
            return class_name, specs
    return None


def _leftover(name: str, component: Component, params: int, tensors: Iterable[str]) -> list[Piece]:
    """The `unknown` gap for the `params` no rule claimed (held by `tensors`), if any."""
    if not params:
        return []
    others = _tensors_named(component, tensors)
    return [_gap(name, component, "unknown", {}, params, others)]


def _tensors_named(component: Component, names: Iterable[str]) -> tuple[TensorRecord, ...]:
    wanted = set(names)
    return tuple(t for t in component.tensors if t.name in wanted)
