"""The default layer catalog: Mantile's layer interface written from its maths, binding, discovery.

Each class has Mantile's name and constructor (same parameter names, same required/optional split,
same defaults) and exact integer parameter counts. Beyond Mantile, constructors validate their
arguments and `instantiate` refuses spec keys a class does not take instead of dropping them.

Conventions shared by every class:

* Weights. `weight_bytes()` is the whole, unsharded layer: parameter_count x bytes per element of
  the layer dtype. `weight_bytes_per_package()` divides each sharded group evenly by its degree
  (biases go with their matrix) and counts replicated groups in full: attention, MLP and embedding
  shard everything by tensor_parallel; MoE replicates the router, shards routed experts by
  expert_parallel x tensor_parallel and shared experts by tensor_parallel; norms are replicated.
  Context, sequence and pipeline parallelism do not shard a layer's weights.
* FLOPs. Only matrix multiplications count, as `torch.utils.flop_counter.FlopCounterMode` counts
  them: a GEMM (M x K)(K x N) is 2·M·K·N. Elementwise work (norms, activations, softmax, router
  top-k, bias adds) and embedding lookups are 0.
  - prefill: B sequences of S new tokens, T = B·S. Each query attends S_kv keys: S_kv = S (or
    `context_len` when given, for a chunk after a cached prefix), capped at `sliding_window` W.
    Scores are the full square, as dense kernels and PyTorch count them: no causal halving.
  - decode: one new token per sequence (seq_len must be 1), T = B, and `context_len` (required by
    attention) is the number of keys that token attends, itself included; capped at the window.
  - window: the cap is the band a window-honouring kernel computes (Mantile's model), the one
    departure from FlopCounterMode. PyTorch's dense prefill (eager or SDPA) scores every key of
    the chunk, masked or not: S + min(P, W - 1) for S new tokens after P cached ones (the cache
    keeps W - 1). The two agree in decode (S = 1) and whenever S_kv <= W; harness.pipeline.flops
    checks exactly those: prefill at S = W, then one decode token at context W + 1.
  - attention: projections 2·T·H·(d_q + 2·d_kv) + 2·T·d_q·H, then QKᵀ and PV each
    2·B·q·S_kv·h·d_h with q new tokens per sequence; d_q = h·d_h, d_kv = h_kv·d_h (MHA: h_kv = h).
  - MLP: 2·T·p·H·I. MoE: router 2·T·H·E plus 2·T·(top_k + E_s)·p·H·I.
* KV cache. `kv_cache_bytes(B, L)` = 2·B·L_eff·h_kv·d_h·bytes per element for attention classes,
  L_eff = min(L, sliding_window); 0 for every other class. One dtype covers weights and cache.
* Mantile's method names. Every class also answers `compute_weight_memory()`,
  `compute_flops(batch_size, seq_len, phase)` and `compute_kv_cache(batch_size, seq_len)` with
  Mantile's meaning: integer bytes or FLOPs of one package (the whole layer divided over the
  packages its parallelism spreads it on; at parallelism 1 the whole layer), `phase` a `Phase`
  (or its value, or any enum whose value is "prefill"/"decode"), and in decode `seq_len` the tokens
  already cached: the new token attends those and itself. So a test written against these names
  runs unchanged against `backend.layers` of a Mantile checkout. `dtype` may be a string ('bf16')
  or an enum whose value is one (Mantile's `DataType`).

`LayerSet` is the target a config is generated for and checked against: the catalog, or the
classes read from a `--layers-dir`; `LayerSignature.bind` replays how Mantile's loader binds an
entry's specs to a constructor (unknown keys dropped, layer_idx injected, dtype and parallelism
passed by the loader itself).
"""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import ClassVar

from ..dtypes import bytes_per_element
from ..errors import CatalogError, HarnessError

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


class Phase(str, Enum):
    """Inference phase, as Mantile's `Phase`: prefill (the prompt) or decode (one new token)."""

    PREFILL = "prefill"
    DECODE = "decode"


PHASES: tuple[str, ...] = tuple(phase.value for phase in Phase)

TENSOR = "tensor_parallel"
CONTEXT = "context_parallel"
SEQUENCE = "sequence_parallel"
PIPELINE = "pipeline_parallel"
EXPERT = "expert_parallel"

# Constructor arguments that instantiate() supplies itself; they may not appear inside specs.
_RESERVED_SPEC_KEYS: tuple[str, ...] = ("dtype", "parallelism")
_METADATA_SPEC_KEYS: tuple[str, ...] = ("parameter_count",)
# Mantile's loader injects layer_idx=0 when specs omit it, so at the specs level it is optional.
_LAYER_IDX_DEFAULT = 0


def __dir__() -> list[str]:
    return list(__all__)


# --------------------------------------------------------------------------- argument checks


def _positive_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CatalogError(
            f"{owner}: {name}={value!r} is not a positive integer; "
            f"pass {name} as a whole number >= 1 (read it from the model config)"
        )
    return value


def _non_negative_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CatalogError(
            f"{owner}: {name}={value!r} is not a non-negative integer; pass a whole number >= 0"
        )
    return value


