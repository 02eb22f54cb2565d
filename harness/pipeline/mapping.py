"""Step 4, map: turn components into Mantile `layer_types` entries whose class formulas are exact.

A catalog class is used only where its own parameter formula reproduces the component's dry-run
count. What it cannot represent is split off into its own unsupported entry with a gap kind
(per-head sinks, biases, an output gate ...); it never stretches a class's meaning.

Then every entry is fitted to the target layer set (the catalog, or the classes of a layers
folder): a supported entry stays only where the target loads its class with these specs exactly;
a gap whose proposed class the target has (same name, constructor taking the proposed specs) is
picked up as supported; a gap that a target class reproduces exactly under the gap kind's
reference formulas (harness.catalog.formulas) becomes a declared stand-in (`stand_in_for`); every
other entry stays unsupported and goes to the config's `unsupported_layer_types`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..catalog import LayerSet, LayerSignature, layer_set
from ..catalog.formulas import exact_stand_in
from ..catalog.registry import proposed_class
from .inventory import TensorRecord
from .structure import TEXT, Component, Structure

__all__ = [
    "MISSING_TARGET_CLASS",
    "MODEL_LEVEL",
    "LayerEntry",
    "Piece",
    "active_parameters",
    "entries_parameter_total",
    "map_components",
]

MODEL_LEVEL = -1  # the layer index of an instance outside the decoder layers (as Mantile's own)

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


@dataclass(frozen=True)
class LayerEntry:
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
    def parameter_count(self) -> int:
        """Parameters of one instance."""
        return int(self.specs["parameter_count"])

    @property
    def total_parameters(self) -> int:
        """count x parameter_count."""
        return self.count * self.parameter_count

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


def _leftover(name: str, component: Component, attrs: Mapping[str, Any]) -> list[Piece]:
    """The `unknown` gap for the tensors no rule claimed (`other_params` of `attrs`), if any."""
    if not attrs["other_params"]:
        return []
    others = _tensors_named(component, attrs.get("other_tensors", ()))
    return [_gap(name, component, "unknown", {}, attrs["other_params"], others)]


def _tensors_named(component: Component, names: Iterable[str]) -> tuple[TensorRecord, ...]:
    wanted = set(names)
    return tuple(t for t in component.tensors if t.name in wanted)


def _map_embedding(component: Component) -> list[Piece]:
    a = component.attrs
    name = component.kind
    specs = {"vocab_size": a["vocab_size"], "hidden_size": a["hidden_size"]}
    count = component.parameter_count
    if _layer_count("EmbeddingLayer", specs) == count:
        return [_supported(name, component, "EmbeddingLayer", specs, count)]
    return [_gap("unknown_" + name, component, "unknown", specs, count)]


def _map_lm_head(component: Component) -> list[Piece]:
    a = component.attrs
    specs = {
        "vocab_size": a["vocab_size"],
        "hidden_size": a["hidden_size"],
        "tied": bool(a.get("tied")),
        # A head with its own bias (phi-2: V values) costs V more parameters than V x H.
        "has_bias": any(t.kind == "param" and t.leaf == "bias" for t in component.tensors),
    }
    return [_gap("lm_head", component, "lm_head", specs, component.parameter_count)]


def _map_norm(component: Component, name: str = "norm") -> list[Piece]:
    a = component.attrs
    specs = {"hidden_size": a["hidden_size"], "has_bias": a["has_bias"]}
    count = component.parameter_count
    if _layer_count("NormLayer", specs) == count:
        return [_supported(name, component, "NormLayer", specs, count)]
    return [_gap("unknown_" + name, component, "unknown", specs, count)]


def _attention_candidates(
    a: Mapping[str, Any], with_bias: bool
) -> list[tuple[str, dict[str, Any]]]:
    hidden, heads, kv_heads, head_dim = (
        a["hidden_size"],
        a["num_heads"],
        a["num_kv_heads"],
        a["head_dim"],
    )
    swa = {
        "hidden_size": hidden,
        "num_query_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "sliding_window": a["sliding_window"],
        "has_bias": with_bias,
    }
    if a["sliding_window"] is not None:
        return [("SlidingWindowAttentionLayer", swa)]
    candidates: list[tuple[str, dict[str, Any]]] = []
    if not with_bias:
        if kv_heads == heads:
            candidates.append(
                (
                    "AttentionLayer",
                    {"hidden_size": hidden, "num_heads": heads, "head_dim": head_dim},
                )
            )
        else:
            candidates.append(
                (
                    "GroupedQueryAttentionLayer",
                    {
                        "hidden_size": hidden,
                        "num_heads": heads,
                        "num_kv_heads": kv_heads,
                        "head_dim": head_dim,
                    },
                )
            )
    candidates.append(("SlidingWindowAttentionLayer", swa))
    return candidates


def _map_attention(component: Component) -> list[Piece]:
    a = component.attrs
    if a.get("variant") == "mla":
        specs = {
            key: a.get(key)
            for key in (
                "hidden_size",
                "num_heads",
                "q_lora_rank",
                "kv_lora_rank",
                "qk_nope_head_dim",
                "qk_rope_head_dim",
                "v_head_dim",
            )
        }
        return [
            _gap(
                "attention",
                component,
                "multi_head_latent_attention",
                specs,
                component.parameter_count,
                variant="mla",
            )
        ]
    variant = (
        "sliding" if a["sliding_window"] is not None else ("chunked" if a["chunked"] else "full")
    )
    pieces: list[Piece] = []
    bias = a["bias"]
    weights = a["weight_params"]
    biases = a["bias_params"]
    all_bias = all(bias.values())
    fit = None
    if not a["chunked"]:
        if all_bias or biases == 0:
            fit = _first_fit(_attention_candidates(a, with_bias=all_bias), weights + biases)
        if fit is None and biases:
            fit = _first_fit(_attention_candidates(a, with_bias=False), weights)
            if fit is not None:
                pieces_bias = {
                    "hidden_size": a["hidden_size"],
                    "d_q": a["d_q"],
                    "d_kv": a["d_kv"],
                    **{f"{p}_bias": on for p, on in bias.items()},
                }
                bias_tensors = tuple(t for t in component.tensors if t.leaf == "bias")
                pieces.append(
                    _gap(
                        "attention_bias",
                        component,
                        "attention_bias",
                        pieces_bias,
                        biases,
                        bias_tensors,
                        variant,
                    )
                )
    qk_norms = set(a["qk_norms"]) | set(a.get("gates", ()))
    core_tensors = tuple(
        t for t in component.tensors if t.leaf in {"weight", "bias"} and t.name not in qk_norms
    )
    if fit is not None:
        class_name, specs = fit
        core_count = _layer_count(class_name, specs) or 0
        pieces.insert(
            0,
            _supported(
                "attention", component, class_name, specs, core_count, core_tensors, variant
            ),
        )
    else:
        specs = {
            "hidden_size": a["hidden_size"],
            "num_heads": a["num_heads"],
            "num_kv_heads": a["num_kv_heads"],
            "head_dim": a["head_dim"],
            "sliding_window": a["sliding_window"],
        }
        if "v_head_dim" in a:
            specs["v_head_dim"] = a["v_head_dim"]
        pieces = [
            _gap(
                "attention",
                component,
                "nonstandard_attention",
                specs,
                weights + biases,
                core_tensors,
                variant,
            )
        ]
    if a["gate_params"]:
        specs = {
            "hidden_size": a["hidden_size"],
            "num_heads": a["num_heads"],
            "head_dim": a["head_dim"],
        }
        if "gate_width" in a:
            specs["gate_width"] = a["gate_width"]
        gate_tensors = _tensors_named(component, a.get("gates", ())) or core_tensors
        pieces.append(
            _gap(
                "attention_output_gate",
                component,
                "gated_attention",
                specs,
                a["gate_params"],
                gate_tensors,
                variant,
            )
        )
    if a["sink_params"]:
        specs = {"num_heads": a["num_heads"]}
        pieces.append(
            _gap(
                "attention_sinks",
                component,
                "attention_sinks",
                specs,
                a["sink_params"],
                _tensors_named(component, a["sinks"]),
                variant,
            )
        )
    if a["qk_norm_params"]:
        pieces.extend(_map_qk_norm(component, variant))
    if a.get("relative_params"):
        specs = {"num_heads": a["num_heads"]}
        pieces.append(
            _gap(
                "relative_position_bias",
                component,
                "relative_position_bias",
                specs,
                a["relative_params"],
                _tensors_named(component, a["relative"]),
                variant,
            )
        )
    if a.get("differential_params"):
        specs = {"num_heads": a["num_heads"], "head_dim": a["head_dim"]}
        pieces.append(
            _gap(
                "differential_attention",
                component,
                "differential_attention",
                specs,
                a["differential_params"],
                _tensors_named(component, a["differential"]),
                variant,
            )
        )
    return pieces + _leftover("unknown_attention_tensors", component, a)


def _map_qk_norm(component: Component, variant: str) -> list[Piece]:
    a = component.attrs
    norms = _tensors_named(component, a["qk_norms"])
    widths = {t.name.split(".")[-2][0]: t.shape[0] for t in norms}
    # A norm over the whole projected vector is a NormLayer; one applied per head is not.
    if widths.get("q") == a["d_q"] and widths.get("k") == a["d_kv"] and a["d_q"] and a["d_kv"]:
        pieces = []
        for letter, width in sorted(widths.items()):
            specs = {"hidden_size": width, "has_bias": False}
            tensors = tuple(t for t in norms if t.name.split(".")[-2].startswith(letter))
            count = sum(t.numel for t in tensors)
            if _layer_count("NormLayer", specs) == count:
                pieces.append(
                    _supported(
                        f"{letter}_norm", component, "NormLayer", specs, count, tensors, variant
                    )
                )
        if sum(p.specs["parameter_count"] for p in pieces) == a["qk_norm_params"]:
            return pieces
    specs = {
        "num_heads": a["num_heads"],
        "num_kv_heads": a["num_kv_heads"],
        "head_dim": a["head_dim"],
        "norm_width": a["qk_norm_width"],
    }
    return [_gap("qk_norm", component, "qk_norm", specs, a["qk_norm_params"], norms, variant)]


def _map_dense_mlp(component: Component, a: Mapping[str, Any], name: str = "mlp") -> list[Piece]:
    hidden, inter = a["hidden_size"], a["intermediate_size"]
    if a["gated"]:
        candidate = ("GatedMLPLayer", {"hidden_size": hidden, "intermediate_size": inter})
    else:
        candidate = (
            "MLPLayer",
            {"hidden_size": hidden, "intermediate_size": inter, "num_projections": 2},
        )
    pieces: list[Piece] = []
    if _layer_count(*candidate) == a["weight_params"]:
        pieces.append(_supported(name, component, candidate[0], candidate[1], a["weight_params"]))
    else:
        pieces.append(
            _gap("unknown_" + name, component, "unknown", dict(candidate[1]), a["weight_params"])
        )
    if a["bias_params"]:
        # With every projection biased: (num_projections - 1) x I + H values.
        specs = {
            "hidden_size": hidden,
            "intermediate_size": inter,
            "num_projections": a.get("num_projections", 3 if a["gated"] else 2),
        }
        bias_tensors = tuple(t for t in component.tensors if t.leaf == "bias")
        pieces.append(
            _gap(f"{name}_bias", component, "mlp_bias", specs, a["bias_params"], bias_tensors)
        )
    if a.get("activation_params"):
        activation = _tensors_named(component, a["activation_tensors"])
        specs = {"intermediate_size": inter, "num_parameters": a["activation_params"]}
        pieces.append(
            _gap(
                f"{name}_activation",
                component,
                "learned_activation",
                specs,
                a["activation_params"],
                activation,
            )
        )
    return pieces + _leftover(f"unknown_{name}_tensors", component, a)


def _map_moe(component: Component) -> list[Piece]:
    a = component.attrs
    hidden, inter, experts = a["hidden_size"], a["intermediate_size"], a["num_experts"]
    shared = a["shared"]
    shared_count = 0
    if (
        shared
        and not shared["bias_params"]
        and inter
        and shared["intermediate_size"] % inter == 0
        and shared["num_projections"] == a["num_projections"]
    ):
        shared_count = shared["intermediate_size"] // inter
    base = {
        "hidden_size": hidden,
        "intermediate_size": inter,
        "num_experts": experts,
        "top_k": a["top_k"],
        "num_shared_experts": shared_count,
        "num_projections": a["num_projections"],
    }
    core = a["expert_params"] + a["router_params"] + (a["shared_params"] if shared_count else 0)
    biases = a["expert_bias_params"] + a["router_bias_params"]
    pieces: list[Piece] = []
    specs = {**base, "has_bias": bool(biases)}
    if _moe_count(specs) != core + biases and biases:
        specs = {**base, "has_bias": False}
        bias_tensors = tuple(t for t in component.tensors if t.leaf.endswith("bias"))
        pieces.append(
            _gap("moe_bias", component, "moe_bias", {"num_experts": experts}, biases, bias_tensors)
        )
        biases = 0
    exact = (
        a["top_k"] is not None
        and a.get("router_input_size", hidden) == hidden
        and _moe_count(specs) == core + biases
    )
    if exact:
        pieces.insert(0, _supported("moe", component, "MoELayer", specs, core + biases))
    else:
        # Experts the catalog cannot reproduce exactly: a top-k the config leaves unset, experts
        # in a narrower latent space than the router reads, projections neither 2 nor 3 wide.
        odd = {**specs, "router_input_size": a.get("router_input_size")}
        pieces.insert(0, _gap("moe", component, "nonstandard_moe", odd, core + biases))
    if a.get("router_extra_params"):
        extras = _tensors_named(component, a["router_extra_tensors"])
        specs = {"num_experts": experts, "hidden_size": hidden}
        pieces.append(
            _gap(
                "moe_router_extras",
                component,
                "moe_router_extras",
                specs,
                a["router_extra_params"],
                extras,
            )
        )
    if shared and not shared_count:
        pieces.extend(_map_dense_mlp(component, shared, name="shared_expert"))
    if a["shared_gate_params"]:
        gate_tensors = tuple(t for t in component.tensors if ".shared_expert_gate." in t.name)
        pieces.append(
            _gap(
                "shared_expert_gate",
                component,
                "shared_expert_gate",
                {"hidden_size": hidden},
                a["shared_gate_params"],
                gate_tensors,
            )
        )
    return pieces + _leftover("unknown_moe_tensors", component, a)


def _moe_count(specs: Mapping[str, Any]) -> int | None:
    """MoELayer's parameter count for specs; None when they do not bind (no top-k, p not 2/3)."""
    if specs.get("top_k") is None or specs.get("num_projections") not in (2, 3):
        return None
    return _layer_count("MoELayer", specs)


