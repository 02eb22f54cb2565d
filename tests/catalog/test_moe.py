"""MoELayer: parameters with biases and shared experts, per-package weights, FLOPs."""

from __future__ import annotations

from harness.catalog import (
    MoELayer,
)

from .conftest import BF16, gpt_oss_moe, small_moe


def test_deepseek_v3_moe_parameter_count() -> None:
    moe = MoELayer(
        3,
        hidden_size=7168,
        intermediate_size=2048,
        num_experts=256,
        top_k=8,
        dtype=BF16,
        num_shared_experts=1,
        num_projections=3,
    )
    assert moe.parameter_count() == 7168 * 256 + 257 * 3 * 7168 * 2048
    assert moe.router_parameters() == 7168 * 256
    assert moe.expert_parameters() == 3 * 7168 * 2048


def test_moe_biases_with_two_projections() -> None:
    moe = MoELayer(0, 4, 6, 8, 2, BF16, has_bias=True)
    # router 4·8 + 8; each expert 2·4·6 + (6 + 4)
    assert moe.parameter_count() == 40 + 8 * 58


def test_moe_per_package_replicates_router_and_shared_experts_ignore_ep() -> None:
    moe = small_moe(expert_parallel=2, tensor_parallel=2)
    # router 4·8 = 32 (replicated); expert 3·4·6 = 72; routed 8·72/(2·2) = 144; shared 72/2 = 36
    assert moe.weight_bytes() == (32 + 9 * 72) * 2
    assert moe.weight_bytes_per_package() == (32 + 144 + 36) * 2


def test_moe_flops_prefill_and_decode() -> None:
    moe = small_moe()
    # prefill T=6: router 2·6·4·8 = 384; experts 2·T·(top_k + shared)·p·H·I = 2·6·3·3·4·6 = 2592
    assert moe.flops(2, 3) == 384 + 2592
    # decode T=5: router 2·5·4·8 = 320; experts 2·5·3·3·4·6 = 2160
    assert moe.flops(5, 1, phase="decode") == 320 + 2160


def test_gpt_oss_moe_decode_flops() -> None:
    # one token: router 2·2880·128, 4 active gated experts 2·4·3·2880·2880 (biases free)
    assert gpt_oss_moe().flops(1, 1, phase="decode", context_len=4096) == (
        2 * 2880 * 128 + 2 * 4 * 3 * 2880 * 2880
    )
