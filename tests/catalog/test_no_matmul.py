"""NormLayer and EmbeddingLayer: parameters, no matmul FLOPs, no KV cache."""

from __future__ import annotations

from harness.catalog import (
    EmbeddingLayer,
    GatedMLPLayer,
    NormLayer,
)

from .conftest import BF16, small_moe


def test_layernorm_with_bias_doubles() -> None:
    assert NormLayer(0, 2880, BF16, has_bias=True).parameter_count() == 2 * 2880
    assert NormLayer(0, 2880, BF16).parameter_count() == 2880


def test_embedding_layer_idx_is_fixed() -> None:
    assert EmbeddingLayer(32000, 4096, BF16).layer_idx == -1


def test_norm_and_embedding_have_no_matmul_flops() -> None:
    for layer in (NormLayer(0, 64, BF16, has_bias=True), EmbeddingLayer(1000, 64, BF16)):
        assert layer.flops(4, 128) == 0
        assert layer.flops(4, 1, phase="decode", context_len=128) == 0


def test_kv_cache_is_zero_without_attention() -> None:
    assert GatedMLPLayer(0, 8192, 28672, BF16).kv_cache_bytes(8, 8192) == 0
    assert small_moe().kv_cache_bytes(8, 8192) == 0
    assert NormLayer(0, 8192, BF16).kv_cache_bytes(8, 8192) == 0
    assert EmbeddingLayer(1000, 64, BF16).kv_cache_bytes(8, 8192) == 0
