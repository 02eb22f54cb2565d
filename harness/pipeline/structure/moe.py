"""Mixtures of experts read from their shapes: experts, router, shared experts; mixtures of
attention heads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..inventory import TensorKind, TensorRecord
from .attrs import MixtureOfAttentionAttrs, MoEAttrs
from .mlp import _dense_mlp_attrs
from .names import _SHARED
from .records import Component, ComponentKind, Finding, FindingLevel
from .sizes import ConfigSizes
from .tensors import _below, _linear_out_in, _out_features, _sub

__all__: list[str] = []


# Module names of a router, at any depth below the block (`gate`, `router.layer`, `router.proj`).
_ROUTER_WORDS = {"gate", "router", "wg", "gating", "classifier"}


def _is_router_name(name: str) -> bool:
    return name in _ROUTER_WORDS or name.startswith("router")


def _router_records(path: str, records: Sequence[TensorRecord]) -> list[TensorRecord]:
    """A router's parameters: under a module named like a router, or a routing bias set directly
    on the block (AFMoE's `expert_bias`)."""
    found = []
    for record in records:
        if record.kind is not TensorKind.PARAM:
            continue
        below = _below(record, path)
        routing_bias = not below and record.leaf.endswith("_bias") and len(record.shape) == 1
        if routing_bias or any(_is_router_name(name) for name in below):
            found.append(record)
    return found


def _expert_tensors(
    path: str, records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int
) -> list[TensorRecord]:
    """Routed experts found by their shapes, whatever they are called: stacked 3-D weights
    [E, a, b]; 2-D weights [E*I, H] stacked in an `experts` module (DBRX); a list of experts
    (`experts.0.w1`). Empty when the block has no experts."""
    router = {id(r) for r in _router_records(path, records)}
    params = [r for r in records if r.kind is TensorKind.PARAM and id(r) not in router]
    stacked = [
        r
        for r in params
        if len(r.shape) == 3
        and (r.shape[0] > 1 or "experts" in _below(r, path))
        and not r.module_class.startswith("Conv")
    ]
    count = _expert_count(path, records, arch)
    found = list(stacked)
    for record in params:
        if record in stacked:
            continue
        below = _below(record, path)
        if "experts" not in below:
            continue
        position = below.index("experts")
        listed = len(below) > position + 1 and below[position + 1].isdigit()
        stacked_2d = (
            len(record.shape) == 2
            and count > 1
            and record.shape[0] % count == 0
            and record.shape[0] > count
        )
        biases = record.leaf.endswith("bias") and len(record.shape) == 2 and bool(stacked)
        if listed or stacked_2d or biases:
            found.append(record)
    return found if stacked or found else []


def _is_moe(path: str, records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int) -> bool:
    """Routed experts: expert tensors, and a router or a module named `experts` holding them
    (3-D weights alone may be a Mamba mixer's per-head projections)."""
    experts = _expert_tensors(path, records, arch, hidden)
    if not experts:
        return False
    return bool(_router_records(path, records)) or any(
        "experts" in _below(r, path) for r in experts
    )


def _expert_count(path: str, records: Sequence[TensorRecord], arch: ConfigSizes) -> int:
    """Experts per MoE block: the leading dim of stacked weights, else the router's rows, else
    the number of listed experts, else the config's count."""
    router_rows = [
        r.shape[0]
        for r in _router_records(path, records)
        if len(r.shape) == 2 and r.leaf == "weight"
    ]
    leading = [
        r.shape[0]
        for r in records
        if r.kind is TensorKind.PARAM
        and len(r.shape) == 3
        and not r.module_class.startswith("Conv")
    ]
    if len(set(leading)) == 1:
        return leading[0]
    routed = [rows for rows in router_rows if rows in leading or not leading]
    if routed:
        return routed[-1]  # a router that is itself an MLP ends in its [E, x] layer (ZAYA)
    if leading:
        return max(set(leading), key=leading.count)
    listed = {
        below[below.index("experts") + 1]
        for below in (_below(r, path) for r in records)
        if "experts" in below[:-1] and below[below.index("experts") + 1].isdigit()
    }
    if listed:
        return len(listed)
    configured = arch.num_experts
    return int(configured) if isinstance(configured, int) else 0


def _per_expert_matrices(
    path: str, experts: Sequence[TensorRecord], count: int
) -> list[tuple[int, int]]:
    """The weight matrices of one expert (out, in), from stacked, 2-D stacked or listed experts."""
    matrices = []
    for record in experts:
        if "bias" in record.leaf:
            continue
        if len(record.shape) == 3:
            matrices.append((record.shape[1], record.shape[2]))
            continue
        below = _below(record, path)
        position = below.index("experts") if "experts" in below else -1
        if 0 <= position < len(below) - 1 and below[position + 1].isdigit():
            if below[position + 1] == "0" and len(record.shape) == 2:
                matrices.append(_linear_out_in(record))
        elif len(record.shape) == 2 and count:
            matrices.append((record.shape[0] // count, record.shape[1]))
    return matrices


@dataclass(frozen=True)
class _ExpertGroup:
    """A block's routed experts: their tensors, count, router and one expert's matrices."""

    experts: tuple[TensorRecord, ...]
    count: int
    router: tuple[TensorRecord, ...]
    matrices: tuple[tuple[int, int], ...]


def _expert_group(
    path: str, records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int
) -> _ExpertGroup:
    experts = _expert_tensors(path, records, arch, hidden)
    count = _expert_count(path, records, arch)
    return _ExpertGroup(
        tuple(experts),
        count,
        tuple(_router_records(path, records)),
        tuple(_per_expert_matrices(path, experts, count)),
    )


def _expert_widths(matrices: Sequence[tuple[int, int]], hidden: int) -> tuple[int, int, int]:
    """(model width D, expert width I, projections p) of one expert's matrices: D is the size
    every matrix shares (the hidden size when it does), I the narrowest other size, and p the
    other sizes added up in units of I (3 for a gated expert, 2 for a plain one)."""
    if not matrices:
        return hidden, 0, 0
    common = set(matrices[0])
    for matrix in matrices[1:]:
        common &= set(matrix)
    if not common:
        return hidden, 0, 0
    model = hidden if hidden in common else max(common)
    inner = [matrix[1] if matrix[0] == model else matrix[0] for matrix in matrices]
    width = min(inner)
    total = sum(inner)
    projections = total // width if width and total % width == 0 else 0
    return model, width, projections


def _moe(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: ConfigSizes,
    hidden: int,
    findings: list[Finding],
) -> Component:
    """A mixture of experts read from shapes: expert count, expert width and projections from the
    expert tensors, the router by its name and its [E, H] weight, shared experts beside them."""
    group = _expert_group(path, records, arch, hidden)
    experts, count, router = list(group.experts), group.count, list(group.router)
    taken = {id(r) for r in experts + router}
    shared = [
        r
        for r in records
        if r.kind is TensorKind.PARAM
        and id(r) not in taken
        and (_sub(r, path) in _SHARED or _sub(r, path).startswith("shared_expert"))
        and _sub(r, path) != "shared_expert_gate"
    ]
    shared_gate = [
        r for r in records if _sub(r, path) == "shared_expert_gate" and r.kind is TensorKind.PARAM
    ]
    # An output bias set directly on the block is added to every token's expert mix (JetMoE).
    experts += [
        r
        for r in records
        if r.kind is TensorKind.PARAM
        and not _below(r, path)
        and r.leaf == "bias"
        and id(r) not in taken
    ]
    known = {id(r) for r in experts + router + shared + shared_gate}
    other = [r for r in records if r.kind is TensorKind.PARAM and id(r) not in known]
    model, width, projections = _expert_widths(group.matrices, hidden)
    expert_bias = sum(r.numel for r in experts if "bias" in r.leaf)
    router_weight = next(
        (r for r in router if r.leaf == "weight" and len(r.shape) == 2 and r.shape[0] == count),
        None,
    )
    router_bias = sum(
        r.numel
        for r in router
        if (r.leaf == "bias" or r.leaf.endswith("_bias")) and r.shape == (count,)
    )
    router_weight_params = router_weight.numel if router_weight is not None else 0
    configured = arch.num_experts
    if isinstance(configured, int) and count and configured != count:
        findings.append(
            Finding(
                FindingLevel.MISMATCH, path, f"num_experts: config {configured}, tensors {count}"
            )
        )
    shared_sub = _sub(shared[0], path) if shared else ""
    shared_attrs = _dense_mlp_attrs(f"{path}.{shared_sub}", shared, model) if shared else None
    attrs = MoEAttrs(
        hidden_size=model,
        intermediate_size=width,
        num_experts=count,
        top_k=arch.experts_per_token,
        num_projections=projections,
        router_input_size=_linear_out_in(router_weight)[1] if router_weight else 0,
        expert_params=sum(r.numel for r in experts) - expert_bias,
        expert_bias_params=expert_bias,
        router_params=router_weight_params,
        router_bias_params=router_bias,
        router_extra_params=sum(r.numel for r in router) - router_weight_params - router_bias,
        router_extra_tensors=tuple(
            r.name
            for r in router
            if r is not router_weight
            and not ((r.leaf == "bias" or r.leaf.endswith("_bias")) and r.shape == (count,))
        ),
        shared=shared_attrs,
        shared_params=sum(r.numel for r in shared),
        shared_gate_params=sum(r.numel for r in shared_gate),
        other_params=sum(r.numel for r in other),
        other_tensors=tuple(r.name for r in other),
    )
    return Component(ComponentKind.MOE, path, index, module_class, tuple(records), attrs)


def _mixture_of_attention(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: ConfigSizes,
    hidden: int,
) -> Component:
    """Attention whose query and output projections are routed experts (JetMoE's mixture of
    attention heads): expert count and widths from the stacked expert weights, the shared
    key/value projection beside them."""
    group = _expert_group(path, records, arch, hidden)
    taken = {id(r) for r in group.experts + group.router}
    shared = [r for r in records if r.kind is TensorKind.PARAM and id(r) not in taken]
    kv = next((r for r in shared if r.leaf == "weight" and len(r.shape) == 2), None)
    attrs = MixtureOfAttentionAttrs(
        hidden_size=hidden,
        num_experts=group.count,
        top_k=arch.experts_per_token,
        expert_matrices=group.matrices,
        kv_width=_out_features(kv),
        num_kv_heads=arch.num_kv_heads,
        head_dim=arch.head_dim,
        router_params=sum(r.numel for r in group.router),
    )
    kind = ComponentKind.MIXTURE_OF_ATTENTION
    return Component(kind, path, index, module_class, tuple(records), attrs)
