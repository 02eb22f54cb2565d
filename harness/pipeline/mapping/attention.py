"""Attention mapped to the catalog's attention classes, with the gaps of what none computes."""

from __future__ import annotations

from typing import Any

from ..inventory import TensorKind
from ..structure import AttentionAttrs, Component, ComponentKind, LatentAttentionAttrs
from .pieces import Piece, _first_fit, _gap, _layer_count, _leftover, _supported, _tensors_named

__all__: list[str] = []


def _attention_candidates(a: AttentionAttrs, with_bias: bool) -> list[tuple[str, dict[str, Any]]]:
    hidden, heads, kv_heads, head_dim = a.hidden_size, a.num_heads, a.num_kv_heads, a.head_dim
    swa = {
        "hidden_size": hidden,
        "num_query_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "sliding_window": a.sliding_window,
        "has_bias": with_bias,
    }
    if a.sliding_window is not None:
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
    if isinstance(component.attrs, LatentAttentionAttrs):
        specs = component.attrs.specs()
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
    a = component.attrs_as(AttentionAttrs)
    variant = a.window.value
    pieces: list[Piece] = []
    weights = a.weight_params
    biases = a.bias_params
    all_bias = a.bias.all
    fit = None
    if not a.chunked:
        if all_bias or biases == 0:
            fit = _first_fit(_attention_candidates(a, with_bias=all_bias), weights + biases)
        if fit is None and biases:
            fit = _first_fit(_attention_candidates(a, with_bias=False), weights)
            if fit is not None:
                pieces_bias = {
                    "hidden_size": a.hidden_size,
                    "d_q": a.d_q,
                    "d_kv": a.d_kv,
                    **a.bias.specs(),
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
    qk_norms = set(a.qk_norms) | set(a.gates)
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
            "hidden_size": a.hidden_size,
            "num_heads": a.num_heads,
            "num_kv_heads": a.num_kv_heads,
            "head_dim": a.head_dim,
            "sliding_window": a.sliding_window,
        }
        if a.v_head_dim is not None:
            specs["v_head_dim"] = a.v_head_dim
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
    if a.gate_params:
        specs = {
            "hidden_size": a.hidden_size,
            "num_heads": a.num_heads,
            "head_dim": a.head_dim,
        }
        if a.gate_width is not None:
            specs["gate_width"] = a.gate_width
        gate_tensors = _tensors_named(component, a.gates) or core_tensors
        pieces.append(
            _gap(
                "attention_output_gate",
                component,
                "gated_attention",
                specs,
                a.gate_params,
                gate_tensors,
                variant,
            )
        )
    if a.sink_params:
        specs = {"num_heads": a.num_heads}
        pieces.append(
            _gap(
                "attention_sinks",
                component,
                "attention_sinks",
                specs,
                a.sink_params,
                _tensors_named(component, a.sinks),
                variant,
            )
        )
    if a.qk_norm_params:
        pieces.extend(_map_qk_norm(component, a, variant))
    if a.relative_params:
        specs = {"num_heads": a.num_heads}
        pieces.append(
            _gap(
                "relative_position_bias",
                component,
                "relative_position_bias",
                specs,
                a.relative_params,
                _tensors_named(component, a.relative),
                variant,
            )
        )
    if a.differential_params:
        specs = {"num_heads": a.num_heads, "head_dim": a.head_dim}
        pieces.append(
            _gap(
                "differential_attention",
                component,
                "differential_attention",
                specs,
                a.differential_params,
                _tensors_named(component, a.differential),
                variant,
            )
        )
    return pieces + _leftover(
        "unknown_attention_tensors", component, a.other_params, a.other_tensors
    )


def _map_qk_norm(component: Component, a: AttentionAttrs, variant: str) -> list[Piece]:
    norms = _tensors_named(component, a.qk_norms)
    widths = {t.name.split(".")[-2][0]: t.shape[0] for t in norms}
    # A norm over the whole projected vector is a NormLayer; one applied per head is not.
    if widths.get("q") == a.d_q and widths.get("k") == a.d_kv and a.d_q and a.d_kv:
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
        if sum(p.specs["parameter_count"] for p in pieces) == a.qk_norm_params:
            return pieces
    specs = {
        "num_heads": a.num_heads,
        "num_kv_heads": a.num_kv_heads,
        "head_dim": a.head_dim,
        "norm_width": a.qk_norm_width,
    }
    return [_gap("qk_norm", component, "qk_norm", specs, a.qk_norm_params, norms, variant)]


def _map_cross_attention(component: Component) -> list[Piece]:
    if component.kind is ComponentKind.CROSS_ATTENTION_GATE:
        return [
            _gap(
                "cross_attention_gate", component, "cross_attention", {}, component.parameter_count
            )
        ]
    a = component.attrs_as(AttentionAttrs)
    projections = [t for t in component.tensors if t.kind is TensorKind.PARAM and len(t.shape) == 2]
    specs = {
        "hidden_size": a.hidden_size,
        "num_heads": a.num_heads,
        "num_kv_heads": a.num_kv_heads,
        "head_dim": a.head_dim,
        "kv_input_size": max((t.shape[1] for t in projections), default=0),
        "has_bias": a.bias.any,
    }
    return [_gap("cross_attention", component, "cross_attention", specs, component.parameter_count)]