def _flag(owner: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise CatalogError(f"{owner}: {name}={value!r} is not a boolean; pass true or false")
    return value


def _enum_value(value: object) -> object:
    """An enum's value (Mantile's DataType.BF16 -> 'bf16', Phase.DECODE -> 'decode'), else value."""
    return value.value if isinstance(value, Enum) else value


def _dtype_name(owner: str, dtype: object) -> str:
    name = _enum_value(dtype)
    if not isinstance(name, str):
        raise CatalogError(f"{owner}: dtype={dtype!r} is not a string; pass a name such as 'bf16'")
    return name


def _element_size(owner: str, dtype: str) -> float:
    try:
        return bytes_per_element(dtype)
    except HarnessError as e:
        raise CatalogError(f"{owner}: dtype={dtype!r} is not known ({e})") from e


def _parallelism(
    owner: str, supported: frozenset[str], requested: Mapping[str, object] | None
) -> dict[str, int]:
    if requested is None:
        requested = {}
    if not isinstance(requested, Mapping):
        raise CatalogError(
            f"{owner}: parallelism={requested!r} is not a mapping; pass a dict such as "
            f"{{'tensor_parallel': 2}} or None"
        )
    accepted = ", ".join(sorted(supported)) or "none"
    unknown = sorted(str(key) for key in requested if key not in supported)
    if unknown:
        raise CatalogError(
            f"{owner}: parallelism key(s) {', '.join(map(repr, unknown))} not supported; "
            f"{owner} supports: {accepted}. Remove the key(s)"
        )
    degrees = {kind: 1 for kind in sorted(supported)}
    for kind, degree in requested.items():
        if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
            raise CatalogError(
                f"{owner}: parallelism {kind}={degree!r} is not a positive integer degree; "
                f"pass a whole number >= 1 (1 means no sharding)"
            )
        degrees[kind] = degree
    return degrees


def _require_divides(owner: str, kind: str, degree: int, sizes: Mapping[str, int]) -> None:
    """Raise unless `degree` divides every size in `sizes`, listing the degrees that would work."""
    bad = {name: size for name, size in sizes.items() if size % degree}
    if not bad:
        return
    common = math.gcd(*sizes.values())
    fits = ", ".join(str(d) for d in range(1, common + 1) if common % d == 0)
    what = " and ".join(f"{name}={size}" for name, size in sizes.items())
    broken = ", ".join(f"{name}={size}" for name, size in bad.items())
    raise CatalogError(
        f"{owner}: {kind}={degree} does not divide {broken}; "
        f"choose a {kind} degree that divides {what}: one of {fits}"
    )


def _phase_name(owner: str, phase: object) -> str:
    """'prefill' or 'decode' from a Phase, its value, or any enum with one of those values."""
    name = _enum_value(phase)
    if name not in PHASES:
        raise CatalogError(f"{owner}: phase={phase!r} is not one of {', '.join(PHASES)}")
    return str(name)


# --------------------------------------------------------------------------- layers


class Layer(ABC):
    """Abstract base of every catalog layer: index, dtype, parallelism and the cost interface."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset()
    # The parallelism kinds whose degrees multiply into the packages one instance runs on.
    PACKAGE_PARALLELISM: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, layer_idx: int, dtype: str, parallelism: Mapping[str, int] | None = None
    ) -> None:
        owner = type(self).__name__
        self.layer_idx: int = _non_negative_int(owner, "layer_idx", layer_idx)
        self.dtype: str = _dtype_name(owner, dtype)
        self.bytes_per_element: float = _element_size(owner, self.dtype)
        self.parallelism: dict[str, int] = _parallelism(
            owner, self.SUPPORTED_PARALLELISM, parallelism
        )

    def degree(self, kind: str) -> int:
        """Return the degree of one parallelism kind (1 when the class does not support it)."""
        return self.parallelism.get(kind, 1)

    def specs(self) -> dict[str, object]:
        """Return the spec keys this layer was built from, as `instantiate` would accept them."""
        required, optional = spec_parameters(type(self))
        return {name: getattr(self, name) for name in (*required, *optional)}

    @abstractmethod
    def parameter_count(self) -> int:
        """Return the exact number of parameters of the whole (unsharded) layer."""

    @abstractmethod
    def flops(
        self,
        batch_size: int,
        seq_len: int,
        *,
        phase: Phase | str = Phase.PREFILL,
        context_len: int | None = None,
    ) -> int:
        """Return the matmul FLOPs of one forward pass (see the module docstring for the rules)."""

    def weight_bytes(self) -> float:
        """Return parameter_count x bytes per element: the whole layer, unsharded."""
        return self.parameter_count() * self.bytes_per_element

    def weight_bytes_per_package(self) -> float:
        """Return the weight bytes one package holds under this layer's parallelism."""
        return self._parameters_per_package() * self.bytes_per_element

    def kv_cache_bytes(self, batch_size: int, context_len: int) -> float:
        """Return the KV-cache bytes of B sequences of `context_len` tokens (0 if no attention)."""
        owner = f"{type(self).__name__}.kv_cache_bytes"
        _positive_int(owner, "batch_size", batch_size)
        _positive_int(owner, "context_len", context_len)
        return 0.0

    def _parameters_per_package(self) -> float:
        # Replicated unless a subclass shards.
        return float(self.parameter_count())

    def num_packages(self) -> int:
        """Packages one instance runs on: the product of its sharding parallelism degrees."""
        return math.prod(self.degree(kind) for kind in self.PACKAGE_PARALLELISM)

    # Mantile's method names (see the module docstring): per package, integers.

    def compute_weight_memory(self) -> int:
        """Weight bytes one package holds (Mantile's name for `weight_bytes_per_package`)."""
        return int(self.weight_bytes_per_package())

    def compute_flops(self, batch_size: int, seq_len: int, phase: Phase | str) -> int:
        """FLOPs of one package; in decode `seq_len` is the tokens already cached."""
        name = _phase_name(f"{type(self).__name__}.compute_flops", phase)
        if name == Phase.DECODE.value:
            _positive_int(f"{type(self).__name__}.compute_flops", "seq_len", seq_len)
            total = self.flops(batch_size, 1, phase=Phase.DECODE, context_len=seq_len + 1)
        else:
            total = self.flops(batch_size, seq_len, phase=Phase.PREFILL)
        return total // self.num_packages()

    def compute_kv_cache(self, batch_size: int, seq_len: int) -> int:
        """KV-cache bytes one package holds for B sequences of `seq_len` cached tokens."""
        return int(self.kv_cache_bytes(batch_size, seq_len) / self.num_packages())

    def _step(
        self, batch_size: int, seq_len: int, phase: Phase | str, context_len: int | None
    ) -> tuple[int, int, int | None]:
        """Check a flops() call; return (sequences, new tokens per sequence, keys per query)."""
        owner = f"{type(self).__name__}.flops"
        phase = _phase_name(owner, phase)
        _positive_int(owner, "batch_size", batch_size)
        _positive_int(owner, "seq_len", seq_len)
        if context_len is not None:
            _positive_int(owner, "context_len", context_len)
        if phase == "prefill":
            if context_len is not None and context_len < seq_len:
                raise CatalogError(
                    f"{owner}: prefill context_len={context_len} is shorter than "
                    f"seq_len={seq_len}; context_len counts the cached prefix plus the new "
                    f"tokens, so pass context_len >= seq_len or leave it None"
                )
            return batch_size, seq_len, seq_len if context_len is None else context_len
        if seq_len != 1:  # decode
            raise CatalogError(
                f"{owner}: phase='decode' computes one new token per sequence, so seq_len "
                f"must be 1 (got {seq_len}); pass the tokens already attended as context_len"
            )
        return batch_size, 1, context_len

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.specs().items())
        return (
            f"{type(self).__name__}({args}, dtype={self.dtype!r}, parallelism={self.parallelism})"
        )