_MIXER_SPECS = {
    "mamba_mixer": (
        "hidden_size",
        "intermediate_size",
        "state_size",
        "conv_kernel",
        "time_step_rank",
    ),
    "gated_delta_net": ("hidden_size", "in_proj_out", "conv_channels", "conv_kernel"),
}


def _map_mixer(component: Component, structure: Structure) -> list[Piece]:
    a = component.attrs
    specs = {key: a.get(key) for key in _MIXER_SPECS[component.kind]}
    if component.kind == "gated_delta_net":
        for key in (
            "linear_num_key_heads",
            "linear_num_value_heads",
            "linear_key_head_dim",
            "linear_value_head_dim",
        ):
            specs[key] = structure.arch.get(key)
    return [_gap(component.kind, component, component.kind, specs, component.parameter_count)]


def _map_cross_attention(component: Component) -> list[Piece]:
    a = component.attrs
    if component.kind == "cross_attention_gate":
        return [
            _gap(
                "cross_attention_gate", component, "cross_attention", {}, component.parameter_count
            )
        ]
    projections = [t for t in component.tensors if t.kind == "param" and len(t.shape) == 2]
    specs = {
        "hidden_size": a["hidden_size"],
        "num_heads": a["num_heads"],
        "num_kv_heads": a["num_kv_heads"],
        "head_dim": a["head_dim"],
        "kv_input_size": max((t.shape[1] for t in projections), default=0),
        "has_bias": any(a["bias"].values()),
    }
    return [_gap("cross_attention", component, "cross_attention", specs, component.parameter_count)]


