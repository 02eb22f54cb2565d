"""The reference layer set: the catalog's classes, the loader-contract replay, the gap formulas.

`harness.catalog` is the package the generated gap skeletons import the layer classes from (the
harness's counterpart of Mantile's `backend.layers`), so it re-exports every class and helper.
The classes: `base` (Layer and the conventions), `attention`, `mlp`, `moe`, `no_matmul` (norm and
embedding); `catalog` (CATALOG, `instantiate`); `discovery` (classes read from source,
`get_supported_layers`); `targets` (LayerSet, the specs bound as Mantile's loader binds them).
`harness.catalog.loader` replays Mantile's loader on a config; `harness.catalog.formulas` holds
the reference formulas of components no class computes; `harness.catalog.registry` reads the gap
kinds from `gap_kinds/<kind>.toml`.
"""

from .attention import AttentionLayer, GroupedQueryAttentionLayer, SlidingWindowAttentionLayer
from .base import PHASES, Layer, Phase, spec_parameters
from .catalog import CATALOG, instantiate
from .discovery import LayerClassInfo, get_supported_layers
from .mlp import GatedMLPLayer, MLPLayer
from .moe import MoELayer
from .no_matmul import EmbeddingLayer, NormLayer
from .targets import Binding, LayerSet, LayerSignature, layer_set

__all__ = [
    "CATALOG",
    "PHASES",
    "AttentionLayer",
    "Binding",
    "EmbeddingLayer",
    "GatedMLPLayer",
    "GroupedQueryAttentionLayer",
    "Layer",
    "LayerClassInfo",
    "LayerSet",
    "LayerSignature",
    "MLPLayer",
    "MoELayer",
    "NormLayer",
    "Phase",
    "SlidingWindowAttentionLayer",
    "get_supported_layers",
    "instantiate",
    "layer_set",
    "spec_parameters",
]
