"""Modules outside the decoder layers: embeddings, the LM head (tied or not), final norms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..inventory import TensorKind, TensorRecord
from .attrs import Attrs, EmbeddingAttrs, NoAttrs, NormAttrs
from .modules import _EXTRA_ATTRS, _table_attrs
from .names import (
    _HEAD_TRANSFORM_PARENTS,
    _HYPER_CONNECTION,
    _OTHER_HEAD_NAMES,
    _PER_LAYER_EMBEDDING,
    EMBEDDING_NAMES,
    EMBEDDING_PROJECTION_NAMES,
    LM_HEAD_NAMES,
    POSITION_EMBEDDING_NAMES,
    TOKEN_TYPE_EMBEDDING_NAMES,
)
from .records import Component, ComponentKind
from .sizes import ConfigSizes
from .tensors import _is_norm

__all__: list[str] = []


# Tables read as rows x width whatever their shape; the embedding and head are [vocab, H].
_TABLES = {
    ComponentKind.POSITION_EMBEDDING,
    ComponentKind.TOKEN_TYPE_EMBEDDING,
    ComponentKind.EMBEDDING_TABLE,
}


def _top_attrs(kind: ComponentKind, records: Sequence[TensorRecord]) -> Attrs:
    params = [r for r in records if r.kind is TensorKind.PARAM]
    if kind in _TABLES and params:
        return _table_attrs(params)
    if kind in {ComponentKind.EMBEDDING, ComponentKind.LM_HEAD} and params:
        rows, cols = params[0].shape[0], params[0].shape[1]
        return EmbeddingAttrs(vocab_size=rows, hidden_size=cols)
    if kind is ComponentKind.NORM and params:
        return NormAttrs(
            hidden_size=params[0].shape[0], has_bias=any(r.leaf == "bias" for r in params)
        )
    return NoAttrs()


def _is_head_alias(alias: str) -> bool:
    """An output head's name for a tied embedding (`lm_head.weight`, `cls.predictions.decoder`)."""
    parts = alias.split(".")[:-1]
    return bool(parts) and (parts[-1] in LM_HEAD_NAMES or parts[-1] in _OTHER_HEAD_NAMES)


def _is_untied_head(path: str, records: Sequence[TensorRecord], arch: ConfigSizes) -> bool:
    """A head under another name (`lm_head.decoder`, RWKV's `head`) whose weight is [vocab, H]."""
    if path.rpartition(".")[2] not in _OTHER_HEAD_NAMES or not arch.vocab_size:
        return False
    return any(
        r.kind is TensorKind.PARAM
        and r.leaf == "weight"
        and len(r.shape) == 2
        and r.shape[0] == arch.vocab_size
        for r in records
    )


def _without_table_extras(component: Component) -> list[Component]:
    """An embedding table and the learned vectors its module keeps beside it (T5Gemma 2's
    `eoi_embedding`) as separate components, so the table stays an exact EmbeddingLayer."""
    if component.kind not in {ComponentKind.EMBEDDING, ComponentKind.EMBEDDING_TABLE}:
        return [component]
    extras = [t for t in component.tensors if t.kind is TensorKind.PARAM and t.leaf != "weight"]
    if not extras:
        return [component]
    kept = tuple(t for t in component.tensors if t not in extras)
    table = replace(component, tensors=kept)
    return [table] + [
        Component(
            ComponentKind.LEARNED_EMBEDDING, t.name, None, t.module_class, (t,), _table_attrs([t])
        )
        for t in extras
    ]


def _embedding_by_shape(components: list[Component], arch: ConfigSizes) -> list[Component]:
    """With no embedding found by name, the first nn.Embedding table of [vocab, H] is it (CTRL)."""
    for position, component in enumerate(components):
        weights = [t for t in component.tensors if t.kind is TensorKind.PARAM and len(t.shape) == 2]
        if (
            component.kind in {ComponentKind.UNKNOWN, ComponentKind.EMBEDDING_TABLE}
            and component.module_class.endswith("Embedding")
            and len(weights) == 1
            and len(component.tensors) == 1
            and weights[0].shape[0] == arch.vocab_size
        ):
            embedding = replace(
                component,
                kind=ComponentKind.EMBEDDING,
                attrs=_top_attrs(ComponentKind.EMBEDDING, component.tensors),
            )
            return [*components[:position], embedding, *components[position + 1 :]]
    return components


def _tied(components: Sequence[Component]) -> bool:
    for component in components:
        if component.kind is ComponentKind.EMBEDDING:
            return any(
                _is_head_alias(alias) for record in component.tensors for alias in record.aliases
            )
    return False


def _with_tied_head(components: list[Component]) -> list[Component]:
    """Append the tied LM head; a bias the head keeps beside the tied weight becomes its tensors."""
    embedding = next(c for c in components if c.kind is ComponentKind.EMBEDDING)
    alias = next(a for r in embedding.tensors for a in r.aliases if _is_head_alias(a))
    head_path = alias.rpartition(".")[0]
    biases = _head_biases(components, head_path)
    tensors = tuple(t for c in biases for t in c.tensors)
    attrs = replace(embedding.attrs_as(EmbeddingAttrs), tied=True)
    kept = [c for c in components if not any(c is b for b in biases)]
    return [*kept, Component(ComponentKind.LM_HEAD, head_path, None, "tied", tensors, attrs)]


