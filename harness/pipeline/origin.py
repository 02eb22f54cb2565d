"""Where each entry comes from: the part of the model and the component it is, or is split off.

`harness check` reads an entry's role from what the build wrote: its gap kind (or stand-in), or
its class (harness.catalog.registry.implied_role). Where that is not what the entry is, the
config says it in fields of the entry, and only there:

* `part`: the encoder the entry belongs to (`vision`, `audio` ...), for every entry outside the
  text stack;
* `component`: the kind of component the entry stands for when its class or gap kind names
  another (an EmbeddingLayer for a `position_embedding`, an `unknown` gap for an MLP no class
  reproduces);
* `split_from`: the kind of component the entry is a part of when its class or gap kind does not
  say so (q/k norms as NormLayers inside attention, a shared expert inside a MoE block, the
  tensors no rule claimed).

An entry's component is the one owning the tensors of its first instance. Of the entries of one
component, the one its class or gap kind names as that component stands for it; a component no
such entry stands for (the mapper found no class for it) is stood for by its first entry, as the
mapper lists a component's own piece before the parts it splits off; every other entry is a part
split off it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog.registry import implied_role
from .mapping import MODEL_LEVEL, LayerEntry
from .structure import Component, Part, Structure

__all__ = ["EntryOrigin", "entry_origins", "origin_fields", "written_kind"]


@dataclass(frozen=True)
class EntryOrigin:
    """The part and the component one entry is (`addon` False) or is split off (`addon` True)."""

    part: str
    component: str
    addon: bool


def written_kind(entry: Mapping[str, Any]) -> str | None:
    """The gap kind an entry of a config carries: its stand-in's, else its own (unsupported)."""
    kind = entry.get("stand_in_for") or entry.get("gap_kind")
    return kind if isinstance(kind, str) else None


def _written(entry: LayerEntry) -> str | None:
    return written_kind(entry.as_json())


def _stands_for(entry: LayerEntry, component: Component) -> bool:
    role = implied_role(entry.class_name, _written(entry))
    return role is not None and role.component == component.kind.value and not role.addon


def entry_origins(entries: Sequence[LayerEntry], structure: Structure) -> dict[str, EntryOrigin]:
    """Entry name -> origin, for every entry with a tensor of its own (a tied head has none)."""
    owner = {t.name: c for c in structure.components for t in c.tensors}
    first: dict[str, Component] = {}
    for entry in entries:
        found = [owner[t.name] for t in entry.example_tensors if t.name in owner]
        if found:
            first[entry.name] = found[0]
    # How many components of each kind sit at each layer: that many entries stand for them there.
    places = Counter(
        (c.part.value, c.kind.value, MODEL_LEVEL if c.layer_index is None else c.layer_index)
        for c in structure.components
    )
    standing: Counter[tuple[str, str, int]] = Counter()
    core: set[str] = set()

    def stand(entry: LayerEntry, component: Component) -> None:
        core.add(entry.name)
        for index in entry.layer_indices:
            standing[(component.part.value, component.kind.value, index)] += 1

    by_name = {entry.name: entry for entry in entries}
    for name, component in first.items():
        if _stands_for(by_name[name], component):
            stand(by_name[name], component)
    # Components no entry's class or gap kind stands for: their first entry does.
    for name in [name for name in first if name not in core]:
        component, entry = first[name], by_name[name]
        index = entry.layer_indices[0] if entry.layer_indices else MODEL_LEVEL
        key = (component.part.value, component.kind.value, index)
        if standing[key] < places[key]:
            stand(entry, component)
    return {
        name: EntryOrigin(component.part.value, component.kind.value, name not in core)
        for name, component in first.items()
    }


def origin_fields(entry: LayerEntry, origin: EntryOrigin | None) -> dict[str, str]:
    """The fields an entry of the config needs beyond its class and gap kind (module docstring)."""
    if origin is None:
        return {}
    fields = {"part": origin.part} if origin.part != Part.TEXT else {}
    role = implied_role(entry.class_name, _written(entry))
    if role is not None and (role.component, role.addon) == (origin.component, origin.addon):
        return fields
    return {**fields, ("split_from" if origin.addon else "component"): origin.component}
