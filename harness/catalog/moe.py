"""MoELayer: routed experts, a router and shared experts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..errors import CatalogError
from .base import (
    CONTEXT,
    EXPERT,
    TENSOR,
    Layer,
    Phase,
    _flag,
    _non_negative_int,
    _positive_int,
    _require_divides,
)

__all__ = ["MoELayer"]


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
