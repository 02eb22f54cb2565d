"""Layers of published models and small ones, the supported parallelism of each class."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.catalog import (
    GroupedQueryAttentionLayer,
    MoELayer,
    SlidingWindowAttentionLayer,
)

BF16 = "bf16"


def llama70b_gqa(**parallelism: int) -> GroupedQueryAttentionLayer:
    return GroupedQueryAttentionLayer(
        0,
        hidden_size=8192,
        num_heads=64,
        num_kv_heads=8,
        head_dim=128,
        dtype=BF16,
        parallelism=parallelism or None,
    )


def gpt_oss_swa(sliding_window: int | None = 128) -> SlidingWindowAttentionLayer:
    return SlidingWindowAttentionLayer(
        0,
        hidden_size=2880,
        num_query_heads=64,
        num_kv_heads=8,
        head_dim=64,
        dtype=BF16,
        sliding_window=sliding_window,
        has_bias=True,
    )


def gpt_oss_moe() -> MoELayer:
    return MoELayer(
        0,
        hidden_size=2880,
        intermediate_size=2880,
        num_experts=128,
        top_k=4,
        dtype=BF16,
        num_projections=3,
        has_bias=True,
    )


# Small shapes for hand-computed FLOPs: H=8, h=4, h_kv=2, d_h=2, so d_q=8 and d_kv=4.
def small_gqa() -> GroupedQueryAttentionLayer:
    return GroupedQueryAttentionLayer(0, 8, 4, 2, 2, BF16)


def small_swa(sliding_window: int | None, has_bias: bool = True) -> SlidingWindowAttentionLayer:
    return SlidingWindowAttentionLayer(
        0, 8, 4, 2, 2, BF16, sliding_window=sliding_window, has_bias=has_bias
    )


def small_moe(**parallelism: int) -> MoELayer:
    # H=4, I=6, E=8, top_k=2, one shared expert, gated experts (p=3).
    return MoELayer(
        0,
        4,
        6,
        8,
        2,
        BF16,
        num_shared_experts=1,
        num_projections=3,
        parallelism=parallelism or None,
    )


EXPECTED_PARALLELISM = {
    "AttentionLayer": {"tensor_parallel"},
    "GroupedQueryAttentionLayer": {"tensor_parallel", "context_parallel"},
    "SlidingWindowAttentionLayer": {"tensor_parallel", "context_parallel"},
    "MLPLayer": {"tensor_parallel", "pipeline_parallel", "sequence_parallel"},
    "GatedMLPLayer": {"tensor_parallel", "pipeline_parallel", "sequence_parallel"},
    "MoELayer": {"expert_parallel", "tensor_parallel", "context_parallel"},
    "NormLayer": {"tensor_parallel", "pipeline_parallel", "expert_parallel"},
    "EmbeddingLayer": {"tensor_parallel", "pipeline_parallel"},
}


def write(folder: Path, name: str, source: str) -> None:
    (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def layers_dir(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "base.py",
        '''
        from abc import ABC, abstractmethod

        class Layer(ABC):
            """Base of all layers.

            Longer text that is not reported.
            """
            SUPPORTED_PARALLELISM: set[str] = set()

            def __init__(self, layer_idx, dtype, parallelism=None):
                self.layer_idx = layer_idx

            @classmethod
            def get_supported_parallelism(cls):
                return sorted(cls.SUPPORTED_PARALLELISM)

            @abstractmethod
            def compute(self): ...
    ''',
    )
    write(
        tmp_path,
        "dense.py",
        '''
        from .base import Layer
        TP = "tensor_parallel"

        class _Helper(Layer):
            """Private base whose name does not end in Layer."""
            SUPPORTED_PARALLELISM = frozenset({TP, "context_parallel"})

        class DenseLayer(_Helper):
            """A dense layer."""
            def __init__(self, layer_idx, width, dtype, *, scale=1.5, act=Act.GELU,
                         parallelism=None):
                super().__init__(layer_idx, dtype, parallelism)

            def compute(self):
                return 0

        class WideDenseLayer(DenseLayer):
            """Inherits __init__ and parallelism."""

        class PartialLayer(Layer):
            """Still abstract: compute is not implemented."""
            SUPPORTED_PARALLELISM = ["pipeline_parallel"]
    ''',
    )
    write(
        tmp_path,
        "boom.py",
        '''
        raise SystemExit("this file must never be executed")

        class BoomLayer:
            """Defined after a top-level exit."""
            @staticmethod
            def get_supported_parallelism():
                return ("expert_parallel",)

            def __init__(self, experts, top_k=2):
                pass

        class NotReported:
            """Name does not end in Layer."""
    ''',
    )
    write(tmp_path, "_private.py", 'class HiddenLayer:\n    """Skipped: file starts with _."""\n')
    write(tmp_path, "notes.txt", "class TextLayer: pass\n")
    return tmp_path
