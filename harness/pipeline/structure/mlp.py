"""Dense MLPs read from their projections: width, gating, fused gate+up, biases."""

from __future__ import annotations

from collections.abc import Sequence

from ..inventory import TensorKind, TensorRecord
from .attrs import MlpAttrs
from .inner import _split_norms
from .names import _ACTIVATIONS, _DOWN, _GATE, _GATE_UP, _INNER_WRAPPERS, _UP
from .records import Component, ComponentKind
from .tensors import _linear_out_in, _out_features, _owner_class, _pick

__all__: list[str] = []


def _dense_mlp_attrs(path: str, records: Sequence[TensorRecord], hidden: int) -> MlpAttrs:
    """Sizes of a dense MLP from its projections' own weights; every other parameter is `other`."""
    known = _GATE | _UP | _DOWN | _GATE_UP
    weights: dict[str, TensorRecord] = {}
    biases: list[TensorRecord] = []
    for record in records:
        parts = record.name[len(path) + 1 :].split(".")
        # the projection is the module holding the tensor, below pass-through modules
        # (CPM-Ant's ffn.w_in.w_0), above an inner wrapper (Gemma 4's gate_proj.linear)
        role = parts[-2] if len(parts) >= 2 else ""
        if role in _INNER_WRAPPERS and len(parts) >= 3:
            role = parts[-3]
        if record.kind is not TensorKind.PARAM or role not in known:
            continue
        if record.leaf == "weight" and len(record.shape) == 2 and role not in weights:
            weights[role] = record
        elif record.leaf == "bias":
            biases.append(record)
    if not weights:
        weights, biases = _mlp_by_shape(path, records, hidden)
    gate_up = _pick(weights, _GATE_UP)
    up, down = _pick(weights, _UP), _pick(weights, _DOWN)
    down_in = _linear_out_in(down)[1] if down is not None else 0
    # An up projection twice as wide as the down projection's input is a fused gate+up (Moshi).
    fused = gate_up is not None or bool(
        up is not None
        and not _GATE & weights.keys()
        and down_in
        and _out_features(up) == 2 * down_in
    )
    gated = bool(_GATE & weights.keys()) or fused
    if gate_up is not None:
        intermediate = _out_features(gate_up) // 2
    elif fused:
        intermediate = down_in
    else:
        intermediate = _out_features(up)
    params = sum(r.numel for r in records if r.kind is TensorKind.PARAM)
    weight_params = sum(w.numel for w in weights.values())
    bias_params = sum(b.numel for b in biases)
    activation = [
        r
        for r in records
        if r.kind is TensorKind.PARAM and r.name[len(path) + 1 :].split(".")[0] in _ACTIVATIONS
    ]
    activation_params = sum(r.numel for r in activation)
    counted = {id(r) for r in (*weights.values(), *biases, *activation)}
    source = gate_up or up or _pick(weights, _GATE)
    return MlpAttrs(
        hidden_size=_linear_out_in(source)[1] if source is not None else hidden,
        intermediate_size=intermediate,
        gated=gated,
        num_projections=3 if gated else 2,
        weight_params=weight_params,
        bias_params=bias_params,
        other_params=params - weight_params - bias_params - activation_params,
        other_tensors=tuple(
            r.name for r in records if r.kind is TensorKind.PARAM and id(r) not in counted
        ),
        activation_tensors=tuple(r.name for r in activation),
        activation_params=activation_params,
    )


def _mlp_by_shape(
    path: str, records: Sequence[TensorRecord], hidden: int
) -> tuple[dict[str, TensorRecord], list[TensorRecord]]:
    """Projections named otherwise (CTRL's ffn.0 / ffn.2), told apart by their shapes: up [I, H]
    and down [H, I], or gate and up [I, H] and down [H, I]."""
    matrices = [
        r
        for r in records
        if r.kind is TensorKind.PARAM
        and r.leaf == "weight"
        and len(r.shape) == 2
        and r.module_path.count(".") == path.count(".") + 1
    ]
    downs = [
        m
        for m in matrices
        if m.shape[0] == hidden and all(m.shape == o.shape[::-1] for o in matrices if o is not m)
    ]
    if len(matrices) not in (2, 3) or len(downs) != 1:
        return {}, []
    down = downs[0]
    ups = [m for m in matrices if m is not down]
    roles = ["up_proj"] if len(ups) == 1 else ["gate_proj", "up_proj"]
    weights = {"down_proj": down, **dict(zip(roles, ups, strict=True))}
    owners = {w.module_path for w in weights.values()}
    biases = [
        r
        for r in records
        if r.kind is TensorKind.PARAM and r.leaf == "bias" and r.module_path in owners
    ]
    return weights, biases


def _split_mlp(
    prefix: str,
    index: int,
    up_block: str,
    down_block: str,
    up_records: Sequence[TensorRecord],
    down_records: Sequence[TensorRecord],
    hidden: int,
) -> list[Component]:
    """One dense MLP from two layer-level blocks (OPT's fc1/fc2, BERT's intermediate/output)."""
    up_rest, up_norms = _split_norms(f"{prefix}.{up_block}", index, up_records)
    down_rest, down_norms = _split_norms(f"{prefix}.{down_block}", index, down_records)
    matrices = [
        [r for r in rest if r.kind is TensorKind.PARAM and r.leaf == "weight" and len(r.shape) == 2]
        for rest in (up_rest, down_rest)
    ]
    records = [*up_rest, *down_rest]
    path = f"{prefix}.{up_block}"
    module_class = _owner_class(up_rest or list(up_records), path)
    if any(len(found) != 1 for found in matrices):
        component = Component(ComponentKind.UNKNOWN, path, index, module_class, tuple(records))
        return [component, *up_norms, *down_norms]
    up, down = matrices[0][0], matrices[1][0]
    owners = {up.module_path, down.module_path}
    bias_params = sum(
        r.numel
        for r in records
        if r.kind is TensorKind.PARAM and r.leaf == "bias" and r.module_path in owners
    )
    down_in = _linear_out_in(down)[1]
    fused = _out_features(up) == 2 * down_in
    params = sum(r.numel for r in records if r.kind is TensorKind.PARAM)
    attrs = MlpAttrs(
        hidden_size=_linear_out_in(up)[1],
        intermediate_size=down_in if fused else _out_features(up),
        gated=fused,
        num_projections=3 if fused else 2,
        weight_params=up.numel + down.numel,
        bias_params=bias_params,
        other_params=params - up.numel - down.numel - bias_params,
        other_tensors=(),
    )
    component = Component(ComponentKind.MLP, path, index, module_class, tuple(records), attrs)
    return [component, *up_norms, *down_norms]