# Component kinds that are one gap each, with the component's attrs as specs.
_WHOLE_GAPS = {
    "recurrence": "recurrence",
    "residual_scale": "residual_scale",
    "relative_position_bias": "relative_position_bias",
    "linear": "linear_projection",
    "adapter": "adapter",
    "mixture_of_attention": "mixture_of_attention_heads",
    "sparse_attention_indexer": "sparse_attention_indexer",
    "convolution": "convolution",
    "patch_embedding": "patch_embedding",
    "projector": "multimodal_projector",
    "linear_attention": "linear_attention",
    "hyper_connections": "hyper_connections",
    "per_layer_embedding": "per_layer_embedding",
    "short_convolution": "short_convolution",
    "embedding_projection": "embedding_projection",
    "lm_head_transform": "lm_head_transform",
}


def _map_whole(component: Component) -> list[Piece]:
    kind = component.kind
    name = kind
    if kind in {"hyper_connections", "per_layer_embedding"}:
        name = _module_entry_name(component.path)
    specs = dict(component.attrs)
    return [_gap(name, component, _WHOLE_GAPS[kind], specs, component.parameter_count)]


def _module_entry_name(path: str) -> str:
    """An entry name for a module: its own name, with its list's name for a numbered item
    (`embed_tokens.2` -> `embed_tokens_2`)."""
    parts = path.split(".")
    name = parts[-1]
    if name.isdigit() and len(parts) > 1:
        name = f"{parts[-2]}_{name}"
    return _entry_name(name)


