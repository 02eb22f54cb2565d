"""Roles: which component of the dry run an entry describes (embedding, attention, MLP, MoE, norm,
LM head, mixers), read from its class, gap kind or name; and the dry run seen through the same
entry reader.
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
from ..catalog.registry import proposed_class
from ..pipeline.config import BuildResult
from ..pipeline.mapping import MODEL_LEVEL
from ..pipeline.structure import Component, Structure
from .binding import _bind, _class_view, _unknown_class
from .report import WARNING, AuditFinding, _finding

__all__: list[str] = []

_COMPONENT_ROLES = {
    "embedding": "embedding",
    "position_embedding": "position_embedding",
    "lm_head": "lm_head",
    "attention": "attention",
    "mlp": "mlp",
    "moe": "moe",
    "norm": "norm",
    "mamba_mixer": "mamba_mixer",
    "gated_delta_net": "gated_delta_net",
    "unknown": "other",
}
# (role, add-on): an add-on is a part the harness splits off a component (sinks, biases ...).
_GAP_KIND_ROLES: dict[str, tuple[str, bool]] = {
    "multi_head_latent_attention": ("attention", False),
    "nonstandard_attention": ("attention", False),
    "gated_attention": ("attention", True),
    "attention_sinks": ("attention", True),
    "attention_bias": ("attention", True),
    "qk_norm": ("attention", True),
    "mlp_bias": ("mlp", True),
    "moe_bias": ("moe", True),
    "shared_expert_gate": ("moe", True),
    "mamba_mixer": ("mamba_mixer", False),
    "gated_delta_net": ("gated_delta_net", False),
    "lm_head": ("lm_head", False),
}
_CLASS_ROLES: dict[str, tuple[str, bool]] = {
    **{proposed_class(kind): role for kind, role in _GAP_KIND_ROLES.items()},
    "EmbeddingLayer": ("embedding", False),
    "AttentionLayer": ("attention", False),
    "GroupedQueryAttentionLayer": ("attention", False),
    "SlidingWindowAttentionLayer": ("attention", False),
    "MLPLayer": ("mlp", False),
    "GatedMLPLayer": ("mlp", False),
    "MoELayer": ("moe", False),
    "NormLayer": ("norm", False),
}
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
    "other": "component",
}


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
        noun = _NOUNS.get(self.role, self.role)
        prefix = f"{self.variant}-" if self.variant and "+" not in self.variant else ""
        return f"{prefix}{noun}s"


def _role(name: str, class_name: str, stand_in_for: str | None = None) -> tuple[str, bool]:
    if stand_in_for in _GAP_KIND_ROLES:
        return _GAP_KIND_ROLES[stand_in_for]
    lowered = name.lower()
    base = _CLASS_ROLES.get(class_name)
    if base is not None and class_name != proposed_class("unknown"):
        role, addon = base
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
    return "other", False


def _component_variant(component: Component) -> str:
    if component.attrs.get("sliding_window") is not None:
        return "sliding"
    if component.attrs.get("chunked"):
        return "chunked"
    return "full"


def _variant(
    role: str,
    class_name: str,
    name: str,
    specs: Mapping[str, Any],
    indices: Sequence[int],
    layer_variants: Mapping[int, str],
) -> str:
    if role != "attention":
        return ""
    if indices and all(index in layer_variants for index in indices):
        variants = {layer_variants[index] for index in indices}
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
    layer_variants: Mapping[int, str],
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
        role, addon = _role(name, class_name, stand_in)
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
            variant=_variant(role, class_name, name, specs, indices, layer_variants),
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
    groups: dict[tuple[str, str], _Group]
    addons: tuple[_Entry, ...]
    total: int
    structure: Structure
    layer_variants: dict[int, str]


def _dry_run_view(dry_run: BuildResult) -> _DryRun:
    structure = dry_run.structure
    layer_variants = {
        c.layer_index: _component_variant(c)
        for c in structure.of_kind("attention")
        if c.layer_index is not None
    }
    sizes: dict[tuple[str, str], list[int]] = {}
    layers: dict[tuple[str, str], set[int]] = {}
    windows: dict[tuple[str, str], set[int | None]] = {}
    sinks: dict[tuple[str, str], list[int]] = {}
    for component in structure.components:
        role = _COMPONENT_ROLES.get(component.kind)
        if role is None:
            continue
        variant = _component_variant(component) if role == "attention" else ""
        key = (role, variant)
        sizes.setdefault(key, []).append(component.parameter_count)
        if component.layer_index is not None:
            layers.setdefault(key, set()).add(component.layer_index)
        if role == "attention":
            windows.setdefault(key, set()).add(component.attrs.get("sliding_window"))
            sinks.setdefault(key, []).append(int(component.attrs.get("sink_params") or 0))
    loaded = [entry.as_json() for entry in dry_run.entries if entry.supported]
    declared = [entry.as_json() for entry in dry_run.entries if not entry.supported]
    entries = _read_entries(loaded, set(), None, layer_variants, []) + _read_entries(
        declared, set(), None, layer_variants, [], loaded=False
    )
    groups = {
        key: _Group(
            role=key[0],
            variant=key[1],
            sizes=tuple(values),
            layers=frozenset(layers.get(key, ())),
            windows=frozenset(windows.get(key, ())),
            sinks=tuple(sinks.get(key, ())),
            core=tuple(e for e in entries if not e.addon and (e.role, e.variant) == key),
        )
        for key, values in sizes.items()
    }
    addons = tuple(e for e in entries if e.addon)
    return _DryRun(groups, addons, int(dry_run.config["total_params"]), structure, layer_variants)


def _merge(groups: Sequence[_Group]) -> _Group:
    if len(groups) == 1:
        return groups[0]
    return _Group(
        role=groups[0].role,
        variant="+".join(g.variant for g in groups),
        sizes=tuple(size for g in groups for size in g.sizes),
        layers=frozenset().union(*(g.layers for g in groups)),
        windows=frozenset().union(*(g.windows for g in groups)),
        sinks=tuple(s for g in groups for s in g.sinks),
        core=tuple(e for g in groups for e in g.core),
    )
