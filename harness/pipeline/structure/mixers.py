"""State-space and linear-attention mixers: Mamba, gated delta-net, linear attention."""

from __future__ import annotations

from dataclasses import replace

from ..inventory import TensorKind, TensorRecord
from .attrs import LinearAttentionAttrs, MixerAttrs
from .names import _Q, _QKV
from .records import Component, ComponentKind
from .sizes import ConfigSizes
from .tensors import _linear_out_in, _role, _sub

__all__: list[str] = []


def _linear_attention(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: ConfigSizes,
) -> Component:
    """An attention-named block in a layer the config declares `linear_attention` (Kimi Linear's
    KDA, Ling's hybrid layers, MiniMax's lightning attention): its own mixer kind."""
    roles = {_role(r, path)[0] for r in records if r.kind is TensorKind.PARAM}
    leaves = {r.leaf for r in records if r.kind is TensorKind.PARAM}
    conv = next(
        (r for r in records if r.kind is TensorKind.PARAM and "conv" in _sub(r, path)), None
    )
    heads = arch.num_heads
    attrs = LinearAttentionAttrs(
        hidden_size=next(
            (_linear_out_in(r)[1] for r in records if _role(r, path)[0] in _Q | _QKV), 0
        ),
        num_heads=heads,
        head_dim=arch.head_dim or (arch.hidden_size // heads if heads else None),
        conv_kernel=conv.shape[-1] if conv is not None and len(conv.shape) == 3 else 0,
        delta_rule="b_proj" in roles,
        decay_gate="A_log" in leaves or "forget_gate" in roles,
        output_gate=bool(roles & {"g_proj", "g_a_proj", "g_b_proj", "output_gate"}),
    )
    kind = ComponentKind.LINEAR_ATTENTION
    return Component(kind, path, index, module_class, tuple(records), attrs)


def _mixer(
    kind: ComponentKind,
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: ConfigSizes,
) -> Component:
    """A Mamba mixer or a gated delta-net: sizes from its in-projection and convolution."""
    attrs = MixerAttrs(state_size=arch.state_size, conv_kernel=arch.conv_kernel)
    for record in records:
        sub = _sub(record, path)
        if sub in {"in_proj", "in_proj_qkvz"} and record.leaf == "weight":
            out, inp = _linear_out_in(record)
            attrs = replace(attrs, hidden_size=inp, in_proj_out=out)
        if sub == "conv1d" and record.leaf == "weight":
            attrs = replace(attrs, conv_channels=record.shape[0], conv_kernel=record.shape[-1])
        if sub == "dt_proj" and record.leaf == "weight":
            attrs = replace(attrs, time_step_rank=_linear_out_in(record)[1])
    if attrs.conv_channels is not None and kind is ComponentKind.MAMBA_MIXER:
        attrs = replace(attrs, intermediate_size=attrs.conv_channels)
    return Component(kind, path, index, module_class, tuple(records), attrs)
