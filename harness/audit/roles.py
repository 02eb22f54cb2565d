"""Roles: which component of the dry run an entry describes, and the dry run seen through the same
entry reader.

A role is a kind of component of the structure step (`attention`, `mlp`, `patch_embedding` ...)
in one part of the model (the text stack, or an encoder: `vision` ...), and an entry either stands
for such a component or is a part split off one (`addon`: sinks, biases, q/k norms ...). What the
harness wrote says it: the entry's `part`, `component` or `split_from` field, else its gap kind's
`[check]` role in the registry (harness/catalog/gap_kinds/<kind>.toml), else its class
(`implied_role`). Only an entry the harness did not write (no `layer_indices`: a hand-written
config) is read by its name where its class does not say enough.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog import (
    CATALOG,
    Layer,
    LayerClassInfo,
)
from ..catalog.registry import CheckRole, implied_role, proposed_class
from ..pipeline.config import BuildResult, entry_lists
from ..pipeline.mapping import MODEL_LEVEL
from ..pipeline.origin import written_kind
from ..pipeline.structure import (
    TEXT,
    AttentionAttrs,
    Component,
    LatentAttentionAttrs,
    Structure,
)
from .binding import _bind, _class_view, _unknown_class
from .report import WARNING, AuditFinding, _finding

__all__: list[str] = []

# Components that map to no entry (buffers hold no parameters).
_NO_ENTRY = frozenset({"buffers"})
# What a hand-written entry's name says when its class does not (first match wins).
_NAME_ROLES: tuple[tuple[tuple[str, ...], tuple[str, bool]], ...] = (
    (("sink",), ("attention", True)),
    (("qk_norm", "q_norm", "k_norm"), ("attention", True)),
    (("lm_head", "unembed"), ("lm_head", False)),
    (("pos_embed", "position_embed", "position"), ("position_embedding", False)),
    (("embed",), ("embedding", False)),
    (("router", "expert", "moe"), ("moe", False)),
    (("mamba", "ssm"), ("mamba_mixer", False)),
    (("delta", "linear_attn"), ("gated_delta_net", False)),
    (("attn", "attention"), ("attention", False)),
    (("mlp", "ffn", "feedforward", "feed_forward"), ("mlp", False)),
    (("norm",), ("norm", False)),
    (("head", "output"), ("lm_head", False)),
)
_ADDON_WORD = re.compile(r"(^|_)(bias|gate|tensors)($|_)")
# Message nouns of the roles a hand-written config has; any other role reads as its words.
_NOUNS = {
    "attention": "attention layer",
    "mlp": "MLP layer",
    "moe": "MoE layer",
    "norm": "norm",
    "embedding": "embedding",
    "position_embedding": "position embedding",
    "lm_head": "LM head",
    "mamba_mixer": "Mamba mixer",
    "gated_delta_net": "gated delta-net mixer",
    "unknown": "component",
}


def _noun(role: str) -> str:
    return _NOUNS.get(role, role.replace("_", " "))


def _role_order(key: tuple[str, str]) -> tuple[bool, str, int, str]:
    """Text stack first, then parts by name; roles in the order of `_NOUNS`, then by name."""
    part, role = key
    rank = list(_NOUNS).index(role) if role in _NOUNS else len(_NOUNS)
    return (part != TEXT, part, rank, role)


@dataclass(frozen=True)
class _Entry:
    """One layer_types entry, read the way Mantile's loader reads it."""

    name: str
    class_name: str
    count: int
    specs: dict[str, Any]
    supported: bool | None
    known: bool
    role: str
    addon: bool
    part: str
    variant: str
    declared: int | None
    layer: Layer | None
    layer_indices: tuple[int, ...] = ()
    gap_report: str | None = None
    loaded: bool = True  # in layer_types (Mantile loads it), not unsupported_layer_types
    stand_in_for: str | None = None

    @property
    def modelled(self) -> int | None:
        """Parameters per instance from the class formula on the loader-filtered specs."""
        return self.layer.parameter_count() if self.layer is not None else None

    @property
    def per_instance(self) -> int | None:
        """What this entry stands for: the class formula, else the declared count."""
        return self.modelled if self.modelled is not None else self.declared


