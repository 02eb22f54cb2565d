"""Step 3, structure: group all tensors into components per decoder layer, sizes from shapes.

The sub-modules: `records` (Component, Structure, Finding and the enums), `attrs` (what each kind
of component holds), `names` (the module names the rules know), `sizes` (the config's sizes),
`tensors` (reading projection shapes), `layers` (tensors grouped per layer and block), `blocks`
(a block classified), `attention`, `mlp`, `moe`, `mixers`, `inner` (norms and adapters inside a
block), `modules` (components read from one module), `top_level` (embeddings, head, final norm)
and `encoders` (vision, audio ... parts).
"""

from __future__ import annotations

from ..inventory import Inspection, TensorRecord
from .attrs import (
    AdapterAttrs,
    AttentionAttrs,
    AttentionVariant,
    AttentionWindow,
    Attrs,
    ConvolutionAttrs,
    EmbeddingAttrs,
    HyperConnectionAttrs,
    IndexerAttrs,
    LatentAttentionAttrs,
    LinearAttentionAttrs,
    LinearAttrs,
    MixerAttrs,
    MixtureOfAttentionAttrs,
    MlpAttrs,
    MoEAttrs,
    NoAttrs,
    NormAttrs,
    PatchEmbeddingAttrs,
    PerLayerEmbeddingAttrs,
    ProjectionBiases,
    ProjectorAttrs,
    RecurrenceAttrs,
    ResidualScaleAttrs,
    ShortConvolutionAttrs,
)
from .encoders import _modality_components, _split_parts
from .layers import _component_order, _layer_blocks, _layer_components
from .records import (
    ATTRS_OF_KIND,
    TEXT,
    Component,
    ComponentKind,
    Finding,
    FindingLevel,
    Part,
    Structure,
)
from .sizes import (
    ConfigSizes,
    LayerOverrides,
    _arch,
    _cross_check_layers,
    _hidden_size,
    _resolve_layer_types,
    _vocab_size,
    arch_value,
)
from .top_level import _tied, _top_level_components, _with_head_biases, _with_tied_head

__all__ = [
    "ATTRS_OF_KIND",
    "TEXT",
    "AdapterAttrs",
    "AttentionAttrs",
    "AttentionVariant",
    "AttentionWindow",
    "Attrs",
    "Component",
    "ComponentKind",
    "ConfigSizes",
    "ConvolutionAttrs",
    "EmbeddingAttrs",
    "Finding",
    "FindingLevel",
    "HyperConnectionAttrs",
    "IndexerAttrs",
    "LatentAttentionAttrs",
    "LayerOverrides",
    "LinearAttentionAttrs",
    "LinearAttrs",
    "MixerAttrs",
    "MixtureOfAttentionAttrs",
    "MlpAttrs",
    "MoEAttrs",
    "NoAttrs",
    "NormAttrs",
    "Part",
    "PatchEmbeddingAttrs",
    "PerLayerEmbeddingAttrs",
    "ProjectionBiases",
    "ProjectorAttrs",
    "RecurrenceAttrs",
    "ResidualScaleAttrs",
    "ShortConvolutionAttrs",
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
    components = _top_level_components(top_level, arch, hidden)
    components.extend(_layer_components(blocks, arch, hidden, layer_types, findings))
    components.sort(key=_component_order)
    tied = _tied(components)
    if not any(c.kind is ComponentKind.LM_HEAD for c in components) and tied:
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
