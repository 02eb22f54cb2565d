"""Dense MLPs and mixtures of experts mapped to MLPLayer / GatedMLPLayer / MoELayer and gaps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..structure import Component, MlpAttrs, MoEAttrs
from .pieces import Piece, _gap, _layer_count, _leftover, _supported, _tensors_named

__all__: list[str] = []


def _map_dense_mlp(component: Component, a: MlpAttrs, name: str = "mlp") -> list[Piece]:
    hidden, inter = a.hidden_size, a.intermediate_size
    if a.gated:
        candidate = ("GatedMLPLayer", {"hidden_size": hidden, "intermediate_size": inter})
    else:
        candidate = (
            "MLPLayer",
            {"hidden_size": hidden, "intermediate_size": inter, "num_projections": 2},
        )
    pieces: list[Piece] = []
    if _layer_count(*candidate) == a.weight_params:
        pieces.append(_supported(name, component, candidate[0], candidate[1], a.weight_params))
    else:
        pieces.append(
            _gap("unknown_" + name, component, "unknown", dict(candidate[1]), a.weight_params)
        )
    if a.bias_params:
        # With every projection biased: (num_projections - 1) x I + H values.
        specs = {
            "hidden_size": hidden,
            "intermediate_size": inter,
            "num_projections": a.num_projections,
        }
        bias_tensors = tuple(t for t in component.tensors if t.leaf == "bias")
        pieces.append(
            _gap(f"{name}_bias", component, "mlp_bias", specs, a.bias_params, bias_tensors)
        )
    if a.activation_params:
        activation = _tensors_named(component, a.activation_tensors)
        specs = {"intermediate_size": inter, "num_parameters": a.activation_params}
        pieces.append(
            _gap(
                f"{name}_activation",
                component,
                "learned_activation",
                specs,
                a.activation_params,
                activation,
            )
        )
    return pieces + _leftover(f"unknown_{name}_tensors", component, a.other_params, a.other_tensors)


def _map_moe(component: Component) -> list[Piece]:
    a = component.attrs_as(MoEAttrs)
    hidden, inter, experts = a.hidden_size, a.intermediate_size, a.num_experts
    shared = a.shared
    shared_count = 0
    if (
        shared
        and not shared.bias_params
        and inter
        and shared.intermediate_size % inter == 0
        and shared.num_projections == a.num_projections
    ):
        shared_count = shared.intermediate_size // inter
    base = {
        "hidden_size": hidden,
        "intermediate_size": inter,
        "num_experts": experts,
        "top_k": a.top_k,
        "num_shared_experts": shared_count,
        "num_projections": a.num_projections,
    }
    core = a.expert_params + a.router_params + (a.shared_params if shared_count else 0)
    biases = a.expert_bias_params + a.router_bias_params
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
        a.top_k is not None and a.router_input_size == hidden and _moe_count(specs) == core + biases
    )
    if exact:
        pieces.insert(0, _supported("moe", component, "MoELayer", specs, core + biases))
    else:
        # Experts the catalog cannot reproduce exactly: a top-k the config leaves unset, experts
        # in a narrower latent space than the router reads, projections neither 2 nor 3 wide.
        odd = {**specs, "router_input_size": a.router_input_size}
        pieces.insert(0, _gap("moe", component, "nonstandard_moe", odd, core + biases))
    if a.router_extra_params:
        extras = _tensors_named(component, a.router_extra_tensors)
        specs = {"num_experts": experts, "hidden_size": hidden}
        pieces.append(
            _gap(
                "moe_router_extras",
                component,
                "moe_router_extras",
                specs,
                a.router_extra_params,
                extras,
            )
        )
    if shared and not shared_count:
        pieces.extend(_map_dense_mlp(component, shared, name="shared_expert"))
    if a.shared_gate_params:
        gate_tensors = tuple(t for t in component.tensors if ".shared_expert_gate." in t.name)
        pieces.append(
            _gap(
                "shared_expert_gate",
                component,
                "shared_expert_gate",
                {"hidden_size": hidden},
                a.shared_gate_params,
                gate_tensors,
            )
        )
    return pieces + _leftover("unknown_moe_tensors", component, a.other_params, a.other_tensors)


def _moe_count(specs: Mapping[str, Any]) -> int | None:
    """MoELayer's parameter count for specs; None when they do not bind (no top-k, p not 2/3)."""
    if specs.get("top_k") is None or specs.get("num_projections") not in (2, 3):
        return None
    return _layer_count("MoELayer", specs)
