"""Attention read from its projections' shapes: heads, KV heads, head width, biases, sinks."""

from __future__ import annotations

from dataclasses import replace

from ..inventory import TensorKind, TensorRecord
from .attrs import AttentionAttrs, AttentionVariant, LatentAttentionAttrs, ProjectionBiases
from .names import _ATTENTION_GATES, _DIFFERENTIAL, _K, _MLA, _O, _Q, _QK_NORMS, _QKV, _V
from .records import Component, ComponentKind, Finding, FindingLevel
from .sizes import ConfigSizes
from .tensors import _linear_out_in, _out_features, _pick, _role, _sub

__all__: list[str] = []


def _attention(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: ConfigSizes,
    hidden: int,
    layer_type: str,
    findings: list[Finding],
) -> Component:
    """Attention from its projections' shapes; sizes the config states are checked against them."""
    subs = {_sub(r, path): r for r in records if r.leaf == "weight"}
    if _MLA & subs.keys():
        return _mla(path, index, module_class, records, arch, hidden)
    heads = int(arch.num_heads or 0)
    weights: dict[str, TensorRecord] = {}
    biases: list[TensorRecord] = []
    extras: dict[str, list[TensorRecord]] = {
        "sinks": [],
        "qk_norm": [],
        "gate": [],
        "differential": [],
        "relative": [],
        "other": [],
    }
    projections = _Q | _K | _V | _O | _QKV
    for record in records:
        role, direct = _role(record, path)
        if record.kind is not TensorKind.PARAM:
            continue
        if record.leaf == "sinks" and record.module_path == path:
            extras["sinks"].append(record)
        elif role in _QK_NORMS:
            extras["qk_norm"].append(record)
        elif (direct and record.leaf == "bias" and role in projections) or (
            record.module_path == path and record.leaf.removesuffix("_bias") in projections
        ):
            biases.append(record)
        elif direct and record.leaf == "weight" and len(record.shape) == 2 and role in projections:
            weights[role] = record
        elif record.module_path == path and record.leaf == "in_proj_weight":
            weights["in_proj"] = record  # torch's nn.MultiheadAttention: q, k, v in one matrix
        elif record.module_path == path and len(record.shape) == 3 and record.leaf in projections:
            weights[record.leaf] = _per_head_matrix(record)
        elif record.module_path == path and (record.leaf == "r" or record.leaf.startswith("r_")):
            extras["relative"].append(record)  # XLNet's relative-position projection and biases
        elif (direct and role in _ATTENTION_GATES) or (
            record.module_path == path and record.leaf == "gate_bias"
        ):
            extras["gate"].append(record)
        elif record.module_path == path and _DIFFERENTIAL.match(record.leaf):
            extras["differential"].append(record)
        elif "relative" in record.name[len(path) + 1 :]:
            extras["relative"].append(record)
        else:
            extras["other"].append(record)
    q_out = k_out = o_in = 0
    fused = _pick(weights, _QKV)
    o_weight = _pick(weights, _O)
    inputs = [w for w in (fused, _pick(weights, _Q), _pick(weights, _K)) if w is not None]
    if inputs and _linear_out_in(inputs[0])[1] != hidden:
        hidden = _linear_out_in(inputs[0])[1]
    if o_weight is not None:
        _, o_in = _linear_out_in(o_weight)
    head_dim = arch.head_dim or (o_in // heads if heads else 0)
    if fused is not None:
        total_out, _ = _linear_out_in(fused)
        d_q = heads * head_dim
        kv_total = total_out - d_q
        k_out = kv_total // 2
        q_out = d_q
    else:
        q_out = _out_features(_pick(weights, _Q))
        k_out = _out_features(_pick(weights, _K))
    if not head_dim and heads:
        head_dim = q_out // heads
    gated = bool(
        heads
        and head_dim
        and q_out == 2 * heads * head_dim
        and o_in == heads * (arch.v_head_dim or head_dim)
    )
    d_q = heads * head_dim
    kv_heads = k_out // head_dim if head_dim else 0
    configured_kv = arch.num_kv_heads
    if arch.multi_query is True and fused is not None:
        configured_kv = 1
    if configured_kv is not None and kv_heads and configured_kv != kv_heads:
        findings.append(
            Finding(
                FindingLevel.MISMATCH,
                f"{path}",
                f"num_kv_heads: config says {configured_kv}, k projection width {k_out} / head_dim "
                f"{head_dim} gives {kv_heads}",
            )
        )
    # A value head of its own width (MiMo-V2-Flash: q/k heads 192 wide, value heads 128).
    value_dim = arch.v_head_dim or head_dim
    if o_in and d_q and o_in != heads * value_dim:
        findings.append(
            Finding(
                FindingLevel.MISMATCH,
                path,
                f"o projection input {o_in} != num_heads {heads} x "
                + (f"v_head_dim {value_dim}" if value_dim != head_dim else f"head_dim {head_dim}"),
            )
        )
    bias_roles = {
        b.leaf.removesuffix("_bias") if b.module_path == path else _role(b, path)[0] for b in biases
    }
    bias_on = ProjectionBiases(
        q=bool(bias_roles & (_Q | _QKV)),
        k=bool(bias_roles & (_K | _QKV)),
        v=bool(bias_roles & (_V | _QKV)),
        o=bool(bias_roles & _O),
    )
    sliding = layer_type == "sliding_attention"
    # A gated q projection (Qwen3-Next) emits the query and an output gate of the same width.
    gate_width = q_out - d_q if gated else 0
    gate_weight = next((r for r in extras["gate"] if r.leaf == "weight"), None)
    attrs = AttentionAttrs(
        variant=_variant(gated, heads, kv_heads),
        hidden_size=hidden,
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        d_q=d_q,
        d_kv=kv_heads * head_dim,
        sliding_window=arch.sliding_window if sliding else None,
        chunked=layer_type == "chunked_attention",
        bias=bias_on,
        weight_params=sum(w.numel for w in weights.values()) - gate_width * hidden,
        bias_params=sum(b.numel for b in biases) - (gate_width if bias_on.q else 0),
        gate_params=gate_width * hidden + sum(r.numel for r in extras["gate"]),
        gates=_names(extras["gate"]),
        sinks=_names(extras["sinks"]),
        sink_params=sum(r.numel for r in extras["sinks"]),
        qk_norms=_names(extras["qk_norm"]),
        qk_norm_params=sum(r.numel for r in extras["qk_norm"]),
        qk_norm_width=extras["qk_norm"][0].shape[0] if extras["qk_norm"] else 0,
        other_params=sum(r.numel for r in extras["other"]),
        other_tensors=_names(extras["other"]),
        differential=_names(extras["differential"]),
        differential_params=sum(r.numel for r in extras["differential"]),
        relative=_names(extras["relative"]),
        relative_params=sum(r.numel for r in extras["relative"]),
        v_head_dim=value_dim if value_dim != head_dim else None,
        gate_width=(
            _out_features(gate_weight)
            if gate_weight is not None and _out_features(gate_weight) != d_q
            else None
        ),
    )
    return Component(ComponentKind.ATTENTION, path, index, module_class, tuple(records), attrs)


def _variant(gated: bool, heads: int, kv_heads: int) -> AttentionVariant:
    """Gated when the q projection also emits the gate, else how heads share keys and values."""
    if gated:
        return AttentionVariant.GATED
    if kv_heads == 1 and heads > 1:
        return AttentionVariant.MQA
    return AttentionVariant.MHA if kv_heads == heads else AttentionVariant.GQA


def _names(records: list[TensorRecord]) -> tuple[str, ...]:
    return tuple(r.name for r in records)


def _per_head_matrix(record: TensorRecord) -> TensorRecord:
    """A projection kept per head, [H, heads, head_dim] (XLNet's q, k, v, o), as the matrix it
    is: (heads x head_dim) out of H for q/k/v, H out of (heads x head_dim) for o."""
    hidden, heads, width = record.shape
    inner = heads * width
    shape = (hidden, inner) if record.leaf in _O else (inner, hidden)
    return replace(record, shape=shape)


def _mla(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: ConfigSizes,
    hidden: int,
) -> Component:
    """Multi-head latent attention: its sizes from the config, the low ranks from the widths of
    the latent norms where the model has them."""
    q_rank, kv_rank = arch.q_lora_rank, arch.kv_lora_rank
    for record in records:
        sub = _sub(record, path)
        if sub == "kv_a_layernorm":
            kv_rank = record.shape[0]
        if sub == "q_a_layernorm":
            q_rank = record.shape[0]
    attrs = LatentAttentionAttrs(
        hidden_size=hidden,
        num_heads=arch.num_heads,
        q_lora_rank=q_rank,
        kv_lora_rank=kv_rank,
        qk_nope_head_dim=arch.qk_nope_head_dim,
        qk_rope_head_dim=arch.qk_rope_head_dim,
        v_head_dim=arch.v_head_dim,
    )
    return Component(ComponentKind.ATTENTION, path, index, module_class, tuple(records), attrs)