@dataclass(frozen=True)
class _Group:
    """Dry run: the instances of one role and variant (e.g. the 18 sliding-attention layers)."""

    part: str
    role: str
    variant: str
    sizes: tuple[int, ...]
    layers: frozenset[int]
    windows: frozenset[int | None] = frozenset()
    sinks: tuple[int, ...] = ()
    core: tuple[_Entry, ...] = ()

    @property
    def count(self) -> int:
        """Number of instances."""
        return len(self.sizes)

    @property
    def size(self) -> int | None:
        """Parameters per instance when every instance has the same, else None."""
        return self.sizes[0] if self.sizes and len(set(self.sizes)) == 1 else None

    @property
    def core_size(self) -> int | None:
        """Per-instance parameters of the dry run's class-exact entry, when there is one size."""
        sizes = {entry.per_instance for entry in self.core}
        return sizes.pop() if len(sizes) == 1 and None not in sizes else None

    @property
    def label(self) -> str:
        """`sliding-attention layers`, `norms` ... for messages."""
        noun = _noun(self.role)
        prefix = f"{self.variant}-" if self.variant and "+" not in self.variant else ""
        part = f"{self.part} " if self.part != TEXT else ""
        return f"{part}{prefix}{noun}s"


def _role(raw: Mapping[str, Any]) -> tuple[str, str, bool]:
    """(part, role, addon) of one entry, from what the harness wrote (module docstring)."""
    part = raw["part"] if isinstance(raw.get("part"), str) else TEXT
    if isinstance(raw.get("split_from"), str):
        return part, raw["split_from"], True
    if isinstance(raw.get("component"), str):
        return part, raw["component"], False
    name, class_name = raw["name"], raw["class"]
    implied = implied_role(class_name, written_kind(raw))
    if implied is not None and implied.component is not None and "layer_indices" in raw:
        return part, implied.component, implied.addon
    return (part, *_named_role(name.lower(), class_name, implied))


def _named_role(lowered: str, class_name: str, implied: CheckRole | None) -> tuple[str, bool]:
    """A hand-written entry: its class's role, refined by its name where the class cannot say
    (a position embedding, q/k norms, a shared expert, biases and gates); else its name's."""
    if implied is not None and implied.component and class_name != proposed_class("unknown"):
        role, addon = implied.component, implied.addon
        if class_name == "EmbeddingLayer" and "pos" in lowered:
            return "position_embedding", False
        if class_name == "NormLayer" and re.search(r"(^|_)(qk|q|k)_?norm", lowered):
            return "attention", True
        if class_name in {"MLPLayer", "GatedMLPLayer"} and lowered.startswith("shared_expert"):
            return "moe", True
        if not addon and role in {"attention", "mlp", "moe"} and _ADDON_WORD.search(lowered):
            return role, class_name not in CATALOG
        return role, addon
    for words, (role, addon) in _NAME_ROLES:
        if any(word in lowered for word in words):
            if role in {"attention", "mlp", "moe"} and _ADDON_WORD.search(lowered):
                return role, True
            return role, addon
    return "unknown", False


def _component_variant(component: Component) -> str:
    return _attention_attrs(component).window.value


def _attention_attrs(component: Component) -> AttentionAttrs | LatentAttentionAttrs:
    if isinstance(component.attrs, LatentAttentionAttrs):
        return component.attrs
    return component.attrs_as(AttentionAttrs)


def _variant(
    role: str,
    class_name: str,
    name: str,
    specs: Mapping[str, Any],
    indices: Sequence[int],
    layer_variants: Mapping[tuple[str, int], str],
    part: str,
) -> str:
    if role != "attention":
        return ""
    if indices and all((part, index) in layer_variants for index in indices):
        variants = {layer_variants[(part, index)] for index in indices}
        return variants.pop() if len(variants) == 1 else "*"
    if class_name == "SlidingWindowAttentionLayer":
        return "sliding" if specs.get("sliding_window") is not None else "full"
    if class_name in {"AttentionLayer", "GroupedQueryAttentionLayer"}:
        return "full"
    lowered = name.lower()
    if any(word in lowered for word in ("sliding", "swa", "local")):
        return "sliding"
    if any(word in lowered for word in ("full", "global")):
        return "full"
    return "*"


