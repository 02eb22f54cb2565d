"""Layers without matrix multiplications: NormLayer and EmbeddingLayer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from .base import EXPERT, PIPELINE, TENSOR, Layer, Phase, _flag, _positive_int

__all__ = ["EmbeddingLayer", "NormLayer"]


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
