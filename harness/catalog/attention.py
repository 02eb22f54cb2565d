"""Attention classes: AttentionLayer (MHA), GroupedQueryAttentionLayer, SlidingWindowAttention."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..errors import CatalogError
from .base import (
    CONTEXT,
    TENSOR,
    Layer,
    Phase,
    _flag,
    _non_negative_int,
    _positive_int,
    _require_divides,
)

__all__ = ["AttentionLayer", "GroupedQueryAttentionLayer", "SlidingWindowAttentionLayer"]


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