def _read_entries(
    raw_entries: Sequence[Any],
    skip: set[int],
    layers: Mapping[str, LayerClassInfo] | None,
    layer_variants: Mapping[tuple[str, int], str],
    findings: list[AuditFinding],
    *,
    loaded: bool = True,
) -> list[_Entry]:
    """Read entries as the loader does (`loaded`: layer_types) or as declared gaps (the rest)."""
    entries = []
    for index, raw in enumerate(raw_entries):
        if index in skip:
            continue
        name, class_name, specs = raw["name"], raw["class"], raw["specs"]
        supported = raw.get("supported") if isinstance(raw.get("supported"), bool) else None
        view = _class_view(class_name, layers) if loaded else None
        layer = None
        if view is not None:
            layer = _bind(raw, view, findings)
        elif loaded:
            findings.append(_unknown_class(name, class_name, layers))
        stand_in = raw.get("stand_in_for") if isinstance(raw.get("stand_in_for"), str) else None
        part, role, addon = _role(raw)
        listed = raw.get("layer_indices")
        valid = isinstance(listed, list) and all(
            isinstance(i, int) and not isinstance(i, bool) and i >= MODEL_LEVEL for i in listed
        )
        # one index per instance, MODEL_LEVEL for an instance outside the layers: keep the layers
        indices = tuple(sorted({i for i in listed if i != MODEL_LEVEL})) if valid else ()
        declared = specs.get("parameter_count")
        entry = _Entry(
            name=name,
            class_name=class_name,
            count=int(raw.get("count", 1)),
            specs=dict(specs),
            supported=supported,
            known=view is not None,
            role=role,
            addon=addon,
            part=part,
            variant=_variant(role, class_name, name, specs, indices, layer_variants, part),
            declared=declared,
            layer=layer,
            layer_indices=indices,
            gap_report=raw["gap_report"] if isinstance(raw.get("gap_report"), str) else None,
            loaded=loaded,
            stand_in_for=stand_in,
        )
        if view is not None and supported is False:
            per = f" ({entry.modelled:,} parameters per instance)" if layer is not None else ""
            findings.append(
                _finding(
                    WARNING,
                    "supported-ignored",
                    name,
                    f"supported: false has no effect: Mantile never reads the flag and computes "
                    f"this entry with {class_name} anyway{per}",
                )
            )
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class _DryRun:
    groups: dict[tuple[str, str, str], _Group]  # (part, role, variant)
    addons: tuple[_Entry, ...]
    total: int
    structure: Structure
    layer_variants: dict[tuple[str, int], str]


def _dry_run_view(dry_run: BuildResult) -> _DryRun:
    """The dry run's components grouped by part, role and variant, and its own entries read by
    the same reader as the config's (from the config it wrote)."""
    structure = dry_run.structure
    layer_variants = {
        (c.part.value, c.layer_index): _component_variant(c)
        for c in structure.components
        if c.kind == "attention" and c.layer_index is not None
    }
    sizes: dict[tuple[str, str, str], list[int]] = {}
    layers: dict[tuple[str, str, str], set[int]] = {}
    windows: dict[tuple[str, str, str], set[int | None]] = {}
    sinks: dict[tuple[str, str, str], list[int]] = {}
    for component in structure.components:
        if component.kind in _NO_ENTRY:
            continue
        role = component.kind.value
        variant = _component_variant(component) if role == "attention" else ""
        key = (component.part.value, role, variant)
        sizes.setdefault(key, []).append(component.parameter_count)
        if component.layer_index is not None:
            layers.setdefault(key, set()).add(component.layer_index)
        if role == "attention":
            attention = _attention_attrs(component)
            windows.setdefault(key, set()).add(attention.sliding_window)
            sinks.setdefault(key, []).append(int(attention.sink_params or 0))
    written = entry_lists(dry_run.config)
    loaded = [raw for raw in written if raw["supported"]]
    declared = [raw for raw in written if not raw["supported"]]
    entries = _read_entries(loaded, set(), None, layer_variants, []) + _read_entries(
        declared, set(), None, layer_variants, [], loaded=False
    )
    groups = {
        key: _Group(
            part=key[0],
            role=key[1],
            variant=key[2],
            sizes=tuple(values),
            layers=frozenset(layers.get(key, ())),
            windows=frozenset(windows.get(key, ())),
            sinks=tuple(sinks.get(key, ())),
            core=tuple(e for e in entries if not e.addon and (e.part, e.role, e.variant) == key),
        )
        for key, values in sizes.items()
    }
    addons = tuple(e for e in entries if e.addon)
    return _DryRun(groups, addons, int(dry_run.config["total_params"]), structure, layer_variants)


def _merge(groups: Sequence[_Group]) -> _Group:
    if len(groups) == 1:
        return groups[0]
    return _Group(
        part=groups[0].part,
        role=groups[0].role,
        variant="+".join(g.variant for g in groups),
        sizes=tuple(size for g in groups for size in g.sizes),
        layers=frozenset().union(*(g.layers for g in groups)),
        windows=frozenset().union(*(g.windows for g in groups)),
        sinks=tuple(s for g in groups for s in g.sinks),
        core=tuple(e for g in groups for e in g.core),
    )
