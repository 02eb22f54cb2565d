"""State-space and linear-attention mixers: Mamba, gated delta-net, linear attention."""

from __future__ import annotations

from typing import Any

from ..inventory import TensorRecord
from .names import _Q, _QKV
from .records import Component
from .tensors import _linear_out_in, _role, _sub

__all__: list[str] = []


def _linear_attention(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
) -> Component:
    """An attention-named block in a layer the config declares `linear_attention` (Kimi Linear's
    KDA, Ling's hybrid layers, MiniMax's lightning attention): its own mixer kind."""
    roles = {_role(r, path)[0] for r in records if r.kind == "param"}
    leaves = {r.leaf for r in records if r.kind == "param"}
    conv = next((r for r in records if r.kind == "param" and "conv" in _sub(r, path)), None)
    attrs = {
        "hidden_size": next(
            (_linear_out_in(r)[1] for r in records if _role(r, path)[0] in _Q | _QKV), 0
        ),
        "num_heads": arch.get("num_heads"),
        "head_dim": arch.get("head_dim")
        or (arch["hidden_size"] // arch["num_heads"] if arch.get("num_heads") else None),
        "conv_kernel": conv.shape[-1] if conv is not None and len(conv.shape) == 3 else 0,
        "delta_rule": "b_proj" in roles,
        "decay_gate": "A_log" in leaves or "forget_gate" in roles,
        "output_gate": bool(roles & {"g_proj", "g_a_proj", "g_b_proj", "output_gate"}),
    }
    return Component("linear_attention", path, index, module_class, tuple(records), attrs)


def _mixer(
    kind: str,
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
) -> Component:
    attrs: dict[str, Any] = {
        "state_size": arch.get("state_size"),
        "conv_kernel": arch.get("conv_kernel"),
    }
    for record in records:
        sub = _sub(record, path)
        if sub == "in_proj" and record.leaf == "weight":
            out, inp = _linear_out_in(record)
            attrs.update(hidden_size=inp, in_proj_out=out)
        if sub == "in_proj_qkvz" and record.leaf == "weight":
            out, inp = _linear_out_in(record)
            attrs.update(hidden_size=inp, in_proj_out=out)
        if sub == "conv1d" and record.leaf == "weight":
            attrs.update(conv_channels=record.shape[0], conv_kernel=record.shape[-1])
        if sub == "A_log" or record.leaf == "A_log":
            attrs["num_state_heads_or_channels"] = record.shape[0]
        if sub == "dt_proj" and record.leaf == "weight":
            attrs["time_step_rank"] = _linear_out_in(record)[1]
    if "conv_channels" in attrs and kind == "mamba_mixer":
        attrs["intermediate_size"] = attrs["conv_channels"]
    return Component(kind, path, index, module_class, tuple(records), attrs)
