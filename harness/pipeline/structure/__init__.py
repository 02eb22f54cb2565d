"""Step 3, structure: group all tensors into components per decoder layer, sizes from shapes.

The sub-modules: `records` (Component, Structure, Finding), `names` (the module names the rules
know), `sizes` (the config's sizes), `tensors` (reading projection shapes), `layers` (tensors
grouped per layer and block), `blocks` (a block classified), `attention`, `mlp`, `moe`,
`mixers`, `inner` (norms and adapters inside a block), `modules` (components of one module),
`top_level` (embeddings, head, final norm) and `encoders` (vision, audio ... parts).
"""

from __future__ import annotations

from ..inventory import Inspection, TensorRecord
from .encoders import _modality_components, _split_parts
from .layers import _component_order, _layer_blocks, _layer_components
from .modules import _EXTRA_ATTRS
from .names import (
    EMBEDDING_NAMES,
    LM_HEAD_NAMES,
    POSITION_EMBEDDING_NAMES,
    TOKEN_TYPE_EMBEDDING_NAMES,
)
from .records import TEXT, Component, Finding, Structure
from .sizes import (
    _arch,
    _cross_check_layers,
    _hidden_size,
    _resolve_layer_types,
    _vocab_size,
    arch_value,
)
from .tensors import _is_norm
from .top_level import (
    _embedding_by_shape,
    _is_untied_head,
    _tied,
    _top_attrs,
    _top_level_by_shape,
    _top_level_kind,
    _with_head_biases,
    _with_tied_head,
    _without_table_extras,
)

__all__ = [
    "TEXT",
    "Component",
    "Finding",
    "Structure",
    "analyze_layer_structure",
    "arch_value",
]


def analyze_layer_structure(inspection: Inspection) -> Structure:
    """Group all tensors into components (embedding, attention, MLP, MoE, norms, head, mixers).

    A vision or audio encoder and its projector are their own part of the model: their tensors
    are split off first and described from their own sub-config and shapes, so they never count
    as decoder layers nor meet the text config's sizes.
    """
    arch = _arch(inspection)
    findings: list[Finding] = []
    text_records, modality_records = _split_parts(inspection.tensors, inspection.config)
    top_level: dict[str, list[TensorRecord]] = {}
    blocks = _layer_blocks(text_records, top_level)
    layer_indices = sorted({index for _, index, _ in blocks})
    num_layers = len(layer_indices)
    hidden = _hidden_size(text_records, arch, findings)
    layer_types = _resolve_layer_types(arch, num_layers)
    components: list[Component] = []
    embedding_seen = False
    for path, records in top_level.items():
        leaf = path.rpartition(".")[2]
        module_class = records[0].module_class
        table = any(r.kind == "param" and r.leaf == "weight" and len(r.shape) == 2 for r in records)
        if all(r.kind == "buffer" for r in records):
            kind = "buffers"
        elif leaf in POSITION_EMBEDDING_NAMES and table:
            kind = "position_embedding"
        elif leaf in TOKEN_TYPE_EMBEDDING_NAMES and table:
            kind = "token_type_embedding"
        elif leaf in EMBEDDING_NAMES and not embedding_seen and table:
            kind = "embedding"
            embedding_seen = True
        elif (leaf in LM_HEAD_NAMES and table) or _is_untied_head(path, records, arch):
            kind = "lm_head"
        elif ("Norm" in module_class or "norm" in leaf or leaf.startswith("ln")) and _is_norm(
            records
        ):
            kind = "norm"
        else:
            kind = _top_level_kind(path, table)
        if kind == "unknown":
            kind = _top_level_by_shape(path, records, module_class, arch)
        attrs = _top_attrs(kind, records)
        if kind in _EXTRA_ATTRS:
            attrs = _EXTRA_ATTRS[kind](records, arch, hidden)
        components.append(Component(kind, path, None, module_class, tuple(records), attrs))
    if not embedding_seen:
        components = _embedding_by_shape(components, arch)
    components = [piece for c in components for piece in _without_table_extras(c)]
    components.extend(_layer_components(blocks, arch, hidden, layer_types, findings))
    components.sort(key=_component_order)
    tied = _tied(components)
    if not any(c.kind == "lm_head" for c in components) and tied:
        components = _with_tied_head(components)
    else:
        components = _with_head_biases(components)
    vocab = _vocab_size(components, arch, findings)
    _cross_check_layers(arch, num_layers, findings)
    for part, records in modality_records.items():
        components.extend(_modality_components(part, records, inspection.config, findings))
    return Structure(
        model=inspection.model,
        components=tuple(components),
        num_layers=num_layers,
        layer_types=layer_types,
        hidden_size=hidden,
        vocab_size=vocab,
        tied_embeddings=tied,
        findings=tuple(findings),
        arch=arch,
    )