def _entry_name(text: str) -> str:
    """A module name as an entry name: lower case, letters, digits and underscores."""
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "module"


def _pieces(component: Component, structure: Structure) -> list[Piece]:
    """The pieces of one component; an encoder's entry names say which part they belong to."""
    pieces = _component_pieces(component, structure)
    if component.part == TEXT:
        return pieces
    return [replace(piece, name=f"{component.part}_{piece.name}") for piece in pieces]


def _component_pieces(component: Component, structure: Structure) -> list[Piece]:
    kind = component.kind
    if kind in {"embedding", "position_embedding", "token_type_embedding", "learned_embedding"}:
        return _map_embedding(component)
    if kind == "embedding_table":
        name = _module_entry_name(component.path)
        return [replace(piece, name=name) for piece in _map_embedding(component)]
    if kind in {"cross_attention", "cross_attention_gate"}:
        return _map_cross_attention(component)
    if kind in _WHOLE_GAPS:
        return _map_whole(component)
    if kind == "lm_head":
        return _map_lm_head(component)
    if kind == "norm":
        return _map_norm(component)
    if kind == "attention":
        return _map_attention(component)
    if kind == "mlp":
        return _map_dense_mlp(component, component.attrs)
    if kind == "moe":
        return _map_moe(component)
    if kind in _MIXER_SPECS:
        return _map_mixer(component, structure)
    if kind == "buffers":
        return []
    leaf = _module_entry_name(component.path)
    return [
        _gap(
            f"unknown_{leaf}",
            component,
            "unknown",
            {"module_class": component.module_class},
            component.parameter_count,
        )
    ]


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
    for component in structure.of_kind("moe"):
        a = component.attrs
        if not a["num_experts"] or a["top_k"] is None:
            continue
        has_moe = True
        per_expert = (a["expert_params"] + a["expert_bias_params"]) // a["num_experts"]
        inactive += (a["num_experts"] - a["top_k"]) * per_expert
    if not has_moe:
        return None
    return entries_parameter_total(entries) - inactive
