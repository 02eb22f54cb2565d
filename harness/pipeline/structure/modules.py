"""Attrs of components read from one module's own shapes: tables, patches, projectors, linears."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..inventory import TensorRecord
from .tensors import _linear_out_in, _matrix, _out_features

__all__: list[str] = []


def _hyper_connection_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    rate = arch.get("hc_mult")
    if rate is None:
        widest = max((r.shape[-1] for r in records if r.kind == "param" and r.shape), default=0)
        rate = widest // hidden if hidden else 0
    return {"hidden_size": hidden, "expansion_rate": rate}


def _per_layer_embedding_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    return {
        "hidden_size": hidden,
        "per_layer_size": arch.get("hidden_size_per_layer_input"),
        "vocab_size": arch.get("vocab_size_per_layer_input"),
        "num_layers": arch.get("num_layers"),
    }


def _linear_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    weight = _matrix(records)
    out_features, in_features = _linear_out_in(weight) if weight is not None else (0, 0)
    return {
        "in_features": in_features,
        "out_features": out_features,
        "has_bias": any(r.kind == "param" and r.leaf == "bias" for r in records),
    }


def _short_convolution_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    conv = next(r for r in records if r.module_class == "Conv1d" and r.leaf == "weight")
    in_proj = next(
        (r for r in records if r.leaf == "weight" and "in_proj" in r.name and len(r.shape) == 2),
        None,
    )
    return {
        "hidden_size": _linear_out_in(in_proj)[1] if in_proj is not None else hidden,
        "in_proj_out": _out_features(in_proj),
        "conv_channels": conv.shape[0],
        "conv_kernel": conv.shape[-1],
    }


def _patch_embedding_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    params = [r for r in records if r.kind == "param"]
    return _patch_attrs(next(r for r in params if r.leaf == "weight"), params)


def _linear_projection_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    return _projector_attrs([r for r in records if r.kind == "param"])


_EXTRA_ATTRS = {
    "patch_embedding": _patch_embedding_attrs,
    "linear": _linear_projection_attrs,
    "hyper_connections": _hyper_connection_attrs,
    "per_layer_embedding": _per_layer_embedding_attrs,
    "embedding_projection": _linear_attrs,
    "lm_head_transform": _linear_attrs,
    "short_convolution": _short_convolution_attrs,
}


def _convolution_attrs(weight: TensorRecord, params: Sequence[TensorRecord]) -> dict[str, Any]:
    return {
        "out_channels": weight.shape[0],
        "in_channels_per_group": weight.shape[1] if len(weight.shape) > 1 else 1,
        "kernel": list(weight.shape[2:]),
        "has_bias": any(r.leaf == "bias" for r in params),
    }


def _table_attrs(records: Sequence[TensorRecord]) -> dict[str, Any]:
    """A learned table as rows x width: a [N, D] embedding, a [1, N, D] parameter, a [D] token."""
    total = sum(r.numel for r in records if r.kind == "param")
    width = records[0].shape[-1] if records[0].shape else 1
    return {"vocab_size": total // max(width, 1), "hidden_size": width, "tied": False}


def _patch_attrs(weight: TensorRecord, params: Sequence[TensorRecord]) -> dict[str, Any]:
    kernel = list(weight.shape[2:])
    return {
        "hidden_size": weight.shape[0],
        "in_features": weight.numel // weight.shape[0],
        "kernel": kernel,
        "has_bias": any(r.leaf == "bias" for r in params),
    }


def _projector_attrs(params: Sequence[TensorRecord]) -> dict[str, Any]:
    matrices = [r for r in params if r.leaf.endswith("weight") and len(r.shape) == 2]
    shapes = [list(_linear_out_in(m)) for m in matrices]
    return {
        "in_features": shapes[0][1] if shapes else 0,
        "out_features": shapes[-1][0] if shapes else 0,
        "linear_shapes": shapes,
        "has_bias": any(r.leaf.endswith("bias") for r in params),
    }
