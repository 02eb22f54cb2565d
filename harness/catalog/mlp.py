"""MLP classes: MLPLayer (2 or 3 projections) and GatedMLPLayer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..errors import CatalogError
from .base import PIPELINE, SEQUENCE, TENSOR, Layer, Phase, _positive_int

__all__ = ["GatedMLPLayer", "MLPLayer"]


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