class _AttentionBase(Layer):
    """Shared maths of the three attention classes: projections, scores and KV cache."""

    def _init_attention(
        self,
        *,
        hidden_size: int,
        heads: tuple[str, int],
        kv_heads: tuple[str, int] | None,
        head_dim: int,
        sliding_window: int | None = None,
    ) -> None:
        owner = type(self).__name__
        self.hidden_size: int = _positive_int(owner, "hidden_size", hidden_size)
        self._heads: int = _positive_int(owner, heads[0], heads[1])
        self._kv_heads: int = (
            self._heads if kv_heads is None else _positive_int(owner, kv_heads[0], kv_heads[1])
        )
        self.head_dim: int = _positive_int(owner, "head_dim", head_dim)
        if sliding_window is not None:
            _positive_int(owner, "sliding_window", sliding_window)
        self.sliding_window: int | None = sliding_window
        sizes = {heads[0]: self._heads}
        if kv_heads is not None:
            sizes[kv_heads[0]] = self._kv_heads
        _require_divides(owner, TENSOR, self.degree(TENSOR), sizes)

    @property
    def q_width(self) -> int:
        """d_q = h·d_h, the width of Q and of O's input."""
        return self._heads * self.head_dim

    @property
    def kv_width(self) -> int:
        """d_kv = h_kv·d_h, the width of K and of V."""
        return self._kv_heads * self.head_dim

    def _keys(self, context: int) -> int:
        if self.sliding_window is None:
            return context
        return min(context, self.sliding_window)

    def flops(
        self,
        batch_size: int,
        seq_len: int,
        *,
        phase: Phase | str = Phase.PREFILL,
        context_len: int | None = None,
    ) -> int:
        """Projections 2·T·H·(d_q + 2·d_kv) + 2·T·d_q·H, plus QKᵀ and PV 2·B·q·S_kv·h·d_h each."""
        batch, new, context = self._step(batch_size, seq_len, phase, context_len)
        if context is None:
            raise CatalogError(
                f"{type(self).__name__}.flops: phase='decode' needs context_len, the number of "
                f"tokens the new token attends (KV cache length, itself included); pass "
                f"context_len=..."
            )
        tokens = batch * new
        hidden, d_q, d_kv = self.hidden_size, self.q_width, self.kv_width
        projections = 2 * tokens * hidden * (d_q + 2 * d_kv) + 2 * tokens * d_q * hidden
        scores = 2 * (2 * batch * new * self._keys(context) * self._heads * self.head_dim)
        return projections + scores

    def kv_cache_bytes(self, batch_size: int, context_len: int) -> float:
        """2·B·L_eff·h_kv·d_h·bytes per element, L_eff = min(L, sliding_window)."""
        super().kv_cache_bytes(batch_size, context_len)
        elements = 2 * batch_size * self._keys(context_len) * self.kv_width
        return elements * self.bytes_per_element

    def _parameters_per_package(self) -> float:
        return self.parameter_count() / self.degree(TENSOR)


