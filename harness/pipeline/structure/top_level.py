"""Modules outside the decoder layers: embeddings, the LM head (tied or not), final norms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..inventory import TensorRecord
from .modules import _table_attrs
from .names import (
    _HEAD_TRANSFORM_PARENTS,
    _HYPER_CONNECTION,
    _OTHER_HEAD_NAMES,
    _PER_LAYER_EMBEDDING,
    EMBEDDING_PROJECTION_NAMES,
    LM_HEAD_NAMES,
)
from .records import Component

__all__: list[str] = []


def _top_attrs(kind: str, records: Sequence[TensorRecord]) -> dict[str, Any]:
    params = [r for r in records if r.kind == "param"]
    if kind in {"position_embedding", "token_type_embedding", "embedding_table"} and params:
        return _table_attrs(params)
    if kind in {"embedding", "lm_head"} and params:
        rows, cols = params[0].shape[0], params[0].shape[1]
        return {"vocab_size": rows, "hidden_size": cols, "tied": False}
    if kind == "norm" and params:
        return {
            "hidden_size": params[0].shape[0],
            "has_bias": any(r.leaf == "bias" for r in params),
        }
    return {}


def _is_head_alias(alias: str) -> bool:
    """An output head's name for a tied embedding (`lm_head.weight`, `cls.predictions.decoder`)."""
    parts = alias.split(".")[:-1]
    return bool(parts) and (parts[-1] in LM_HEAD_NAMES or parts[-1] in _OTHER_HEAD_NAMES)


def _is_untied_head(path: str, records: Sequence[TensorRecord], arch: dict[str, Any]) -> bool:
    """A head under another name (`lm_head.decoder`, RWKV's `head`) whose weight is [vocab, H]."""
    if path.rpartition(".")[2] not in _OTHER_HEAD_NAMES or not arch.get("vocab_size"):
        return False
    return any(
        r.kind == "param"
        and r.leaf == "weight"
        and len(r.shape) == 2
        and r.shape[0] == arch["vocab_size"]
        for r in records
    )


def _without_table_extras(component: Component) -> list[Component]:
    """An embedding table and the learned vectors its module keeps beside it (T5Gemma 2's
    `eoi_embedding`) as separate components, so the table stays an exact EmbeddingLayer."""
    if component.kind not in {"embedding", "embedding_table"}:
        return [component]
    extras = [t for t in component.tensors if t.kind == "param" and t.leaf != "weight"]
    if not extras:
        return [component]
    kept = tuple(t for t in component.tensors if t not in extras)
    table = replace(component, tensors=kept)
    return [table] + [
        Component("learned_embedding", t.name, None, t.module_class, (t,), _table_attrs([t]))
        for t in extras
    ]


def _embedding_by_shape(components: list[Component], arch: dict[str, Any]) -> list[Component]:
    """With no embedding found by name, the first nn.Embedding table of [vocab, H] is it (CTRL)."""
    for position, component in enumerate(components):
        weights = [t for t in component.tensors if t.kind == "param" and len(t.shape) == 2]
        if (
            component.kind in {"unknown", "embedding_table"}
            and component.module_class.endswith("Embedding")
            and len(weights) == 1
            and len(component.tensors) == 1
            and weights[0].shape[0] == arch.get("vocab_size")
        ):
            embedding = replace(
                component, kind="embedding", attrs=_top_attrs("embedding", component.tensors)
            )
            return [*components[:position], embedding, *components[position + 1 :]]
    return components


def _tied(components: Sequence[Component]) -> bool:
    for component in components:
        if component.kind == "embedding":
            return any(
                _is_head_alias(alias) for record in component.tensors for alias in record.aliases
            )
    return False


def _with_tied_head(components: list[Component]) -> list[Component]:
    """Append the tied LM head; a bias the head keeps beside the tied weight becomes its tensors."""
    embedding = next(c for c in components if c.kind == "embedding")
    alias = next(a for r in embedding.tensors for a in r.aliases if _is_head_alias(a))
    head_path = alias.rpartition(".")[0]
    biases = _head_biases(components, head_path)
    tensors = tuple(t for c in biases for t in c.tensors)
    attrs = dict(embedding.attrs, tied=True, tied_to=embedding.tensors[0].name)
    kept = [c for c in components if not any(c is b for b in biases)]
    return [*kept, Component("lm_head", head_path, None, "tied", tensors, attrs)]


def _head_biases(components: Sequence[Component], head_path: str) -> list[Component]:
    """Bias-only modules at the head or its parent (RoBERTa's `lm_head.bias`, BERT's
    `cls.predictions.bias`): the output bias of the head, kept beside its weight."""
    owners = {head_path.rpartition(".")[0], head_path}
    return [
        c
        for c in components
        if c.kind == "unknown"
        and c.layer_index is None
        and c.path in owners
        and all(t.leaf == "bias" and len(t.shape) == 1 for t in c.tensors if t.kind == "param")
    ]


def _with_head_biases(components: list[Component]) -> list[Component]:
    """Fold the output bias an untied head keeps in a parent module into the head."""
    heads = [c for c in components if c.kind == "lm_head" and c.layer_index is None]
    if len(heads) != 1:
        return components
    head = heads[0]
    biases = [b for b in _head_biases(components, head.path) if b is not head]
    if not biases:
        return components
    merged = replace(head, tensors=head.tensors + tuple(t for b in biases for t in b.tensors))
    return [merged if c is head else c for c in components if not any(c is b for b in biases)]


def _top_level_kind(path: str, table: bool) -> str:
    """Kinds of modules outside the decoder layers that are known by their name."""
    parts = path.split(".")
    leaf = parts[-1]
    if any(_HYPER_CONNECTION.search(part) for part in parts[-2:]):
        return "hyper_connections"
    if _PER_LAYER_EMBEDDING.match(leaf) and table:
        return "per_layer_embedding"
    if leaf in EMBEDDING_PROJECTION_NAMES and table:
        return "embedding_projection"
    if leaf == "dense" and len(parts) > 1 and parts[-2] in _HEAD_TRANSFORM_PARENTS and table:
        return "lm_head_transform"
    if "relative" in leaf or leaf == "position_bias":
        return "relative_position_bias"
    return "unknown"


def _top_level_by_shape(
    path: str, records: Sequence[TensorRecord], module_class: str, arch: dict[str, Any]
) -> str:
    """A module outside the layers that no name rule knows, told by its class and shapes: a
    further embedding table (RoCBert's shape and pronunciation tables, MusicGen's one per
    codebook), an output head [vocab, H], an image patch convolution, or one linear projection
    standing alone (not an item of a list of layer parts)."""
    params = [r for r in records if r.kind == "param"]
    weights = [r for r in params if r.leaf == "weight"]
    if len(weights) != 1 or {r.leaf for r in params} - {"weight", "bias"}:
        return "unknown"
    shape = weights[0].shape
    if module_class.endswith("Embedding") and len(shape) == 2:
        return "embedding_table"
    if module_class in {"Conv2d", "Conv3d"}:
        return "patch_embedding"
    if len(shape) == 2 and module_class == "Linear":
        if shape[0] == arch.get("vocab_size") and shape[1] == arch.get("hidden_size"):
            return "lm_head"
        if not any(part.isdigit() for part in path.split(".")):
            return "linear"
    return "unknown"
