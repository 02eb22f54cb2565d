"""The structure step's records: components, the structure of a model, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from ...enums import StrEnum
from ..inventory import TensorKind, TensorRecord
from .attrs import (
    AdapterAttrs,
    AttentionAttrs,
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
    ProjectorAttrs,
    RecurrenceAttrs,
    ResidualScaleAttrs,
    ShortConvolutionAttrs,
)

if TYPE_CHECKING:
    from .sizes import ConfigSizes

__all__ = [
    "ATTRS_OF_KIND",
    "TEXT",
    "Component",
    "ComponentKind",
    "Finding",
    "FindingLevel",
    "Part",
    "Structure",
]

A = TypeVar("A", bound=Attrs)


class ComponentKind(StrEnum):
    """What a component is; mapping turns each kind into entries (docs/architecture.md)."""

    EMBEDDING = "embedding"
    POSITION_EMBEDDING = "position_embedding"
    TOKEN_TYPE_EMBEDDING = "token_type_embedding"
    LEARNED_EMBEDDING = "learned_embedding"  # a learned vector or token set on a module
    EMBEDDING_TABLE = "embedding_table"  # a further table (one per codebook, shape tables ...)
    PER_LAYER_EMBEDDING = "per_layer_embedding"
    EMBEDDING_PROJECTION = "embedding_projection"
    PATCH_EMBEDDING = "patch_embedding"
    LM_HEAD = "lm_head"
    LM_HEAD_TRANSFORM = "lm_head_transform"
    NORM = "norm"
    ATTENTION = "attention"
    CROSS_ATTENTION = "cross_attention"
    CROSS_ATTENTION_GATE = "cross_attention_gate"
    MIXTURE_OF_ATTENTION = "mixture_of_attention"
    SPARSE_ATTENTION_INDEXER = "sparse_attention_indexer"
    LINEAR_ATTENTION = "linear_attention"
    RELATIVE_POSITION_BIAS = "relative_position_bias"
    MLP = "mlp"
    MOE = "moe"
    MAMBA_MIXER = "mamba_mixer"
    GATED_DELTA_NET = "gated_delta_net"
    SHORT_CONVOLUTION = "short_convolution"
    RECURRENCE = "recurrence"
    HYPER_CONNECTIONS = "hyper_connections"
    RESIDUAL_SCALE = "residual_scale"
    ADAPTER = "adapter"
    CONVOLUTION = "convolution"
    LINEAR = "linear"  # one linear standing alone
    PROJECTOR = "projector"  # an encoder's projection into the text stack
    BUFFERS = "buffers"  # buffers only, no parameters
    UNKNOWN = "unknown"  # parameters no rule understands


# The record each kind holds (attention: MLA reads as its own record).
ATTRS_OF_KIND: dict[ComponentKind, tuple[type[Attrs], ...]] = {
    **dict.fromkeys(
        (
            ComponentKind.EMBEDDING,
            ComponentKind.POSITION_EMBEDDING,
            ComponentKind.TOKEN_TYPE_EMBEDDING,
            ComponentKind.LEARNED_EMBEDDING,
            ComponentKind.EMBEDDING_TABLE,
            ComponentKind.LM_HEAD,
        ),
        (EmbeddingAttrs,),
    ),
    ComponentKind.PER_LAYER_EMBEDDING: (PerLayerEmbeddingAttrs,),
    ComponentKind.EMBEDDING_PROJECTION: (LinearAttrs,),
    ComponentKind.PATCH_EMBEDDING: (PatchEmbeddingAttrs,),
    ComponentKind.LM_HEAD_TRANSFORM: (LinearAttrs,),
    ComponentKind.NORM: (NormAttrs,),
    ComponentKind.ATTENTION: (AttentionAttrs, LatentAttentionAttrs),
    ComponentKind.CROSS_ATTENTION: (AttentionAttrs,),
    ComponentKind.CROSS_ATTENTION_GATE: (NoAttrs,),
    ComponentKind.MIXTURE_OF_ATTENTION: (MixtureOfAttentionAttrs,),
    ComponentKind.SPARSE_ATTENTION_INDEXER: (IndexerAttrs,),
    ComponentKind.LINEAR_ATTENTION: (LinearAttentionAttrs,),
    ComponentKind.RELATIVE_POSITION_BIAS: (NoAttrs,),
    ComponentKind.MLP: (MlpAttrs,),
    ComponentKind.MOE: (MoEAttrs,),
    ComponentKind.MAMBA_MIXER: (MixerAttrs,),
    ComponentKind.GATED_DELTA_NET: (MixerAttrs,),
    ComponentKind.SHORT_CONVOLUTION: (ShortConvolutionAttrs,),
    ComponentKind.RECURRENCE: (RecurrenceAttrs,),
    ComponentKind.HYPER_CONNECTIONS: (HyperConnectionAttrs,),
    ComponentKind.RESIDUAL_SCALE: (ResidualScaleAttrs,),
    ComponentKind.ADAPTER: (AdapterAttrs,),
    ComponentKind.CONVOLUTION: (ConvolutionAttrs,),
    ComponentKind.LINEAR: (ProjectorAttrs,),
    ComponentKind.PROJECTOR: (ProjectorAttrs,),
    ComponentKind.BUFFERS: (NoAttrs,),
    ComponentKind.UNKNOWN: (NoAttrs,),
}


class Part(StrEnum):
    """The part of the model a component belongs to: the text stack, or an encoder."""

    TEXT = "text"
    VISION = "vision"
    AUDIO = "audio"
    PROTEIN = "protein"


TEXT = Part.TEXT


class FindingLevel(StrEnum):
    """How a finding reads: the config disagrees with the shapes, or a note on a size."""

    MISMATCH = "mismatch"
    NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """A disagreement between the config and the tensor shapes, or a note on how a size was read."""

    level: FindingLevel
    where: str
    message: str


@dataclass(frozen=True)
class Component:
    """One functional piece of the model (an attention block of layer 3, the final norm ...).

    `attrs` is the record its kind holds (ATTRS_OF_KIND); a kind given as its word is taken.
    """

    kind: ComponentKind
    path: str
    layer_index: int | None
    module_class: str
    tensors: tuple[TensorRecord, ...]
    attrs: Attrs = field(default_factory=NoAttrs)
    part: Part = Part.TEXT  # the text stack, or the encoder it belongs to

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ComponentKind(self.kind))
        object.__setattr__(self, "part", Part(self.part))
        allowed = ATTRS_OF_KIND[self.kind]
        if not isinstance(self.attrs, allowed):
            raise TypeError(
                f"{self.path}: a {self.kind} component holds "
                f"{' or '.join(a.__name__ for a in allowed)}, not {type(self.attrs).__name__}"
            )

    @property
    def parameter_count(self) -> int:
        """Parameters held by the component's tensors."""
        return sum(t.numel for t in self.tensors if t.kind is TensorKind.PARAM)

    def attrs_as(self, kind: type[A]) -> A:
        """The attrs as the record `kind`; TypeError when the component holds another."""
        if not isinstance(self.attrs, kind):
            raise TypeError(
                f"{self.path}: a {self.kind} component holds {type(self.attrs).__name__}, "
                f"not {kind.__name__}"
            )
        return self.attrs


@dataclass(frozen=True)
class Structure:
    """Every component of a model, with the decoder layer count, layer types and findings."""

    model: str
    components: tuple[Component, ...]
    num_layers: int
    layer_types: tuple[str, ...]
    hidden_size: int
    vocab_size: int
    tied_embeddings: bool
    findings: tuple[Finding, ...]
    arch: ConfigSizes  # the text stack's sizes as the config states them

    @property
    def total_params(self) -> int:
        """Parameters over all components (equals the inspection total)."""
        return sum(c.parameter_count for c in self.components)

    def of_kind(self, kind: ComponentKind | str, part: Part | str = Part.TEXT) -> list[Component]:
        """Components of one kind in one part of the model (the text stack unless told)."""
        return [c for c in self.components if c.kind == kind and c.part == part]

    @property
    def parts(self) -> tuple[Part, ...]:
        """The parts besides the text stack (`vision`, `audio` ...), in model order."""
        return tuple(dict.fromkeys(c.part for c in self.components if c.part is not Part.TEXT))