class AttentionLayer(_AttentionBase):
    """Multi-head attention with four H x H projections and no biases (assumes h·d_h = H)."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset({TENSOR})
    PACKAGE_PARALLELISM: ClassVar[tuple[str, ...]] = (TENSOR,)

    def __init__(
        self,
        layer_idx: int,
        hidden_size: int,
        num_heads: int,
        head_dim: int,
        dtype: str,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(layer_idx, dtype, parallelism)
        self._init_attention(
            hidden_size=hidden_size,
            heads=("num_heads", num_heads),
            kv_heads=None,
            head_dim=head_dim,
        )
        self.num_heads: int = num_heads

    def parameter_count(self) -> int:
        """4·H²: head_dim does not enter, as in Mantile."""
        return 4 * self.hidden_size**2


class GroupedQueryAttentionLayer(_AttentionBase):
    """Grouped-query attention: Q of width h·d_h, K and V of width h_kv·d_h, O fixed at H x H."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset({TENSOR, CONTEXT})
    PACKAGE_PARALLELISM: ClassVar[tuple[str, ...]] = (TENSOR, CONTEXT)

    def __init__(
        self,
        layer_idx: int,
        hidden_size: int,
        num_heads: int,
        num_kv_heads: int,
        head_dim: int,
        dtype: str,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(layer_idx, dtype, parallelism)
        self._init_attention(
            hidden_size=hidden_size,
            heads=("num_heads", num_heads),
            kv_heads=("num_kv_heads", num_kv_heads),
            head_dim=head_dim,
        )
        self.num_heads: int = num_heads
        self.num_kv_heads: int = num_kv_heads

    def parameter_count(self) -> int:
        """H·d_q + 2·H·d_kv + H²: Mantile's O is H x H even when d_q differs from H."""
        hidden = self.hidden_size
        return hidden * self.q_width + 2 * hidden * self.kv_width + hidden * hidden


class SlidingWindowAttentionLayer(_AttentionBase):
    """Attention over the last `sliding_window` keys (None: all), optional biases on Q, K, V, O."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset({TENSOR, CONTEXT})
    PACKAGE_PARALLELISM: ClassVar[tuple[str, ...]] = (TENSOR, CONTEXT)

    def __init__(
        self,
        layer_idx: int,
        hidden_size: int,
        num_query_heads: int,
        num_kv_heads: int,
        head_dim: int,
        dtype: str,
        sliding_window: int | None = None,
        num_sinks: int = 0,
        has_bias: bool = False,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(layer_idx, dtype, parallelism)
        owner = type(self).__name__
        self._init_attention(
            hidden_size=hidden_size,
            heads=("num_query_heads", num_query_heads),
            kv_heads=("num_kv_heads", num_kv_heads),
            head_dim=head_dim,
            sliding_window=sliding_window,
        )
        self.num_query_heads: int = num_query_heads
        self.num_kv_heads: int = num_kv_heads
        # Kept for the contract only: no formula here uses it (gpt-oss sinks are h learned logits).
        self.num_sinks: int = _non_negative_int(owner, "num_sinks", num_sinks)
        self.has_bias: bool = _flag(owner, "has_bias", has_bias)

    def parameter_count(self) -> int:
        """2·H·d_q + 2·H·d_kv, plus d_q + 2·d_kv + H with biases."""
        hidden, d_q, d_kv = self.hidden_size, self.q_width, self.kv_width
        weights = 2 * hidden * d_q + 2 * hidden * d_kv
        return weights + (d_q + 2 * d_kv + hidden if self.has_bias else 0)


class MLPLayer(Layer):
    """Feed-forward block of p bias-free H x I projections (p=2 plain, p=3 gated)."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset({TENSOR, PIPELINE, SEQUENCE})
    PACKAGE_PARALLELISM: ClassVar[tuple[str, ...]] = (TENSOR,)

    def __init__(
        self,
        layer_idx: int,
        hidden_size: int,
        intermediate_size: int,
        dtype: str,
        num_projections: int = 2,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(layer_idx, dtype, parallelism)
        owner = type(self).__name__
        self.hidden_size: int = _positive_int(owner, "hidden_size", hidden_size)
        self.intermediate_size: int = _positive_int(owner, "intermediate_size", intermediate_size)
        if num_projections not in (2, 3) or isinstance(num_projections, bool):
            raise CatalogError(
                f"{owner}: num_projections={num_projections!r} is not 2 or 3; "
                f"pass 2 for up/down or 3 for gate/up/down"
            )
        self.num_projections: int = num_projections

    def parameter_count(self) -> int:
        """p·H·I."""
        return self.num_projections * self.hidden_size * self.intermediate_size

    def flops(
        self,
        batch_size: int,
        seq_len: int,
        *,
        phase: Phase | str = Phase.PREFILL,
        context_len: int | None = None,
    ) -> int:
        """2·T·p·H·I."""
        batch, new, _ = self._step(batch_size, seq_len, phase, context_len)
        return 2 * batch * new * self.parameter_count()

    def _parameters_per_package(self) -> float:
        return self.parameter_count() / self.degree(TENSOR)


class GatedMLPLayer(MLPLayer):
    """Gated feed-forward block (gate, up, down): an MLPLayer with three projections."""

    def __init__(
        self,
        layer_idx: int,
        hidden_size: int,
        intermediate_size: int,
        dtype: str,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(
            layer_idx,
            hidden_size,
            intermediate_size,
            dtype,
            num_projections=3,
            parallelism=parallelism,
        )


class MoELayer(Layer):
    """Mixture of experts: a linear router over E experts; top_k routed + E_s shared per token."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset({EXPERT, TENSOR, CONTEXT})
    PACKAGE_PARALLELISM: ClassVar[tuple[str, ...]] = (EXPERT, TENSOR, CONTEXT)

    def __init__(
        self,
        layer_idx: int,
        hidden_size: int,
        intermediate_size: int,
        num_experts: int,
        top_k: int,
        dtype: str,
        num_shared_experts: int = 0,
        num_projections: int = 2,
        has_bias: bool = False,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(layer_idx, dtype, parallelism)
        owner = type(self).__name__
        self.hidden_size: int = _positive_int(owner, "hidden_size", hidden_size)
        self.intermediate_size: int = _positive_int(owner, "intermediate_size", intermediate_size)
        self.num_experts: int = _positive_int(owner, "num_experts", num_experts)
        self.top_k: int = _positive_int(owner, "top_k", top_k)
        if top_k > num_experts:
            raise CatalogError(
                f"{owner}: top_k={top_k} exceeds num_experts={num_experts}; "
                f"pass 1 <= top_k <= num_experts"
            )
        self.num_shared_experts: int = _non_negative_int(
            owner, "num_shared_experts", num_shared_experts
        )
        if num_projections not in (2, 3) or isinstance(num_projections, bool):
            raise CatalogError(
                f"{owner}: num_projections={num_projections!r} is not 2 or 3; "
                f"pass 2 for up/down experts or 3 for gate/up/down experts"
            )
        self.num_projections: int = num_projections
        self.has_bias: bool = _flag(owner, "has_bias", has_bias)
        _require_divides(owner, EXPERT, self.degree(EXPERT), {"num_experts": num_experts})
        _require_divides(
            owner, TENSOR, self.degree(TENSOR), {"intermediate_size": intermediate_size}
        )

    def router_parameters(self) -> int:
        """H·E, plus E with biases."""
        experts = self.num_experts
        return self.hidden_size * experts + (experts if self.has_bias else 0)

    def expert_parameters(self) -> int:
        """p·H·I per expert, plus I + H (p=2) or 2·I + H (p=3) with biases."""
        hidden, inter, p = self.hidden_size, self.intermediate_size, self.num_projections
        bias = (p - 1) * inter + hidden if self.has_bias else 0
        return p * hidden * inter + bias

    def parameter_count(self) -> int:
        """Router plus (E + E_s) experts of the same size."""
        experts = self.num_experts + self.num_shared_experts
        return self.router_parameters() + experts * self.expert_parameters()

    def flops(
        self,
        batch_size: int,
        seq_len: int,
        *,
        phase: Phase | str = Phase.PREFILL,
        context_len: int | None = None,
    ) -> int:
        """Router 2·T·H·E plus 2·T·(top_k + E_s)·p·H·I; routing itself and biases are free."""
        batch, new, _ = self._step(batch_size, seq_len, phase, context_len)
        tokens = batch * new
        hidden, inter, p = self.hidden_size, self.intermediate_size, self.num_projections
        router = 2 * tokens * hidden * self.num_experts
        active = self.top_k + self.num_shared_experts
        return router + 2 * tokens * active * p * hidden * inter

    def _parameters_per_package(self) -> float:
        tensor, expert = self.degree(TENSOR), self.degree(EXPERT)
        routed = self.num_experts * self.expert_parameters() / (expert * tensor)
        shared = self.num_shared_experts * self.expert_parameters() / tensor
        return self.router_parameters() + routed + shared


class _NoMatmulLayer(Layer):
    """A layer without matrix multiplications: 0 FLOPs (norms are elementwise, lookups gathers)."""

    def flops(
        self,
        batch_size: int,
        seq_len: int,
        *,
        phase: Phase | str = Phase.PREFILL,
        context_len: int | None = None,
    ) -> int:
        """0 after checking the arguments: only matmuls count (see the module docstring)."""
        self._step(batch_size, seq_len, phase, context_len)
        return 0


class NormLayer(_NoMatmulLayer):
    """RMSNorm (scale of H) or, with has_bias, LayerNorm (scale and bias, 2H); always replicated."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset({TENSOR, PIPELINE, EXPERT})

    def __init__(
        self,
        layer_idx: int,
        hidden_size: int,
        dtype: str,
        has_bias: bool = False,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(layer_idx, dtype, parallelism)
        owner = type(self).__name__
        self.hidden_size: int = _positive_int(owner, "hidden_size", hidden_size)
        self.has_bias: bool = _flag(owner, "has_bias", has_bias)

    def parameter_count(self) -> int:
        """H, or 2·H with a bias."""
        return self.hidden_size * (2 if self.has_bias else 1)


class EmbeddingLayer(_NoMatmulLayer):
    """Input token embedding table V x H (no LM head); its layer_idx is always -1."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset({TENSOR, PIPELINE})
    PACKAGE_PARALLELISM: ClassVar[tuple[str, ...]] = (TENSOR,)

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        dtype: str,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(0, dtype, parallelism)
        # The embedding sits before every decoder layer; Mantile marks that with index -1.
        self.layer_idx = -1
        owner = type(self).__name__
        self.vocab_size: int = _positive_int(owner, "vocab_size", vocab_size)
        self.hidden_size: int = _positive_int(owner, "hidden_size", hidden_size)

    def parameter_count(self) -> int:
        """V·H."""
        return self.vocab_size * self.hidden_size

    def _parameters_per_package(self) -> float:
        return self.parameter_count() / self.degree(TENSOR)


CATALOG: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        EmbeddingLayer,
        AttentionLayer,
        GroupedQueryAttentionLayer,
        SlidingWindowAttentionLayer,
        MLPLayer,
        GatedMLPLayer,
        MoELayer,
        NormLayer,
    )
}


# --------------------------------------------------------------------------- binding specs


def _spec_view(
    required: tuple[str, ...], optional: Mapping[str, object]
) -> tuple[tuple[str, ...], dict[str, object]]:
    """Turn constructor parameters into spec keys: no dtype/parallelism, layer_idx optional."""
    spec_required = tuple(
        name for name in required if name not in _RESERVED_SPEC_KEYS and name != "layer_idx"
    )
    spec_optional: dict[str, object] = {}
    if "layer_idx" in required:
        spec_optional["layer_idx"] = _LAYER_IDX_DEFAULT
    for name, default in optional.items():
        if name not in _RESERVED_SPEC_KEYS:
            spec_optional[name] = default
    return spec_required, spec_optional


def _signature_parameters(cls: type) -> tuple[tuple[str, ...], dict[str, object]]:
    required: list[str] = []
    optional: dict[str, object] = {}
    for param in inspect.signature(cls).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is param.empty:
            required.append(param.name)
        else:
            optional[param.name] = param.default
    return tuple(required), optional


def spec_parameters(cls: type) -> tuple[tuple[str, ...], dict[str, object]]:
    """Return a class's required spec keys and its optional ones with their defaults."""
    return _spec_view(*_signature_parameters(cls))


@functools.cache
def _spec_parameters_once(cls: type) -> tuple[tuple[str, ...], dict[str, object]]:
    """spec_parameters per class, computed once: instantiate runs thousands of times a build."""
    return spec_parameters(cls)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def instantiate(
    class_name: str,
    specs: Mapping[str, object],
    *,
    dtype: str = "bf16",
    parallelism: Mapping[str, int] | None = None,
    catalog: Mapping[str, type[Layer]] | None = None,
) -> Layer:
    """Build `class_name` from a config entry's specs, refusing keys its constructor lacks."""
    classes = CATALOG if catalog is None else catalog
    cls = classes.get(class_name)
    if cls is None:
        known = sorted(classes)
        raise CatalogError(
            f"unknown layer class {class_name!r}{_suggest(str(class_name), known)}; "
            f"the catalog has: {', '.join(known)}. Use one of them, or move the entry to "
            f"unsupported_layer_types with a gap report"
        )
    if not isinstance(specs, Mapping):
        raise CatalogError(
            f"{class_name}: specs must be a mapping of spec key to value, got "
            f"{type(specs).__name__}; pass a dict"
        )
    reserved = [key for key in _RESERVED_SPEC_KEYS if key in specs]
    if reserved:
        raise CatalogError(
            f"{class_name}: spec key(s) {', '.join(map(repr, reserved))} are not allowed inside "
            f"specs (Mantile passes them separately and would fail with a duplicate keyword); "
            f"remove them from specs and pass dtype=/parallelism= to instantiate instead"
        )
    required, optional = _spec_parameters_once(cls)
    accepted = [*required, *optional]
    given = {key: value for key, value in specs.items() if key not in _METADATA_SPEC_KEYS}
    unexpected = [key for key in given if key not in accepted]
    missing = [key for key in required if key not in given]
    if unexpected or missing:
        problems = []
        if unexpected:
            unused = [key for key in accepted if key not in given]
            named = ", ".join(f"{key!r}{_suggest(str(key), unused)}" for key in unexpected)
            problems.append(
                f"unexpected spec key(s) {named}, which Mantile's loader would silently drop"
            )
        if missing:
            problems.append(f"missing required spec key(s) {', '.join(map(repr, missing))}")
        raise CatalogError(
            f"{class_name}: {'; '.join(problems)}. Accepted keys: required "
            f"{', '.join(required) or 'none'}; optional {', '.join(optional) or 'none'}. "
            f"Fix the specs, or if the class cannot represent the component, move the entry to "
            f"unsupported_layer_types with a gap report"
        )
    if "layer_idx" in optional and "layer_idx" not in given:
        given["layer_idx"] = optional["layer_idx"]
    return cls(**given, dtype=dtype, parallelism=parallelism)


# --------------------------------------------------------------------------- static discovery


@dataclass(frozen=True)
class LayerClassInfo:
    """A layer class as read from source, never run: docstring, constructor, parallelism."""

    name: str
    docstring: str
    module: str
    path: str
    line: int
    bases: tuple[str, ...]
    required: tuple[str, ...]
    # Defaults are literals where ast.literal_eval can read them, else their source text.
    optional: dict[str, object] = field(hash=False)
    # None: declared in a form static reading cannot evaluate.
    supported_parallelism: frozenset[str] | None
    abstract: bool

    @property
    def spec_required(self) -> tuple[str, ...]:
        """Required keys of a config entry's specs (no dtype, parallelism or layer_idx)."""
        return _spec_view(self.required, self.optional)[0]

    @property
    def spec_optional(self) -> dict[str, object]:
        """Optional spec keys with defaults (layer_idx 0, as Mantile's loader injects)."""
        return _spec_view(self.required, self.optional)[1]

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict: lists for tuples and sets, parallelism sorted."""
        return {
            "name": self.name,
            "docstring": self.docstring,
            "module": self.module,
            "path": self.path,
            "line": self.line,
            "bases": list(self.bases),
            "required": list(self.required),
            "optional": dict(self.optional),
            "supported_parallelism": (
                None if self.supported_parallelism is None else sorted(self.supported_parallelism)
            ),
            "abstract": self.abstract,
        }


@dataclass(frozen=True)
class _ClassSource:
    node: ast.ClassDef
    module: str
    path: Path
    constants: Mapping[str, ast.expr]


class _Undeclared:
    """Marker: a class body that says nothing about SUPPORTED_PARALLELISM (look at its bases)."""


_UNSET = _Undeclared()
_SET_BUILDERS = ("frozenset", "set", "tuple", "list")
_ABSTRACT_BASES = ("ABC", "ABCMeta")


_MAX_SOURCE_BYTES = 16 * 2**20  # a layer module is a few KB of Python


def _parse(path: Path) -> ast.Module:
    from ..files import NotARegularFileError, read_regular_file

    skip = f"move it out of {path.parent} (files starting with '_' are skipped)"
    try:
        source = read_regular_file(path, _MAX_SOURCE_BYTES)
    except NotARegularFileError as e:
        raise CatalogError(f"cannot scan layer file {path}: it {e.strerror}; {skip}") from None
    except OSError as e:
        raise CatalogError(
            f"cannot scan layer file {path}: {e.strerror or type(e).__name__}; {skip}"
        ) from None
    if len(source) > _MAX_SOURCE_BYTES:
        raise CatalogError(f"cannot scan layer file {path}: it is larger than 16 MiB; {skip}")
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as e:
        raise CatalogError(
            f"cannot scan layer file {path}: syntax error at line {e.lineno}: {e.msg}. "
            f"Fix the file, or {skip}"
        ) from None
    except (MemoryError, RecursionError):
        raise CatalogError(
            f"cannot scan layer file {path}: it nests too deeply for Python's parser; {skip}"
        ) from None
    except ValueError as e:
        raise CatalogError(f"cannot scan layer file {path}: {e}. Fix or remove the file") from None


def _name_of(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript):
        return _name_of(expr.value)
    return None


def _string_element(expr: ast.expr, constants: Mapping[str, ast.expr]) -> str:
    """A string literal, or a module constant bound to one; anything else as its source text."""
    if isinstance(expr, ast.Name) and expr.id in constants:
        expr = constants[expr.id]
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return ast.unparse(expr)


def _string_set(
    expr: ast.expr | None, constants: Mapping[str, ast.expr], depth: int = 0
) -> frozenset[str] | None:
    """Read a set/frozenset/list/tuple literal of parallelism names; None when not a literal."""
    if expr is None or depth > 8:
        return None
    if isinstance(expr, (ast.Set, ast.List, ast.Tuple)):
        return frozenset(_string_element(elt, constants) for elt in expr.elts)
    if isinstance(expr, ast.Call) and _name_of(expr.func) in _SET_BUILDERS and not expr.keywords:
        if not expr.args:
            return frozenset()
        if len(expr.args) == 1:
            return _string_set(expr.args[0], constants, depth + 1)
        return None
    if isinstance(expr, ast.Name) and expr.id in constants:
        return _string_set(constants[expr.id], constants, depth + 1)
    return None


def _declared_parallelism(source: _ClassSource) -> frozenset[str] | _Undeclared | None:
    """Return the class's own SUPPORTED_PARALLELISM (frozenset or None), or _UNSET if none."""
    for stmt in source.node.body:
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "SUPPORTED_PARALLELISM" for t in targets):
            return _string_set(stmt.value, source.constants)
    for stmt in source.node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            stmt.name == "get_supported_parallelism"
        ):
            for inner in ast.walk(stmt):
                if isinstance(inner, ast.Return):
                    found = _string_set(inner.value, source.constants)
                    if found is not None:
                        return found
    return _UNSET


def _own_init(node: ast.ClassDef) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == "__init__":
            return stmt
    return None


def _default(expr: ast.expr) -> object:
    try:
        return ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ast.unparse(expr)


def _init_parameters(
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
) -> tuple[tuple[str, ...], dict[str, object]]:
    args = fn.args
    positional = [*args.posonlyargs, *args.args][1:]  # drop self
    first_default = len(positional) - len(args.defaults)
    required: list[str] = []
    optional: dict[str, object] = {}
    for index, arg in enumerate(positional):
        if index >= first_default:
            optional[arg.arg] = _default(args.defaults[index - first_default])
        else:
            required.append(arg.arg)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is None:
            required.append(arg.arg)
        else:
            optional[arg.arg] = _default(default)
    return tuple(required), optional


def _is_abstract_method(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return any(_name_of(d) == "abstractmethod" for d in stmt.decorator_list)


class _Scan:
    """Classes of a set of parsed files, with name lookup for resolving bases."""

    def __init__(self, sources: list[_ClassSource]) -> None:
        self.sources = sources
        self.by_name: dict[str, list[_ClassSource]] = {}
        for source in sources:
            self.by_name.setdefault(source.node.name, []).append(source)

    def base(self, name: str, near: _ClassSource) -> _ClassSource | None:
        candidates = self.by_name.get(name, [])
        same_file = [c for c in candidates if c.path == near.path]
        return (same_file or candidates or [None])[0]

    def lineage(self, source: _ClassSource) -> Iterator[_ClassSource]:
        """Yield the class, then its scanned bases depth-first, left to right, each once."""
        seen: set[int] = set()
        stack = [source]
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            yield current
            bases = [self.base(n, current) for n in map(_name_of, current.node.bases) if n]
            stack.extend(reversed([b for b in bases if b is not None]))

    def describe(self, source: _ClassSource) -> LayerClassInfo:
        chain = list(self.lineage(source))
        required: tuple[str, ...] = ()
        optional: dict[str, object] = {}
        for ancestor in chain:
            init = _own_init(ancestor.node)
            if init is not None:
                required, optional = _init_parameters(init)
                break
        parallelism: frozenset[str] | _Undeclared | None = _UNSET
        for ancestor in chain:
            parallelism = _declared_parallelism(ancestor)
            if not isinstance(parallelism, _Undeclared):
                break
        return LayerClassInfo(
            name=source.node.name,
            docstring=(ast.get_docstring(source.node) or "").strip().split("\n")[0].strip(),
            module=source.module,
            path=str(source.path),
            line=source.node.lineno,
            bases=tuple(n for n in map(_name_of, source.node.bases) if n),
            required=required,
            optional=optional,
            supported_parallelism=(
                frozenset() if isinstance(parallelism, _Undeclared) else parallelism
            ),
            abstract=self._abstract(chain),
        )

    @staticmethod
    def _abstract(chain: list[_ClassSource]) -> bool:
        own = chain[0].node
        if any(_name_of(base) in _ABSTRACT_BASES for base in own.bases) or any(
            kw.arg == "metaclass" and _name_of(kw.value) in _ABSTRACT_BASES for kw in own.keywords
        ):
            return True
        pending: set[str] = set()
        for ancestor in reversed(chain):  # farthest base first, so overrides win
            for stmt in ancestor.node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if _is_abstract_method(stmt):
                        pending.add(stmt.name)
                    else:
                        pending.discard(stmt.name)
        return bool(pending)


def _module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    constants: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                constants[target.id] = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and stmt.value is not None
            and isinstance(stmt.target, ast.Name)
        ):
            constants[stmt.target.id] = stmt.value
    return constants


def _imported_names(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """Names a module imports from another: local name -> (module's last part, its name there)."""
    imported: dict[str, tuple[str, str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module:
            source = stmt.module.rpartition(".")[2]
            for alias in stmt.names:
                imported[alias.asname or alias.name] = (source, alias.name)
    return imported


def _scan_files(paths: list[Path]) -> dict[str, LayerClassInfo]:
    trees = {path: _parse(path) for path in paths}
    own = {path.stem: _module_constants(tree) for path, tree in trees.items()}
    sources: list[_ClassSource] = []
    for path, tree in trees.items():
        # A constant imported from another scanned file (`from .base import TENSOR`) reads as
        # that file's value; the file's own assignments win.
        constants = {
            name: own[source][original]
            for name, (source, original) in _imported_names(tree).items()
            if original in own.get(source, {})
        }
        constants.update(own[path.stem])
        sources.extend(
            _ClassSource(node=node, module=path.stem, path=path, constants=constants)
            for node in tree.body
            if isinstance(node, ast.ClassDef)
        )
    scan = _Scan(sources)
    found: dict[str, LayerClassInfo] = {}
    for source in sources:
        if not source.node.name.endswith("Layer"):
            continue
        info = scan.describe(source)
        if info.name in found:
            raise CatalogError(
                f"layer class {info.name!r} is defined twice: {found[info.name].path} line "
                f"{found[info.name].line} and {info.path} line {info.line}; rename or remove one"
            )
        found[info.name] = info
    return found


def get_supported_layers(layers_dir: str | Path | None = None) -> dict[str, LayerClassInfo]:
    """Describe every *Layer class in a folder of Python files by reading (never importing) them."""
    if layers_dir is None:
        return _scan_files([Path(__file__).resolve()])
    folder = Path(layers_dir)
    if not folder.is_dir():
        raise CatalogError(
            f"layers directory {str(folder)!r} does not exist or is not a folder; pass the folder "
            f"holding the layer modules (e.g. a Mantile checkout's backend/layers)"
        )
    paths = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    return _scan_files(paths)


# --------------------------------------------------------------------------- target layer sets


@dataclass(frozen=True)
class Binding:
    """A config entry's specs bound to a constructor the way Mantile's loader binds them."""

    kwargs: dict[str, object]  # what the loader passes besides dtype= and parallelism=
    dropped: tuple[str, ...]  # spec keys the constructor lacks: dropped silently
    missing: tuple[str, ...]  # required parameters no spec gives: the call fails (TypeError)
    reserved: tuple[str, ...]  # dtype/parallelism inside specs: given twice (TypeError)

    @property
    def loads(self) -> bool:
        """True when the constructor call the loader makes has every argument exactly once."""
        return not self.missing and not self.reserved

    @property
    def meaningful_drops(self) -> tuple[str, ...]:
        """Dropped keys other than metadata (`parameter_count`): information the class loses."""
        return tuple(key for key in self.dropped if key not in _METADATA_SPEC_KEYS)

    @property
    def exact(self) -> bool:
        """Loads, and the class takes every spec key but metadata."""
        return self.loads and not self.meaningful_drops


@dataclass(frozen=True)
class LayerSignature:
    """One class of a target layer set: its constructor, and the catalog formula if one applies."""

    name: str
    parameters: tuple[str, ...]  # constructor parameters in order, self excluded
    required: tuple[str, ...]  # the parameters without a default
    # The catalog class with this name and constructor: None for a class only its source knows.
    formula: type[Layer] | None = None

    def bind(self, specs: Mapping[str, object]) -> Binding:
        """Keep the keys the constructor takes, inject layer_idx=0, find what fails the call."""
        kept = {key: value for key, value in specs.items() if key in self.parameters}
        reserved = tuple(key for key in _RESERVED_SPEC_KEYS if key in kept)
        if "layer_idx" in self.parameters and "layer_idx" not in kept:
            kept["layer_idx"] = _LAYER_IDX_DEFAULT
        missing = tuple(
            name for name in self.required if name not in kept and name not in _RESERVED_SPEC_KEYS
        )
        dropped = tuple(str(key) for key in specs if key not in self.parameters)
        kwargs = {key: value for key, value in kept.items() if key not in _RESERVED_SPEC_KEYS}
        return Binding(kwargs, dropped, missing, reserved)

    def build(
        self,
        specs: Mapping[str, object],
        *,
        dtype: str = "bf16",
        parallelism: Mapping[str, int] | None = None,
    ) -> Layer | None:
        """The catalog layer the loader's call would make, or None without a formula.

        Raises CatalogError when the call fails (missing or reserved keys, invalid values).
        """
        if self.formula is None:
            return None
        binding = self.bind(specs)
        if not binding.loads:
            problems = [f"missing {', '.join(binding.missing)}"] if binding.missing else []
            if binding.reserved:
                problems.append(f"{', '.join(binding.reserved)} inside specs")
            raise CatalogError(
                f"{self.name}: the loader's constructor call fails ({'; '.join(problems)}); "
                f"give every required spec and leave dtype and parallelism out of specs"
            )
        return self.formula(**binding.kwargs, dtype=dtype, parallelism=parallelism)


@dataclass(frozen=True)
class LayerSet:
    """The classes a config is generated for: the catalog, or those read from a layers folder."""

    label: str
    classes: Mapping[str, LayerSignature]

    def get(self, class_name: str) -> LayerSignature | None:
        """The class the loader resolves for `class_name`, or None (Mantile: HTTP 500)."""
        return self.classes.get(class_name)

    def names(self) -> list[str]:
        """The class names, sorted."""
        return sorted(self.classes)

    def layer(self, class_name: str, specs: Mapping[str, object]) -> Layer | None:
        """The catalog layer computing this entry exactly in this target, else None.

        None when the target lacks the class, the specs do not bind exactly (a required key
        missing, a reserved key, or a key the constructor would drop), no catalog formula
        applies, or the values are invalid.
        """
        signature = self.get(class_name)
        if signature is None or signature.formula is None or not signature.bind(specs).exact:
            return None
        try:
            return signature.build(specs)
        except CatalogError:
            return None


def _catalog_signature(cls: type[Layer]) -> LayerSignature:
    required, optional = _signature_parameters(cls)
    return LayerSignature(cls.__name__, (*required, *optional), required, cls)


def _folder_signature(info: LayerClassInfo) -> LayerSignature:
    parameters = (*info.required, *info.optional)
    catalog = CATALOG.get(info.name)
    same = catalog is not None and (
        set(_signature_parameters(catalog)[0]) == set(info.required)
        and set(_signature_parameters(catalog)[1]) == set(info.optional)
    )
    # The catalog's formula applies only to a class with the same name and constructor.
    return LayerSignature(info.name, parameters, info.required, catalog if same else None)


@functools.cache
def _catalog_set() -> LayerSet:
    return LayerSet(
        "the built-in catalog", {name: _catalog_signature(cls) for name, cls in CATALOG.items()}
    )


def layer_set(layers_dir: str | Path | None = None) -> LayerSet:
    """The target layer set: the catalog, or the concrete classes of `layers_dir` (not imported)."""
    if layers_dir is None:
        return _catalog_set()
    found = get_supported_layers(layers_dir)
    return LayerSet(
        str(layers_dir),
        {name: _folder_signature(info) for name, info in found.items() if not info.abstract},
    )
