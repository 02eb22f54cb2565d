"""What the structure step reads of each kind of component: one frozen record per kind.

Sizes come from the tensors' shapes; where a shape cannot tell (top-k, a state size), from the
config. Parameter totals split a component into what a catalog class computes and what it keeps
beside it (`bias_params`, `sink_params`, `other_params` ...), with the tensors of each extra by
name so mapping can give them their own entry. A component the catalog has no class for keeps the
sizes its gap proposes: `specs()` is its record as those specs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from ...enums import StrEnum

__all__ = [
    "AdapterAttrs",
    "AttentionAttrs",
    "AttentionVariant",
    "AttentionWindow",
    "Attrs",
    "ConvolutionAttrs",
    "EmbeddingAttrs",
    "HyperConnectionAttrs",
    "IndexerAttrs",
    "LatentAttentionAttrs",
    "LinearAttentionAttrs",
    "LinearAttrs",
    "MixerAttrs",
    "MixtureOfAttentionAttrs",
    "MlpAttrs",
    "MoEAttrs",
    "NoAttrs",
    "NormAttrs",
    "PatchEmbeddingAttrs",
    "PerLayerEmbeddingAttrs",
    "ProjectionBiases",
    "ProjectorAttrs",
    "RecurrenceAttrs",
    "ResidualScaleAttrs",
    "ShortConvolutionAttrs",
]

Shape = tuple[int, int]  # (out_features, in_features) of one linear


class AttentionVariant(StrEnum):
    """How an attention's heads share keys and values, as its projections' widths show."""

    MHA = "mha"
    GQA = "gqa"
    MQA = "mqa"
    GATED = "gated"  # the q projection also emits an output gate (Qwen3-Next)
    MLA = "mla"  # keys and values through a low-rank latent (DeepSeek)


class AttentionWindow(StrEnum):
    """Which keys a query attends: all of them, a sliding window, or its chunk."""

    FULL = "full"
    SLIDING = "sliding"
    CHUNKED = "chunked"


def _plain(value: Any) -> Any:
    """A field value as JSON holds it: tuples as lists, inside mappings too."""
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Attrs:
    """Base of the records; `specs()` is the record as a gap entry's specs."""

    def specs(self) -> dict[str, Any]:
        """The fields in order, tuples as lists (the specs of a component that is one gap)."""
        return {item.name: _plain(getattr(self, item.name)) for item in fields(self)}


@dataclass(frozen=True)
class NoAttrs(Attrs):
    """A component with nothing to read beyond its tensors (unknown, buffers, a gate scalar)."""


@dataclass(frozen=True)
class EmbeddingAttrs(Attrs):
    """A table of rows x width: token, position or type embeddings, learned tokens, an LM head."""

    vocab_size: int
    hidden_size: int
    tied: bool = False  # an LM head whose weight is the input embedding's table


@dataclass(frozen=True)
class NormAttrs(Attrs):
    """A norm over `hidden_size` values, with or without a bias."""

    hidden_size: int
    has_bias: bool


@dataclass(frozen=True)
class ProjectionBiases:
    """Which of an attention's projections carry a bias."""

    q: bool
    k: bool
    v: bool
    o: bool

    @property
    def all(self) -> bool:
        """Every projection has one."""
        return self.q and self.k and self.v and self.o

    @property
    def any(self) -> bool:
        """At least one projection has one."""
        return self.q or self.k or self.v or self.o

    def specs(self) -> dict[str, bool]:
        """`q_bias` ... `o_bias`, as an attention_bias gap states them."""
        return {"q_bias": self.q, "k_bias": self.k, "v_bias": self.v, "o_bias": self.o}


@dataclass(frozen=True)
class AttentionAttrs(Attrs):
    """Attention read from its projections (MHA, GQA, MQA, gated), self- or cross-attention.

    `weight_params` + `bias_params` are the q, k, v and o projections; the rest is split off:
    an output gate, per-head sink logits, q/k norms, differential-attention lambdas, relative
    position tables, and `other` tensors no rule names (each with its tensors' names).
    """

    variant: AttentionVariant
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    d_q: int  # num_heads x head_dim
    d_kv: int  # num_kv_heads x head_dim
    sliding_window: int | None  # the config's window on a sliding-attention layer, else None
    chunked: bool  # a chunked-attention layer (Llama 4)
    bias: ProjectionBiases
    weight_params: int
    bias_params: int
    gate_params: int
    gates: tuple[str, ...]
    sinks: tuple[str, ...]
    sink_params: int
    qk_norms: tuple[str, ...]
    qk_norm_params: int
    qk_norm_width: int
    other_params: int
    other_tensors: tuple[str, ...]
    differential: tuple[str, ...]
    differential_params: int
    relative: tuple[str, ...]
    relative_params: int
    v_head_dim: int | None = None  # value heads of their own width; None when head_dim
    gate_width: int | None = None  # a gate projection's width when it is not d_q

    @property
    def window(self) -> AttentionWindow:
        """Sliding when the layer has a window, chunked for chunked layers, else full."""
        if self.sliding_window is not None:
            return AttentionWindow.SLIDING
        return AttentionWindow.CHUNKED if self.chunked else AttentionWindow.FULL


