"""One block of a layer classified by its name and tensors: attention, MLP, MoE, mixers, norms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..inventory import TensorKind, TensorRecord
from .attention import _attention, _mla
from .attrs import Attrs, NoAttrs, NormAttrs, RecurrenceAttrs, ResidualScaleAttrs
from .inner import _split_indexer, _split_norms
from .mixers import _linear_attention, _mixer
from .mlp import _dense_mlp_attrs
from .modules import _EXTRA_ATTRS, _convolution_attrs, _projector_attrs
from .moe import _is_moe, _mixture_of_attention, _moe
from .names import (
    _DOWN,
    _GATE_UP,
    _HYPER_CONNECTION,
    _MLA,
    _NORM_NAME,
    _O,
    _PER_LAYER_EMBEDDING,
    _Q,
    _QKV,
    _UP,
    ATTENTION_BLOCKS,
    CROSS_ATTENTION_BLOCKS,
    LINEAR_ATTENTION_BLOCKS,
    MAMBA_BLOCKS,
    MLP_BLOCKS,
)
from .records import Component, ComponentKind, Finding
from .sizes import ConfigSizes
from .tensors import _is_norm, _named_like, _owner_class, _role, _sub

__all__: list[str] = []


def _special_block(
    block: str, records: Sequence[TensorRecord], layer_type: str
) -> ComponentKind | None:
    """Kinds of layer-level blocks known by their name (and, for convolutions, module class)."""
    if _HYPER_CONNECTION.search(block):
        return ComponentKind.HYPER_CONNECTIONS
    if _PER_LAYER_EMBEDDING.match(block) and not _NORM_NAME.search(block):
        return ComponentKind.PER_LAYER_EMBEDDING
    convolution = any(r.module_class == "Conv1d" for r in records)
    if convolution and (block in {"conv", "short_conv"} or layer_type == "conv"):
        return ComponentKind.SHORT_CONVOLUTION
    return None


def _classify_block(
    path: str,
    index: int,
    block: str,
    records: list[TensorRecord],
    arch: ConfigSizes,
    hidden: int,
    layer_types: Sequence[str],
    findings: list[Finding],
) -> list[Component]:
    module_class = _owner_class(records, path)
    layer_type = layer_types[index] if 0 <= index < len(layer_types) else "full_attention"
    arch = arch.for_layer(index, layer_type)
    items = _numbered_items(path, records)
    if items:  # a list of blocks of one kind (LongCat-Flash's self_attn.0 and self_attn.1)
        return [
            c
            for item, group in items.items()
            for c in _classify_block(item, index, block, group, arch, hidden, layer_types, findings)
        ]
    if block in ATTENTION_BLOCKS and layer_type == "linear_attention":
        return [_linear_attention(path, index, module_class, records, arch)]
    if block in ATTENTION_BLOCKS and _is_moe(path, records, arch, hidden):
        return [_mixture_of_attention(path, index, module_class, records, arch, hidden)]
    if block in ATTENTION_BLOCKS | CROSS_ATTENTION_BLOCKS:
        records, indexers = _split_indexer(path, index, records, arch)
        if _MLA & {_sub(r, path) for r in records if r.leaf == "weight"}:
            return [_mla(path, index, module_class, records, arch, hidden), *indexers]
        rest, norms = _split_norms(path, index, records)
        norms += indexers
        kind = (
            ComponentKind.ATTENTION if block in ATTENTION_BLOCKS else ComponentKind.CROSS_ATTENTION
        )
        component = _attention(path, index, module_class, rest, arch, hidden, layer_type, findings)
        return [replace(component, kind=kind), *norms]
    if block in MLP_BLOCKS:
        rest, norms = _split_norms(path, index, records)
        return [_mlp_or_moe(path, index, module_class, rest, arch, hidden, findings), *norms]
    if block in MAMBA_BLOCKS:
        return _mixer_block(
            path, block, records, module_class, arch, hidden, layer_types, findings, index
        )
    special = _special_block(block, records, layer_type)
    if special is not None:
        extra = _EXTRA_ATTRS[special](records, arch, hidden)
        return [Component(special, path, index, module_class, tuple(records), extra)]
    if block in LINEAR_ATTENTION_BLOCKS:
        return [_mixer(ComponentKind.GATED_DELTA_NET, path, index, module_class, records, arch)]
    params = [r for r in records if r.kind is TensorKind.PARAM]
    layer_path = path.rpartition(".")[0]
    if (
        any(block.startswith(f"{name}_") for name in CROSS_ATTENTION_BLOCKS)
        and params
        and all(r.module_path == layer_path and len(r.shape) <= 1 for r in params)
    ):
        gate = ComponentKind.CROSS_ATTENTION_GATE
        return [Component(gate, path, index, module_class, tuple(records))]
    if ("Norm" in module_class or "norm" in block or block.startswith("ln")) and _is_norm(records):
        attrs: Attrs = NormAttrs(
            hidden_size=params[0].shape[0], has_bias=any(r.leaf == "bias" for r in params)
        )
        return [Component(ComponentKind.NORM, path, index, module_class, tuple(records), attrs)]
    if params and _is_residual_scale(block, params):
        attrs = ResidualScaleAttrs(num_parameters=sum(r.numel for r in params), tensors=len(params))
        scale = ComponentKind.RESIDUAL_SCALE
        return [Component(scale, path, index, module_class, tuple(records), attrs)]
    if params:
        context = _BlockContext(index, arch, hidden, layer_types, findings)
        return _unnamed_block(path, block, records, module_class, context)
    return [Component(ComponentKind.BUFFERS, path, index, module_class, tuple(records))]


# Words of the scalars or vectors that gate or scale a residual branch.
_RESIDUAL_WORDS = ("alpha", "gate", "scale", "residual", "lambda", "beta")


def _is_residual_scale(block: str, params: Sequence[TensorRecord]) -> bool:
    """Learned scalars or per-channel vectors in a layer that gate or scale a branch before it
    joins the residual stream (IDEFICS' alpha_cross_attn, Muse Spark's residual gates)."""
    return _named_like(block, _RESIDUAL_WORDS) and all(
        len(r.shape) <= 1 or (len(r.shape) == 3 and r.shape[:2] == (1, 1)) for r in params
    )


def _mixer_block(
    path: str,
    block: str,
    records: list[TensorRecord],
    module_class: str,
    arch: ConfigSizes,
    hidden: int,
    layer_types: Sequence[str],
    findings: list[Finding],
    index: int,
) -> list[Component]:
    """A block named `mixer` holds whatever mixes the layer: a Mamba mixer, or (Nemotron-H's
    hybrid pattern) attention, an MLP or a mixture of experts, told apart by their tensors."""
    params = [r for r in records if r.kind is TensorKind.PARAM]
    roles = {_role(r, path)[0] for r in params if len(r.shape) == 2}
    ssm = any(r.leaf in {"A_log", "D", "dt_bias"} for r in params)
    if not ssm and _is_moe(path, records, arch, hidden):
        rest, norms = _split_norms(path, index, records)
        return [_moe(path, index, module_class, rest, arch, hidden, findings), *norms]
    if not ssm and roles & (_Q | _QKV) and roles & _O:
        return _classify_block(
            path, index, "self_attn", records, arch, hidden, layer_types, findings
        )
    if not ssm and roles & (_UP | _GATE_UP) and roles & _DOWN:
        return _classify_block(path, index, "mlp", records, arch, hidden, layer_types, findings)
    return [_mixer(ComponentKind.MAMBA_MIXER, path, index, module_class, records, arch)]


@dataclass(frozen=True)
class _BlockContext:
    """What classifying a block needs besides its own tensors."""

    index: int
    arch: ConfigSizes
    hidden: int
    layer_types: Sequence[str]
    findings: list[Finding]


def _numbered_items(path: str, records: Sequence[TensorRecord]) -> dict[str, list[TensorRecord]]:
    """`{path.0: [...], path.1: [...]}` when the block is a list of like blocks (every tensor in
    a numbered child, each child with the same tensors), else {} (a Sequential's 0 and 2)."""
    items: dict[str, list[TensorRecord]] = {}
    for record in records:
        below = record.name[len(path) + 1 :].split(".")
        if len(below) < 2 or not below[0].isdigit():
            return {}
        items.setdefault(f"{path}.{below[0]}", []).append(record)
    layouts = {
        tuple(sorted((r.name[len(item) + 1 :], r.shape) for r in group))
        for item, group in items.items()
    }
    return items if len(items) > 1 and len(layouts) == 1 else {}


def _unnamed_block(
    path: str,
    block: str,
    records: list[TensorRecord],
    module_class: str,
    context: _BlockContext,
) -> list[Component]:
    """A block no name rule knows: experts found by their shapes, a block named like attention or
    an MLP whose projections are there, a convolution, else its sub-modules one by one (DBRX's
    norm_attn_norm holds attn, norm_1 and norm_2). What still has no kind stays one unknown."""
    index, arch, hidden = context.index, context.arch, context.hidden
    params = [r for r in records if r.kind is TensorKind.PARAM]
    if _is_moe(path, records, arch, hidden):
        rest, norms = _split_norms(path, index, records)
        return [_moe(path, index, module_class, rest, arch, hidden, context.findings), *norms]
    roles = {_role(r, path)[0] for r in params if len(r.shape) == 2} | {
        r.leaf for r in params if r.module_path == path and len(r.shape) == 3
    }
    if _named_like(block, _ATTENTION_WORDS) and roles & (_Q | _QKV) and roles & _O:
        rest, norms = _split_norms(path, index, records)
        layer_type = (
            context.layer_types[index]
            if 0 <= index < len(context.layer_types)
            else "full_attention"
        )
        component = _attention(
            path, index, module_class, rest, arch, hidden, layer_type, context.findings
        )
        if _named_like(block, ("cross", "encdec", "encoder_attn")):
            component = replace(component, kind=ComponentKind.CROSS_ATTENTION)
        return [component, *norms]
    if block == "ff" or _named_like(
        block, ("mlp", "ffn", "feed_forward", "feedforward", "densereludense")
    ):
        rest, norms = _split_norms(path, index, records)
        mlp = _dense_mlp_attrs(path, rest, hidden)
        if mlp.weight_params:
            component = Component(ComponentKind.MLP, path, index, module_class, tuple(rest), mlp)
            return [component, *norms]
    kind: ComponentKind | None = None
    attrs: Attrs = NoAttrs()
    matrices = [r for r in params if r.leaf == "weight" and len(r.shape) == 2]
    convolutions = [r for r in params if r.module_class.startswith("Conv") and r.leaf == "weight"]
    if _named_like(block, ("lru", "rnn", "recurrent", "recurrence")):
        kind = ComponentKind.RECURRENCE
        attrs = RecurrenceAttrs(hidden_size=hidden, num_parameters=sum(r.numel for r in params))
    elif len(matrices) == 1 and {r.module_path for r in params} == {path}:
        kind, attrs = ComponentKind.LINEAR, _projector_attrs(params)
    elif convolutions and {r.module_path for r in params} == {path}:
        kind, attrs = ComponentKind.CONVOLUTION, _convolution_attrs(convolutions[0], params)
    if kind is not None:
        return [Component(kind, path, index, module_class, tuple(records), attrs)]
    subs: dict[str, list[TensorRecord]] = {}
    own: list[TensorRecord] = []
    for record in records:
        below = record.name[len(path) + 1 :].split(".")
        if len(below) < 2:
            own.append(record)
        else:
            subs.setdefault(below[0], []).append(record)
    if subs and (own or len(subs) > 1 or _named_like(next(iter(subs)), _KNOWN_WORDS)):
        found = [
            c
            for sub, group in subs.items()
            for c in _classify_block(
                f"{path}.{sub}",
                index,
                sub,
                group,
                arch,
                hidden,
                context.layer_types,
                context.findings,
            )
        ]
        if any(c.kind is not ComponentKind.UNKNOWN for c in found):
            if own:
                unknown = ComponentKind.UNKNOWN
                found.append(Component(unknown, path, index, module_class, tuple(own)))
            return found
    return [Component(ComponentKind.UNKNOWN, path, index, module_class, tuple(records))]


# Words of block names that some rule understands; a wrapper holding one such block is opened.
_ATTENTION_WORDS = ("attn", "attention", "self_att")
_KNOWN_WORDS = (*_ATTENTION_WORDS, "mlp", "ffn", "feed_forward", "norm", "mixer", "mamba")


def _mlp_or_moe(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: ConfigSizes,
    hidden: int,
    findings: list[Finding],
) -> Component:
    if _is_moe(path, records, arch, hidden):
        return _moe(path, index, module_class, records, arch, hidden, findings)
    attrs = _dense_mlp_attrs(path, records, hidden)
    return Component(ComponentKind.MLP, path, index, module_class, tuple(records), attrs)
