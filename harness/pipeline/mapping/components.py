"""Each component kind mapped to its pieces: embeddings, norms, head, mixers, whole gaps."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..inventory import TensorKind
from ..structure import (
    Component,
    ComponentKind,
    EmbeddingAttrs,
    MixerAttrs,
    MlpAttrs,
    NormAttrs,
    Part,
    Structure,
)
from .attention import _map_attention, _map_cross_attention
from .mlp_moe import _map_dense_mlp, _map_moe
from .pieces import Piece, _gap, _layer_count, _supported

__all__: list[str] = []


def _map_embedding(component: Component) -> list[Piece]:
    a = component.attrs_as(EmbeddingAttrs)
    name = component.kind.value
    specs = {"vocab_size": a.vocab_size, "hidden_size": a.hidden_size}
    count = component.parameter_count
    if _layer_count("EmbeddingLayer", specs) == count:
        return [_supported(name, component, "EmbeddingLayer", specs, count)]
    return [_gap("unknown_" + name, component, "unknown", specs, count)]


def _map_lm_head(component: Component) -> list[Piece]:
    a = component.attrs_as(EmbeddingAttrs)
    specs = {
        "vocab_size": a.vocab_size,
        "hidden_size": a.hidden_size,
        "tied": a.tied,
        # A head with its own bias (phi-2: V values) costs V more parameters than V x H.
        "has_bias": any(t.kind is TensorKind.PARAM and t.leaf == "bias" for t in component.tensors),
    }
    return [_gap("lm_head", component, "lm_head", specs, component.parameter_count)]


def _map_norm(component: Component, name: str = "norm") -> list[Piece]:
    a = component.attrs_as(NormAttrs)
    specs = {"hidden_size": a.hidden_size, "has_bias": a.has_bias}
    count = component.parameter_count
    if _layer_count("NormLayer", specs) == count:
        return [_supported(name, component, "NormLayer", specs, count)]
    return [_gap("unknown_" + name, component, "unknown", specs, count)]


def _map_mixer(component: Component, structure: Structure) -> list[Piece]:
    """A Mamba mixer or gated delta-net: one gap of its own kind, with the sizes it proposes."""
    a = component.attrs_as(MixerAttrs)
    kind = component.kind.value
    specs: dict[str, Any]
    if component.kind is ComponentKind.MAMBA_MIXER:
        specs = {
            "hidden_size": a.hidden_size,
            "intermediate_size": a.intermediate_size,
            "state_size": a.state_size,
            "conv_kernel": a.conv_kernel,
            "time_step_rank": a.time_step_rank,
        }
    else:
        arch = structure.arch
        specs = {
            "hidden_size": a.hidden_size,
            "in_proj_out": a.in_proj_out,
            "conv_channels": a.conv_channels,
            "conv_kernel": a.conv_kernel,
            "linear_num_key_heads": arch.linear_num_key_heads,
            "linear_num_value_heads": arch.linear_num_value_heads,
            "linear_key_head_dim": arch.linear_key_head_dim,
            "linear_value_head_dim": arch.linear_value_head_dim,
        }
    return [_gap(kind, component, kind, specs, component.parameter_count)]


# Component kinds that are one gap each, with the component's attrs as specs.
_WHOLE_GAPS = {
    ComponentKind.RECURRENCE: "recurrence",
    ComponentKind.RESIDUAL_SCALE: "residual_scale",
    ComponentKind.RELATIVE_POSITION_BIAS: "relative_position_bias",
    ComponentKind.LINEAR: "linear_projection",
    ComponentKind.ADAPTER: "adapter",
    ComponentKind.MIXTURE_OF_ATTENTION: "mixture_of_attention_heads",
    ComponentKind.SPARSE_ATTENTION_INDEXER: "sparse_attention_indexer",
    ComponentKind.CONVOLUTION: "convolution",
    ComponentKind.PATCH_EMBEDDING: "patch_embedding",
    ComponentKind.PROJECTOR: "multimodal_projector",
    ComponentKind.LINEAR_ATTENTION: "linear_attention",
    ComponentKind.HYPER_CONNECTIONS: "hyper_connections",
    ComponentKind.PER_LAYER_EMBEDDING: "per_layer_embedding",
    ComponentKind.SHORT_CONVOLUTION: "short_convolution",
    ComponentKind.EMBEDDING_PROJECTION: "embedding_projection",
    ComponentKind.LM_HEAD_TRANSFORM: "lm_head_transform",
}


# Whole gaps named by their module, as a model may have several (one per layer input ...).
_NAMED_BY_MODULE = {ComponentKind.HYPER_CONNECTIONS, ComponentKind.PER_LAYER_EMBEDDING}


def _map_whole(component: Component) -> list[Piece]:
    kind = component.kind
    name = _module_entry_name(component.path) if kind in _NAMED_BY_MODULE else kind.value
    specs = component.attrs.specs()
    return [_gap(name, component, _WHOLE_GAPS[kind], specs, component.parameter_count)]


def _module_entry_name(path: str) -> str:
    """An entry name for a module: its own name, with its list's name for a numbered item
    (`embed_tokens.2` -> `embed_tokens_2`)."""
    parts = path.split(".")
    name = parts[-1]
    if name.isdigit() and len(parts) > 1:
        name = f"{parts[-2]}_{name}"
    return _entry_name(name)


def _entry_name(text: str) -> str:
    """A module name as an entry name: lower case, letters, digits and underscores."""
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "module"


def _pieces(component: Component, structure: Structure) -> list[Piece]:
    """The pieces of one component; an encoder's entry names say which part they belong to."""
    pieces = _component_pieces(component, structure)
    if component.part is Part.TEXT:
        return pieces
    return [replace(piece, name=f"{component.part}_{piece.name}") for piece in pieces]


_EMBEDDINGS = {
    ComponentKind.EMBEDDING,
    ComponentKind.POSITION_EMBEDDING,
    ComponentKind.TOKEN_TYPE_EMBEDDING,
    ComponentKind.LEARNED_EMBEDDING,
}


def _component_pieces(component: Component, structure: Structure) -> list[Piece]:
    kind = component.kind
    if kind in _EMBEDDINGS:
        return _map_embedding(component)
    if kind is ComponentKind.EMBEDDING_TABLE:
        name = _module_entry_name(component.path)
        return [replace(piece, name=name) for piece in _map_embedding(component)]
    if kind in {ComponentKind.CROSS_ATTENTION, ComponentKind.CROSS_ATTENTION_GATE}:
        return _map_cross_attention(component)
    if kind in _WHOLE_GAPS:
        return _map_whole(component)
    if kind is ComponentKind.LM_HEAD:
        return _map_lm_head(component)
    if kind is ComponentKind.NORM:
        return _map_norm(component)
    if kind is ComponentKind.ATTENTION:
        return _map_attention(component)
    if kind is ComponentKind.MLP:
        return _map_dense_mlp(component, component.attrs_as(MlpAttrs))
    if kind is ComponentKind.MOE:
        return _map_moe(component)
    if kind in {ComponentKind.MAMBA_MIXER, ComponentKind.GATED_DELTA_NET}:
        return _map_mixer(component, structure)
    if kind is ComponentKind.BUFFERS:
        return []
    leaf = _module_entry_name(component.path)
    return [
        _gap(
            f"unknown_{leaf}",
            component,
            "unknown",
            {"module_class": component.module_class},
            component.parameter_count,
        )
    ]