@dataclass(frozen=True)
class LatentAttentionAttrs(Attrs):
    """Multi-head latent attention (MLA): low-rank q and kv, a RoPE part of each head apart.

    The fields are the sizes an MLA gap proposes, in its order; ranks and widths from the
    config, the ranks corrected by the latent norms' widths where the model has them.
    """

    hidden_size: int
    num_heads: int | None
    q_lora_rank: int | None
    kv_lora_rank: int | None
    qk_nope_head_dim: int | None
    qk_rope_head_dim: int | None
    v_head_dim: int | None
    # MLA layers attend every key and have no sink logits.
    variant: ClassVar[AttentionVariant] = AttentionVariant.MLA
    window: ClassVar[AttentionWindow] = AttentionWindow.FULL
    sliding_window: ClassVar[None] = None
    sink_params: ClassVar[int] = 0


@dataclass(frozen=True)
class MlpAttrs(Attrs):
    """A dense MLP from its projections: widths, gating, and what is not a projection weight."""

    hidden_size: int
    intermediate_size: int
    gated: bool
    num_projections: int  # 3 gated (gate, up, down), else 2
    weight_params: int
    bias_params: int
    other_params: int
    other_tensors: tuple[str, ...]
    activation_tensors: tuple[str, ...] = ()  # a learned activation's own parameters
    activation_params: int = 0


@dataclass(frozen=True)
class MoEAttrs(Attrs):
    """A mixture of experts: one expert's widths, the router, shared experts beside them."""

    hidden_size: int
    intermediate_size: int
    num_experts: int
    top_k: int | None  # from the config: shapes cannot tell it
    num_projections: int
    router_input_size: int  # the width the router reads (0 without a router weight)
    expert_params: int
    expert_bias_params: int
    router_params: int
    router_bias_params: int
    router_extra_params: int
    router_extra_tensors: tuple[str, ...]
    shared: MlpAttrs | None  # shared experts, read as one dense MLP
    shared_params: int
    shared_gate_params: int
    other_params: int
    other_tensors: tuple[str, ...]


@dataclass(frozen=True)
class MixerAttrs(Attrs):
    """A Mamba mixer or a gated delta-net: sizes from its projections and convolution, the state
    size from the config. None where the module has no such tensor."""

    state_size: int | None = None
    conv_kernel: int | None = None
    hidden_size: int | None = None
    in_proj_out: int | None = None
    conv_channels: int | None = None
    time_step_rank: int | None = None
    intermediate_size: int | None = None


@dataclass(frozen=True)
class LinearAttentionAttrs(Attrs):
    """Attention in a layer the config declares linear (KDA, lightning attention ...)."""

    hidden_size: int
    num_heads: int | None
    head_dim: int | None
    conv_kernel: int
    delta_rule: bool
    decay_gate: bool
    output_gate: bool


@dataclass(frozen=True)
class MixtureOfAttentionAttrs(Attrs):
    """Attention whose q and o projections are routed experts (JetMoE)."""

    hidden_size: int
    num_experts: int
    top_k: int | None
    expert_matrices: tuple[Shape, ...]
    kv_width: int
    num_kv_heads: int | None
    head_dim: int | None
    router_params: int


@dataclass(frozen=True)
class IndexerAttrs(Attrs):
    """A sparse-attention indexer (DeepSeek-V3.2's DSA): heads and top-k from the config, its
    linears by their path below the indexer."""

    num_heads: int | None
    head_dim: int | None
    top_k: int | None
    linear_shapes: tuple[tuple[str, Shape], ...]

    def specs(self) -> dict[str, Any]:
        """The fields, with the linears as {path: [out, in]}."""
        return {
            **super().specs(),
            "linear_shapes": {path: list(shape) for path, shape in self.linear_shapes},
        }


@dataclass(frozen=True)
class AdapterAttrs(Attrs):
    """A bottleneck adapter or LoRA pair added to a projection."""

    linear_shapes: tuple[Shape, ...]
    has_bias: bool


@dataclass(frozen=True)
class ProjectorAttrs(Attrs):
    """One or more linears from one width to another: a projector, or a linear standing alone."""

    in_features: int
    out_features: int
    linear_shapes: tuple[Shape, ...]
    has_bias: bool


@dataclass(frozen=True)
class LinearAttrs(Attrs):
    """One linear outside the layers (an embedding projection, the head's transform)."""

    in_features: int
    out_features: int
    has_bias: bool


@dataclass(frozen=True)
class ConvolutionAttrs(Attrs):
    """A convolution in a layer."""

    out_channels: int
    in_channels_per_group: int
    kernel: tuple[int, ...]
    has_bias: bool


@dataclass(frozen=True)
class PatchEmbeddingAttrs(Attrs):
    """An image (or video) patch embedding: a convolution whose stride is its kernel."""

    hidden_size: int
    in_features: int
    kernel: tuple[int, ...]
    has_bias: bool


@dataclass(frozen=True)
class HyperConnectionAttrs(Attrs):
    """Hyper-connection mixers around a sublayer or before the head (DeepSeek-V4)."""

    hidden_size: int
    expansion_rate: int | None


@dataclass(frozen=True)
class PerLayerEmbeddingAttrs(Attrs):
    """Per-layer input embeddings and their projections (Gemma 3n / Gemma 4), config sizes."""

    hidden_size: int
    per_layer_size: int | None
    vocab_size: int | None
    num_layers: int | None


@dataclass(frozen=True)
class ShortConvolutionAttrs(Attrs):
    """A short causal convolution block (LFM2's conv layers)."""

    hidden_size: int
    in_proj_out: int
    conv_channels: int
    conv_kernel: int


@dataclass(frozen=True)
class RecurrenceAttrs(Attrs):
    """A linear recurrence block (an LRU, RG-LRU ...)."""

    hidden_size: int
    num_parameters: int


@dataclass(frozen=True)
class ResidualScaleAttrs(Attrs):
    """Learned scalars or vectors gating a branch before it joins the residual stream."""

    num_parameters: int
    tensors: int