def _head_biases(components: Sequence[Component], head_path: str) -> list[Component]:
    """Bias-only modules at the head or its parent (RoBERTa's `lm_head.bias`, BERT's
    `cls.predictions.bias`): the output bias of the head, kept beside its weight."""
    owners = {head_path.rpartition(".")[0], head_path}
    return [
        c
        for c in components
        if c.kind is ComponentKind.UNKNOWN
        and c.layer_index is None
        and c.path in owners
        and all(
            t.leaf == "bias" and len(t.shape) == 1 for t in c.tensors if t.kind is TensorKind.PARAM
        )
    ]


def _with_head_biases(components: list[Component]) -> list[Component]:
    """Fold the output bias an untied head keeps in a parent module into the head."""
    heads = [c for c in components if c.kind is ComponentKind.LM_HEAD and c.layer_index is None]
    if len(heads) != 1:
        return components
    head = heads[0]
    biases = [b for b in _head_biases(components, head.path) if b is not head]
    if not biases:
        return components
    merged = replace(head, tensors=head.tensors + tuple(t for b in biases for t in b.tensors))
    return [merged if c is head else c for c in components if not any(c is b for b in biases)]


def _top_level_kind(path: str, table: bool) -> ComponentKind:
    """Kinds of modules outside the decoder layers that are known by their name."""
    parts = path.split(".")
    leaf = parts[-1]
    if any(_HYPER_CONNECTION.search(part) for part in parts[-2:]):
        return ComponentKind.HYPER_CONNECTIONS
    if _PER_LAYER_EMBEDDING.match(leaf) and table:
        return ComponentKind.PER_LAYER_EMBEDDING
    if leaf in EMBEDDING_PROJECTION_NAMES and table:
        return ComponentKind.EMBEDDING_PROJECTION
    if leaf == "dense" and len(parts) > 1 and parts[-2] in _HEAD_TRANSFORM_PARENTS and table:
        return ComponentKind.LM_HEAD_TRANSFORM
    if "relative" in leaf or leaf == "position_bias":
        return ComponentKind.RELATIVE_POSITION_BIAS
    return ComponentKind.UNKNOWN


def _top_level_by_shape(
    path: str, records: Sequence[TensorRecord], module_class: str, arch: ConfigSizes
) -> ComponentKind:
    """A module outside the layers that no name rule knows, told by its class and shapes: a
    further embedding table (RoCBert's shape and pronunciation tables, MusicGen's one per
    codebook), an output head [vocab, H], an image patch convolution, or one linear projection
    standing alone (not an item of a list of layer parts)."""
    params = [r for r in records if r.kind is TensorKind.PARAM]
    weights = [r for r in params if r.leaf == "weight"]
    if len(weights) != 1 or {r.leaf for r in params} - {"weight", "bias"}:
        return ComponentKind.UNKNOWN
    shape = weights[0].shape
    if module_class.endswith("Embedding") and len(shape) == 2:
        return ComponentKind.EMBEDDING_TABLE
    if module_class in {"Conv2d", "Conv3d"}:
        return ComponentKind.PATCH_EMBEDDING
    if len(shape) == 2 and module_class == "Linear":
        if shape[0] == arch.vocab_size and shape[1] == arch.hidden_size:
            return ComponentKind.LM_HEAD
        if not any(part.isdigit() for part in path.split(".")):
            return ComponentKind.LINEAR
    return ComponentKind.UNKNOWN


def _top_level_components(
    top_level: dict[str, list[TensorRecord]], arch: ConfigSizes, hidden: int
) -> list[Component]:
    """The modules outside the decoder layers, each told by its name, else by its shapes."""
    components: list[Component] = []
    embedding_seen = False
    for path, records in top_level.items():
        leaf = path.rpartition(".")[2]
        module_class = records[0].module_class
        table = any(
            r.kind is TensorKind.PARAM and r.leaf == "weight" and len(r.shape) == 2 for r in records
        )
        if all(r.kind is TensorKind.BUFFER for r in records):
            kind = ComponentKind.BUFFERS
        elif leaf in POSITION_EMBEDDING_NAMES and table:
            kind = ComponentKind.POSITION_EMBEDDING
        elif leaf in TOKEN_TYPE_EMBEDDING_NAMES and table:
            kind = ComponentKind.TOKEN_TYPE_EMBEDDING
        elif leaf in EMBEDDING_NAMES and not embedding_seen and table:
            kind = ComponentKind.EMBEDDING
            embedding_seen = True
        elif (leaf in LM_HEAD_NAMES and table) or _is_untied_head(path, records, arch):
            kind = ComponentKind.LM_HEAD
        elif ("Norm" in module_class or "norm" in leaf or leaf.startswith("ln")) and _is_norm(
            records
        ):
            kind = ComponentKind.NORM
        else:
            kind = _top_level_kind(path, table)
        if kind is ComponentKind.UNKNOWN:
            kind = _top_level_by_shape(path, records, module_class, arch)
        attrs = _top_attrs(kind, records)
        if kind in _EXTRA_ATTRS:
            attrs = _EXTRA_ATTRS[kind](records, arch, hidden)
        components.append(Component(kind, path, None, module_class, tuple(records), attrs))
    if not embedding_seen:
        components = _embedding_by_shape(components, arch)
    return [piece for c in components for piece in _without_table_extras(c)]
