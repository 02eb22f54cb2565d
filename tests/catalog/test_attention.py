"""Attention classes: parameters, FLOPs with and without a window, KV-cache bytes."""

from __future__ import annotations

import pytest

from harness.catalog import (
    AttentionLayer,
    GroupedQueryAttentionLayer,
    SlidingWindowAttentionLayer,
)
from harness.errors import CatalogError

from .conftest import BF16, gpt_oss_swa, llama70b_gqa, small_gqa, small_swa


def test_swa_without_bias_and_gqa_output_is_square() -> None:
    assert (
        gpt_oss_swa().parameter_count() - 8000
        == SlidingWindowAttentionLayer(
            0, 2880, 64, 8, 64, BF16, sliding_window=128
        ).parameter_count()
    )
    # gpt-oss shapes through GQA: O is counted H x H, not d_q x H.
    gqa = GroupedQueryAttentionLayer(0, 2880, 64, 8, 64, BF16)
    assert gqa.parameter_count() == 2880 * 4096 + 2 * 2880 * 512 + 2880 * 2880


def test_gqa_flops_prefill_and_decode() -> None:
    gqa = small_gqa()
    # prefill B=2, S=3, T=6: q,k,v 2·6·8·(8 + 2·4) = 1536, o 2·6·8·8 = 768,
    # QKᵀ and PV 2·B·S·S·h·d_h = 2·2·3·3·4·2 = 288 each
    assert gqa.flops(2, 3) == 1536 + 768 + 288 + 288
    # decode B=2, L=5, T=2: 2·2·8·16 = 512, 2·2·8·8 = 256, scores 2·2·1·5·4·2 = 160 each
    assert gqa.flops(2, 1, phase="decode", context_len=5) == 512 + 256 + 160 + 160


def test_mha_flops_prefill_and_decode() -> None:
    mha = AttentionLayer(0, 8, 4, 2, BF16)  # d_q = d_kv = 8
    # prefill B=1, S=4, T=4: 2·4·8·(8 + 16) = 1536, o 2·4·8·8 = 512, scores 2·1·4·4·4·2 = 256 each
    assert mha.flops(1, 4) == 1536 + 512 + 256 + 256
    # decode B=3, L=10, T=3: 2·3·8·24 = 1152, o 2·3·8·8 = 384, scores 2·3·1·10·4·2 = 480 each
    assert mha.flops(3, 1, phase="decode", context_len=10) == 1152 + 384 + 480 + 480


def test_swa_window_caps_score_flops() -> None:
    # prefill B=1, S=10, T=10: 2·10·8·16 = 2560, o 2·10·8·8 = 1280
    # window 4: scores 2·1·10·4·4·2 = 640 each; full attention: 2·1·10·10·4·2 = 1600 each
    assert small_swa(4).flops(1, 10) == 2560 + 1280 + 640 + 640
    assert small_swa(None).flops(1, 10) == 2560 + 1280 + 1600 + 1600
    # a window wider than the sequence changes nothing
    assert small_swa(64).flops(1, 10) == small_swa(None).flops(1, 10)
    # decode B=2, L=100 capped to 4: 2·2·8·16 = 512, o 256, scores 2·2·1·4·4·2 = 128 each
    assert small_swa(4).flops(2, 1, phase="decode", context_len=100) == 512 + 256 + 128 + 128


def test_swa_biases_add_no_flops() -> None:
    assert small_swa(4, has_bias=True).flops(2, 7) == small_swa(4, has_bias=False).flops(2, 7)


def test_prefill_after_cached_prefix_attends_context_len_keys() -> None:
    # B=1, S=2 new tokens over 6 keys: 2·2·8·16 = 512, o 2·2·8·8 = 256,
    # scores 2·1·2·6·4·2 = 192 each
    assert small_gqa().flops(1, 2, context_len=6) == 512 + 256 + 192 + 192


def test_error_decode_attention_requires_context_len() -> None:
    for layer in (small_gqa(), small_swa(4), AttentionLayer(0, 8, 4, 2, BF16)):
        with pytest.raises(CatalogError, match=r"phase='decode' needs context_len"):
            layer.flops(2, 1, phase="decode")


def test_kv_cache_bytes() -> None:
    # Llama-70B, B=1, L=8192: 2·1·8192·8·128·2 bytes
    assert llama70b_gqa().kv_cache_bytes(1, 8192) == 33_554_432
    # gpt-oss sliding layer: the cache holds at most 128 tokens: 2·1·128·8·64·2
    assert gpt_oss_swa(128).kv_cache_bytes(1, 8192) == 262_144
    assert gpt_oss_swa(128).kv_cache_bytes(1, 100) == 2 * 100 * 8 * 64 * 2
    assert gpt_oss_swa(None).kv_cache_bytes(1, 8192) == 2 * 8192 * 8 * 64 * 2
    # MHA caches every head: 2·B·L·h·d_h·2 = 2·2·5·4·2·2
    assert AttentionLayer(0, 8, 4, 2, BF16).kv_cache_bytes(2, 5) == 320


def test_kv_cache_follows_dtype() -> None:
    fp8 = GroupedQueryAttentionLayer(0, 8192, 64, 8, 128, "fp8")
    assert fp8.kv_cache_bytes(1, 8192) == llama70b_gqa().kv_cache_bytes(1, 8192) / 2
