"""Attrs of components read from one module's own shapes: tables, patches, projectors, linears."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..inventory import TensorKind, TensorRecord
from .attrs import (
    Attrs,
    ConvolutionAttrs,
    EmbeddingAttrs,
    HyperConnectionAttrs,
    LinearAttrs,
    PatchEmbeddingAttrs,
    PerLayerEmbeddingAttrs,
    ProjectorAttrs,
    ShortConvolutionAttrs,
)
from .records import ComponentKind
from .sizes import ConfigSizes
from .tensors import _linear_out_in, _matrix, _out_features

__all__: list[str] = []


def _hyper_connection_attrs(
    records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int
) -> HyperConnectionAttrs:
    rate = arch.hc_mult
    if rate is None:
        widest = max(
            (r.shape[-1] for r in records if r.kind is TensorKind.PARAM and r.shape), default=0
        )
        rate = widest // hidden if hidden else 0
    return HyperConnectionAttrs(hidden_size=hidden, expansion_rate=rate)


def _per_layer_embedding_attrs(
    records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int
) -> PerLayerEmbeddingAttrs:
    return PerLayerEmbeddingAttrs(
        hidden_size=hidden,
        per_layer_size=arch.hidden_size_per_layer_input,
        vocab_size=arch.vocab_size_per_layer_input,
        num_layers=arch.num_layers,
    )


def _linear_attrs(records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int) -> LinearAttrs:
    weight = _matrix(records)
    out_features, in_features = _linear_out_in(weight) if weight is not None else (0, 0)
    return LinearAttrs(
        in_features=in_features,
        out_features=out_features,
        has_bias=any(r.kind is TensorKind.PARAM and r.leaf == "bias" for r in records),
    )


def _short_convolution_attrs(
    records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int
) -> ShortConvolutionAttrs:
    conv = next(r for r in records if r.module_class == "Conv1d" and r.leaf == "weight")
    in_proj = next(
        (r for r in records if r.leaf == "weight" and "in_proj" in r.name and len(r.shape) == 2),
        None,
    )
    return ShortConvolutionAttrs(
        hidden_size=_linear_out_in(in_proj)[1] if in_proj is not None else hidden,
        in_proj_out=_out_features(in_proj),
        conv_channels=conv.shape[0],
        conv_kernel=conv.shape[-1],
    )


def _patch_embedding_attrs(
    records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int
) -> PatchEmbeddingAttrs:
    params = [r for r in records if r.kind is TensorKind.PARAM]
    return _patch_attrs(next(r for r in params if r.leaf == "weight"), params)


def _linear_projection_attrs(
    records: Sequence[TensorRecord], arch: ConfigSizes, hidden: int
) -> ProjectorAttrs:
    return _projector_attrs([r for r in records if r.kind is TensorKind.PARAM])


# The kinds told by their module name whose attrs come from the module's tensors and the sizes.
_EXTRA_ATTRS: dict[ComponentKind, Callable[[Sequence[TensorRecord], ConfigSizes, int], Attrs]] = {
    ComponentKind.PATCH_EMBEDDING: _patch_embedding_attrs,
    ComponentKind.LINEAR: _linear_projection_attrs,
    ComponentKind.HYPER_CONNECTIONS: _hyper_connection_attrs,
    ComponentKind.PER_LAYER_EMBEDDING: _per_layer_embedding_attrs,
    ComponentKind.EMBEDDING_PROJECTION: _linear_attrs,
    ComponentKind.LM_HEAD_TRANSFORM: _linear_attrs,
    ComponentKind.SHORT_CONVOLUTION: _short_convolution_attrs,
}


def _convolution_attrs(weight: TensorRecord, params: Sequence[TensorRecord]) -> ConvolutionAttrs:
    return ConvolutionAttrs(
        out_channels=weight.shape[0],
        in_channels_per_group=weight.shape[1] if len(weight.shape) > 1 else 1,
        kernel=tuple(weight.shape[2:]),
        has_bias=any(r.leaf == "bias" for r in params),
    )


def _table_attrs(records: Sequence[TensorRecord]) -> EmbeddingAttrs:
    """A learned table as rows x width: a [N, D] embedding, a [1, N, D] parameter, a [D] token."""
    total = sum(r.numel for r in records if r.kind is TensorKind.PARAM)
    width = records[0].shape[-1] if records[0].shape else 1
    return EmbeddingAttrs(vocab_size=total // max(width, 1), hidden_size=width)


def _patch_attrs(weight: TensorRecord, params: Sequence[TensorRecord]) -> PatchEmbeddingAttrs:
    return PatchEmbeddingAttrs(
        hidden_size=weight.shape[0],
        in_features=weight.numel // weight.shape[0],
        kernel=tuple(weight.shape[2:]),
        has_bias=any(r.leaf == "bias" for r in params),
    )


def _projector_attrs(params: Sequence[TensorRecord]) -> ProjectorAttrs:
    matrices = [r for r in params if r.leaf.endswith("weight") and len(r.shape) == 2]
    shapes = tuple(_linear_out_in(m) for m in matrices)
    return ProjectorAttrs(
        in_features=shapes[0][1] if shapes else 0,
        out_features=shapes[-1][0] if shapes else 0,
        linear_shapes=shapes,
        has_bias=any(r.leaf.endswith("bias") for r in params),
    )
