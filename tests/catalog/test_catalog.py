"""Tests for harness.catalog: exact parameters, FLOPs, KV bytes, spec binding, static discovery."""

from __future__ import annotations

import inspect
import sys
import textwrap
from enum import Enum
from pathlib import Path

import pytest

from harness.catalog import (
    CATALOG,
    AttentionLayer,
    EmbeddingLayer,
    GatedMLPLayer,
    GroupedQueryAttentionLayer,
    Layer,
    LayerClassInfo,
    MLPLayer,
    MoELayer,
    NormLayer,
    Phase,
    SlidingWindowAttentionLayer,
    get_supported_layers,
    instantiate,
    layer_set,
    spec_parameters,
)
from harness.errors import CatalogError, HarnessError

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


# --------------------------------------------------------------------------- parameter counts


def test_llama_3_3_70b_parameter_counts() -> None:
    # q 8192·8192 + k,v 2·8192·1024 + o 8192²
    assert llama70b_gqa().parameter_count() == 150_994_944
    assert GatedMLPLayer(0, 8192, 28672, BF16).parameter_count() == 704_643_072
    assert NormLayer(0, 8192, BF16).parameter_count() == 8_192
    assert EmbeddingLayer(128256, 8192, BF16).parameter_count() == 1_050_673_152


def test_gpt_oss_120b_parameter_counts() -> None:
    # 2·2880·4096 + 2·2880·512 + biases (4096 + 2·512 + 2880)
    assert gpt_oss_swa().parameter_count() == 26_550_080
    # router 2880·128 + 128, then 128 experts of 3·2880² + 2·2880 + 2880
    assert gpt_oss_moe().parameter_count() == 3_186_524_288


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


def test_layernorm_with_bias_doubles() -> None:
    assert NormLayer(0, 2880, BF16, has_bias=True).parameter_count() == 2 * 2880
    assert NormLayer(0, 2880, BF16).parameter_count() == 2880


def test_mha_and_plain_mlp_parameter_counts() -> None:
    assert AttentionLayer(0, 4096, 32, 128, BF16).parameter_count() == 4 * 4096**2
    assert MLPLayer(0, 768, 3072, BF16).parameter_count() == 2 * 768 * 3072
    assert MLPLayer(0, 768, 3072, BF16, num_projections=3).parameter_count() == 3 * 768 * 3072


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


def test_embedding_layer_idx_is_fixed() -> None:
    assert EmbeddingLayer(32000, 4096, BF16).layer_idx == -1


# --------------------------------------------------------------------------- weight bytes


def test_weight_bytes_whole_layer_and_per_package() -> None:
    gqa = llama70b_gqa(tensor_parallel=8)
    assert gqa.weight_bytes() == 150_994_944 * 2
    assert gqa.weight_bytes_per_package() == 150_994_944 * 2 / 8
    norm = NormLayer(0, 8192, "fp32", parallelism={"tensor_parallel": 4})
    assert norm.weight_bytes_per_package() == 8192 * 4
    embedding = EmbeddingLayer(128256, 8192, "fp8", parallelism={"tensor_parallel": 2})
    assert embedding.weight_bytes_per_package() == 128256 * 8192 / 2
    mlp = GatedMLPLayer(
        0, 8192, 28672, BF16, parallelism={"tensor_parallel": 4, "sequence_parallel": 2}
    )
    assert mlp.weight_bytes_per_package() == 704_643_072 * 2 / 4


def test_moe_per_package_replicates_router_and_shared_experts_ignore_ep() -> None:
    moe = small_moe(expert_parallel=2, tensor_parallel=2)
    # router 4·8 = 32 (replicated); expert 3·4·6 = 72; routed 8·72/(2·2) = 144; shared 72/2 = 36
    assert moe.weight_bytes() == (32 + 9 * 72) * 2
    assert moe.weight_bytes_per_package() == (32 + 144 + 36) * 2


def test_weight_bytes_follow_dtype() -> None:
    assert NormLayer(0, 1024, "mxfp4").weight_bytes() == 1024 * 4.25 / 8


# --------------------------------------------------------------------------- FLOPs


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


def test_mlp_flops_prefill_and_decode() -> None:
    # prefill B=2, S=3, T=6: 2·T·p·H·I = 2·6·2·4·6 = 576; decode B=5: 2·5·2·4·6 = 480
    mlp = MLPLayer(0, 4, 6, BF16)
    assert mlp.flops(2, 3) == 576
    assert mlp.flops(5, 1, phase="decode") == 480
    # gated: 2·6·3·4·6 = 864 and 2·5·3·4·6 = 720; context_len does not matter
    gated = GatedMLPLayer(0, 4, 6, BF16)
    assert gated.flops(2, 3) == 864
    assert gated.flops(5, 1, phase="decode", context_len=999) == 720


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


def test_norm_and_embedding_have_no_matmul_flops() -> None:
    for layer in (NormLayer(0, 64, BF16, has_bias=True), EmbeddingLayer(1000, 64, BF16)):
        assert layer.flops(4, 128) == 0
        assert layer.flops(4, 1, phase="decode", context_len=128) == 0


def test_error_decode_attention_requires_context_len() -> None:
    for layer in (small_gqa(), small_swa(4), AttentionLayer(0, 8, 4, 2, BF16)):
        with pytest.raises(CatalogError, match=r"phase='decode' needs context_len"):
            layer.flops(2, 1, phase="decode")


def test_error_decode_is_one_token_per_sequence() -> None:
    with pytest.raises(CatalogError, match=r"seq_len must be 1 \(got 2048\)"):
        MLPLayer(0, 4, 6, BF16).flops(1, 2048, phase="decode", context_len=4096)


def test_error_flops_bad_arguments() -> None:
    with pytest.raises(CatalogError, match=r"phase='train' is not one of prefill, decode"):
        small_gqa().flops(1, 4, phase="train")  # type: ignore[arg-type]
    with pytest.raises(CatalogError, match=r"batch_size=0 is not a positive integer"):
        small_gqa().flops(0, 4)
    with pytest.raises(CatalogError, match=r"context_len=2 is shorter than seq_len=4"):
        small_gqa().flops(1, 4, context_len=2)


# --------------------------------------------------------------------------- KV cache


def test_kv_cache_bytes() -> None:
    # Llama-70B, B=1, L=8192: 2·1·8192·8·128·2 bytes
    assert llama70b_gqa().kv_cache_bytes(1, 8192) == 33_554_432
    # gpt-oss sliding layer: the cache holds at most 128 tokens: 2·1·128·8·64·2
    assert gpt_oss_swa(128).kv_cache_bytes(1, 8192) == 262_144
    assert gpt_oss_swa(128).kv_cache_bytes(1, 100) == 2 * 100 * 8 * 64 * 2
    assert gpt_oss_swa(None).kv_cache_bytes(1, 8192) == 2 * 8192 * 8 * 64 * 2
    # MHA caches every head: 2·B·L·h·d_h·2 = 2·2·5·4·2·2
    assert AttentionLayer(0, 8, 4, 2, BF16).kv_cache_bytes(2, 5) == 320


def test_kv_cache_is_zero_without_attention() -> None:
    assert GatedMLPLayer(0, 8192, 28672, BF16).kv_cache_bytes(8, 8192) == 0
    assert small_moe().kv_cache_bytes(8, 8192) == 0
    assert NormLayer(0, 8192, BF16).kv_cache_bytes(8, 8192) == 0
    assert EmbeddingLayer(1000, 64, BF16).kv_cache_bytes(8, 8192) == 0


def test_kv_cache_follows_dtype() -> None:
    fp8 = GroupedQueryAttentionLayer(0, 8192, 64, 8, 128, "fp8")
    assert fp8.kv_cache_bytes(1, 8192) == llama70b_gqa().kv_cache_bytes(1, 8192) / 2


# --------------------------------------------------------------------------- constructor checks


def test_error_constructor_validation() -> None:
    cases = [
        (
            lambda: MLPLayer(0, 4, 6, BF16, num_projections=4),
            r"MLPLayer: num_projections=4 is not 2 or 3",
        ),
        (lambda: MoELayer(0, 4, 6, 8, 9, BF16), r"MoELayer: top_k=9 exceeds num_experts=8"),
        (lambda: MoELayer(0, 4, 6, 8, 0, BF16), r"MoELayer: top_k=0 is not a positive integer"),
        (lambda: small_swa(0), r"sliding_window=0 is not a positive integer"),
        (lambda: NormLayer(0, -1, BF16), r"NormLayer: hidden_size=-1 is not a positive integer"),
        (lambda: NormLayer(0, True, BF16), r"hidden_size=True is not a positive integer"),
        (lambda: NormLayer(0, 64, BF16, has_bias="yes"), r"has_bias='yes' is not a boolean"),
        (lambda: NormLayer(-3, 64, BF16), r"layer_idx=-3 is not a non-negative integer"),
        (lambda: NormLayer(0, 64, "fp64"), r"NormLayer: dtype='fp64' is not known .*bf16"),
        (
            lambda: MoELayer(0, 4, 6, 8, 2, BF16, parallelism={"expert_parallel": 3}),
            r"expert_parallel=3 does not divide num_experts=8; .* one of 1, 2, 4, 8",
        ),
        (
            lambda: MoELayer(0, 4, 6, 8, 2, BF16, parallelism={"tensor_parallel": 4}),
            r"tensor_parallel=4 does not divide intermediate_size=6",
        ),
        (
            lambda: AttentionLayer(0, 96, 12, 8, BF16, parallelism={"tensor_parallel": 8}),
            r"AttentionLayer: tensor_parallel=8 does not divide num_heads=12",
        ),
        (
            lambda: AttentionLayer(0, 96, 12, 8, BF16, parallelism={"context_parallel": 2}),
            r"'context_parallel' not supported; AttentionLayer supports: tensor_parallel",
        ),
        (
            lambda: MLPLayer(0, 4, 6, BF16, parallelism={"tensor_parallel": 0}),
            r"tensor_parallel=0 is not a positive integer degree",
        ),
    ]
    for build, message in cases:
        with pytest.raises(CatalogError, match=message):
            build()


def test_parallelism_defaults_every_supported_key_to_one() -> None:
    assert llama70b_gqa(tensor_parallel=8).parallelism == {
        "context_parallel": 1,
        "tensor_parallel": 8,
    }
    assert small_moe(expert_parallel=8).degree("expert_parallel") == 8
    assert NormLayer(0, 64, BF16).degree("sequence_parallel") == 1


def test_catalog_error_is_a_harness_error() -> None:
    assert issubclass(CatalogError, HarnessError)
    assert issubclass(CatalogError, ValueError)


# --------------------------------------------------------------------------- instantiate


def test_instantiate_binds_specs_and_drops_parameter_count() -> None:
    specs = {
        "hidden_size": 8192,
        "num_heads": 64,
        "num_kv_heads": 8,
        "head_dim": 128,
        "parameter_count": 150_994_944,
    }
    layer = instantiate("GroupedQueryAttentionLayer", specs, parallelism={"tensor_parallel": 8})
    assert isinstance(layer, GroupedQueryAttentionLayer)
    assert layer.parameter_count() == specs["parameter_count"]
    assert layer.layer_idx == 0  # injected, as Mantile's loader does
    assert layer.dtype == "bf16"
    assert layer.degree("tensor_parallel") == 8
    swa = instantiate(
        "SlidingWindowAttentionLayer",
        {
            "hidden_size": 2880,
            "num_query_heads": 64,
            "num_kv_heads": 8,
            "head_dim": 64,
            "sliding_window": 128,
            "num_sinks": 64,
            "has_bias": True,
            "layer_idx": 1,
        },
        dtype="fp8",
    )
    assert swa.parameter_count() == 26_550_080
    assert (swa.layer_idx, swa.dtype, swa.weight_bytes()) == (1, "fp8", 26_550_080.0)


def test_instantiate_round_trips_layer_specs() -> None:
    for layer in (
        gpt_oss_moe(),
        gpt_oss_swa(),
        EmbeddingLayer(1000, 64, BF16),
        GatedMLPLayer(5, 8, 16, BF16),
        AttentionLayer(2, 8, 4, 2, BF16),
    ):
        again = instantiate(type(layer).__name__, layer.specs())
        assert again.specs() == layer.specs()
        assert again.parameter_count() == layer.parameter_count()
    assert "num_projections" not in GatedMLPLayer(0, 8, 16, BF16).specs()


def test_instantiate_accepts_a_custom_catalog() -> None:
    layer = instantiate("Norm", {"hidden_size": 16}, catalog={"Norm": NormLayer})
    assert isinstance(layer, NormLayer)
    with pytest.raises(CatalogError, match=r"unknown layer class 'NormLayer'"):
        instantiate("NormLayer", {"hidden_size": 16}, catalog={"Norm": NormLayer})


def test_error_instantiate_unknown_class() -> None:
    with pytest.raises(CatalogError, match=r"unknown layer class 'MoERouterLayer'.*MoELayer"):
        instantiate("MoERouterLayer", {"hidden_size": 8})


def test_error_instantiate_unexpected_key() -> None:
    specs = {
        "hidden_size": 8192,
        "num_heads": 64,
        "num_kv_heads": 8,
        "head_dim": 128,
        "has_bias": True,
    }
    with pytest.raises(CatalogError) as info:
        instantiate("GroupedQueryAttentionLayer", specs)
    message = str(info.value)
    assert "GroupedQueryAttentionLayer: unexpected spec key(s) 'has_bias'" in message
    assert "silently drop" in message
    assert (
        "Accepted keys: required hidden_size, num_heads, num_kv_heads, head_dim; "
        "optional layer_idx." in message
    )
    assert "unsupported_layer_types" in message


def test_error_instantiate_suggests_the_key_meant() -> None:
    specs = {"hidden_size": 2880, "num_heads": 64, "num_kv_heads": 8, "head_dim": 64}
    with pytest.raises(
        CatalogError,
        match=r"unexpected spec key\(s\) 'num_heads' \(did you mean 'num_query_heads'\?\)"
        r".*missing required spec key\(s\) 'num_query_heads'",
    ):
        instantiate("SlidingWindowAttentionLayer", specs)


def test_error_instantiate_missing_key() -> None:
    with pytest.raises(CatalogError, match=r"missing required spec key\(s\) 'head_dim'"):
        instantiate(
            "GroupedQueryAttentionLayer", {"hidden_size": 8192, "num_heads": 64, "num_kv_heads": 8}
        )


def test_error_instantiate_metadata_other_than_parameter_count() -> None:
    with pytest.raises(CatalogError, match=r"unexpected spec key\(s\) 'input_dim'"):
        instantiate("NormLayer", {"hidden_size": 64, "input_dim": 64, "parameter_count": 64})
    with pytest.raises(CatalogError, match=r"EmbeddingLayer: unexpected spec key\(s\) 'layer_idx'"):
        instantiate("EmbeddingLayer", {"vocab_size": 10, "hidden_size": 4, "layer_idx": 0})


def test_error_instantiate_dtype_or_parallelism_in_specs() -> None:
    with pytest.raises(CatalogError, match=r"NormLayer: spec key\(s\) 'dtype' are not allowed"):
        instantiate("NormLayer", {"hidden_size": 64, "dtype": "bf16"})
    with pytest.raises(
        CatalogError, match=r"'parallelism' are not allowed.*pass dtype=/parallelism="
    ):
        instantiate("NormLayer", {"hidden_size": 64, "parallelism": {}})


def test_error_instantiate_bad_parallelism() -> None:
    specs = {"hidden_size": 8192, "num_heads": 64, "num_kv_heads": 8, "head_dim": 128}
    with pytest.raises(
        CatalogError,
        match=r"GroupedQueryAttentionLayer: tensor_parallel=16 does not divide num_kv_heads=8; "
        r".*one of 1, 2, 4, 8",
    ):
        instantiate("GroupedQueryAttentionLayer", specs, parallelism={"tensor_parallel": 16})


def test_error_instantiate_bad_dtype() -> None:
    with pytest.raises(CatalogError, match=r"dtype='int4' is not known"):
        instantiate("NormLayer", {"hidden_size": 64}, dtype="int4")


def test_spec_parameters_match_mantile_spec_table() -> None:
    assert spec_parameters(SlidingWindowAttentionLayer) == (
        ("hidden_size", "num_query_heads", "num_kv_heads", "head_dim"),
        {"layer_idx": 0, "sliding_window": None, "num_sinks": 0, "has_bias": False},
    )
    assert spec_parameters(MoELayer) == (
        ("hidden_size", "intermediate_size", "num_experts", "top_k"),
        {"layer_idx": 0, "num_shared_experts": 0, "num_projections": 2, "has_bias": False},
    )
    assert spec_parameters(GatedMLPLayer) == (
        ("hidden_size", "intermediate_size"),
        {"layer_idx": 0},
    )
    assert spec_parameters(EmbeddingLayer) == (("vocab_size", "hidden_size"), {})
    assert spec_parameters(NormLayer) == (("hidden_size",), {"layer_idx": 0, "has_bias": False})


# --------------------------------------------------------------------------- discovery


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


def test_catalog_holds_the_eight_classes() -> None:
    assert set(CATALOG) == set(EXPECTED_PARALLELISM)
    for name, cls in CATALOG.items():
        assert cls.__name__ == name
        assert EXPECTED_PARALLELISM[name] == cls.SUPPORTED_PARALLELISM
        assert cls.__doc__ and "\n" not in cls.__doc__.strip()
    assert not Layer.SUPPORTED_PARALLELISM
    with pytest.raises(TypeError):
        Layer(0, BF16)  # type: ignore[abstract]


def test_get_supported_layers_describes_own_classes() -> None:
    layers = get_supported_layers()
    assert {name for name, info in layers.items() if not info.abstract} == set(CATALOG)
    # in the modules' order, as `harness layers` lists them
    assert list(layers) == [
        "Layer",
        "AttentionLayer",
        "GroupedQueryAttentionLayer",
        "SlidingWindowAttentionLayer",
        "MLPLayer",
        "GatedMLPLayer",
        "MoELayer",
        "_NoMatmulLayer",
        "NormLayer",
        "EmbeddingLayer",
    ]
    assert layers["Layer"].abstract
    assert layers["Layer"].required == ("layer_idx", "dtype")
    for name, cls in CATALOG.items():
        info = layers[name]
        params = list(inspect.signature(cls).parameters.values())
        assert info.required == tuple(p.name for p in params if p.default is p.empty)
        assert info.optional == {p.name: p.default for p in params if p.default is not p.empty}
        assert info.supported_parallelism == EXPECTED_PARALLELISM[name]
        assert info.docstring == cls.__doc__
        assert (info.spec_required, info.spec_optional) == spec_parameters(cls)
        # read from the file that defines the class
        assert info.module == cls.__module__.rpartition(".")[2]
        assert Path(info.path) == Path(inspect.getfile(cls)).resolve()
    assert layers["SlidingWindowAttentionLayer"].optional == {
        "sliding_window": None,
        "num_sinks": 0,
        "has_bias": False,
        "parallelism": None,
    }
    assert layers["EmbeddingLayer"].required == ("vocab_size", "hidden_size", "dtype")


def test_layer_class_info_as_dict() -> None:
    info = get_supported_layers()["NormLayer"]
    assert isinstance(info, LayerClassInfo)
    data = info.as_dict()
    assert data["supported_parallelism"] == [
        "expert_parallel",
        "pipeline_parallel",
        "tensor_parallel",
    ]
    assert data["required"] == ["layer_idx", "hidden_size", "dtype"]
    assert data["optional"] == {"has_bias": False, "parallelism": None}
    assert data["abstract"] is False
    with pytest.raises(AttributeError):
        info.name = "Other"  # type: ignore[misc]


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


def test_get_supported_layers_scans_without_importing(layers_dir: Path) -> None:
    layers = get_supported_layers(layers_dir)
    assert list(layers) == ["Layer", "BoomLayer", "DenseLayer", "WideDenseLayer", "PartialLayer"]
    assert not any(name in sys.modules for name in ("base", "dense", "boom"))

    base = layers["Layer"]
    assert (base.docstring, base.module, base.abstract) == ("Base of all layers.", "base", True)
    assert base.supported_parallelism == frozenset()
    assert base.path == str(layers_dir / "base.py")

    dense = layers["DenseLayer"]
    assert dense.required == ("layer_idx", "width", "dtype")
    assert dense.optional == {"scale": 1.5, "act": "Act.GELU", "parallelism": None}
    assert dense.supported_parallelism == {"tensor_parallel", "context_parallel"}
    assert dense.abstract is False
    assert (dense.spec_required, dense.spec_optional) == (
        ("width",),
        {"layer_idx": 0, "scale": 1.5, "act": "Act.GELU"},
    )

    wide = layers["WideDenseLayer"]
    assert (wide.required, wide.optional) == (dense.required, dense.optional)
    assert wide.supported_parallelism == dense.supported_parallelism
    assert (wide.bases, wide.abstract, wide.docstring) == (
        ("DenseLayer",),
        False,
        "Inherits __init__ and parallelism.",
    )

    partial = layers["PartialLayer"]
    assert partial.abstract is True
    assert partial.supported_parallelism == {"pipeline_parallel"}
    assert partial.required == ("layer_idx", "dtype")

    boom = layers["BoomLayer"]
    assert boom.supported_parallelism == {"expert_parallel"}
    assert (boom.required, boom.optional) == (("experts",), {"top_k": 2})


def test_a_constant_imported_from_a_scanned_file_reads_as_its_value(tmp_path: Path) -> None:
    write(tmp_path, "names.py", 'EP = "expert_parallel"\nTP = "tensor_parallel"\n')
    write(
        tmp_path,
        "routed.py",
        """
        from .names import EP as EXPERT, TP
        from elsewhere import PP
        TP = "tp_of_its_own"

        class RoutedLayer:
            SUPPORTED_PARALLELISM = frozenset({EXPERT, TP, PP})
    """,
    )
    layers = get_supported_layers(tmp_path)
    # its own assignment wins; a module not scanned leaves the name as written
    assert layers["RoutedLayer"].supported_parallelism == {"expert_parallel", "tp_of_its_own", "PP"}


def test_error_get_supported_layers_syntax_error(layers_dir: Path) -> None:
    write(layers_dir, "broken.py", "class GoodLayer:\n    pass\n\nclass BadLayer(:\n    pass\n")
    with pytest.raises(CatalogError, match=r"broken\.py: syntax error at line 4"):
        get_supported_layers(layers_dir)


def test_error_get_supported_layers_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"does not exist or is not a folder"):
        get_supported_layers(tmp_path / "nowhere")


def test_error_get_supported_layers_duplicate_class(layers_dir: Path) -> None:
    write(layers_dir, "again.py", 'class DenseLayer:\n    """Second definition."""\n')
    with pytest.raises(CatalogError, match=r"'DenseLayer' is defined twice: .*again\.py line 1"):
        get_supported_layers(layers_dir)


# --------------------------------------------------------------------------- Mantile's method names


class _ForeignPhase(Enum):
    """Another package's phase enum (as Mantile's backend.layers.Phase): matched by value."""

    PREFILL = "prefill"
    DECODE = "decode"


class _ForeignDataType(Enum):
    BF16 = "bf16"


def test_mantile_method_names_at_parallelism_one_are_the_whole_layer() -> None:
    layer = llama70b_gqa()
    assert layer.compute_weight_memory() == layer.parameter_count() * 2
    assert layer.compute_flops(2, 16, Phase.PREFILL) == layer.flops(2, 16)
    assert layer.compute_kv_cache(3, 100) == layer.kv_cache_bytes(3, 100)


def test_compute_flops_decode_seq_len_is_the_cached_tokens() -> None:
    """Mantile's decode: seq_len tokens cached, the new token attends them and itself."""
    layer = llama70b_gqa()
    expected = layer.flops(1, 1, phase="decode", context_len=4097)
    assert layer.compute_flops(1, 4096, Phase.DECODE) == expected
    assert layer.compute_flops(1, 4096, "decode") == expected
    assert layer.compute_flops(1, 4096, _ForeignPhase.DECODE) == expected
    mlp = MLPLayer(0, 64, 128, BF16)
    assert mlp.compute_flops(3, 999, Phase.DECODE) == 2 * 3 * 2 * 64 * 128  # one token each


def test_mantile_method_names_are_per_package() -> None:
    layer = GroupedQueryAttentionLayer(0, 4096, 32, 8, 128, BF16, {"tensor_parallel": 4})
    whole = GroupedQueryAttentionLayer(0, 4096, 32, 8, 128, BF16)
    assert layer.num_packages() == 4
    assert layer.compute_flops(1, 64, Phase.PREFILL) == whole.flops(1, 64) // 4
    assert layer.compute_kv_cache(1, 64) == whole.kv_cache_bytes(1, 64) / 4
    assert layer.compute_weight_memory() == whole.weight_bytes() // 4
    assert NormLayer(0, 64, BF16, parallelism={"tensor_parallel": 8}).num_packages() == 1


def test_dtype_may_be_another_packages_enum() -> None:
    assert MLPLayer(0, 64, 128, _ForeignDataType.BF16).compute_weight_memory() == 2 * 64 * 128 * 2


def test_error_compute_flops_unknown_phase() -> None:
    with pytest.raises(CatalogError, match=r"phase='train' is not one of prefill, decode"):
        small_gqa().compute_flops(1, 4, "train")


# --------------------------------------------------------------------------- target layer sets


def test_bind_replays_the_loader() -> None:
    """Unknown keys dropped, layer_idx injected, dtype in specs and missing keys fail the call."""
    signature = layer_set().get("MLPLayer")
    assert signature is not None
    binding = signature.bind({"hidden_size": 8, "intermediate_size": 4, "parameter_count": 64})
    assert binding.kwargs == {"hidden_size": 8, "intermediate_size": 4, "layer_idx": 0}
    assert binding.dropped == ("parameter_count",) and binding.exact
    binding = signature.bind({"hidden_size": 8, "dtype": "bf16", "has_bias": True})
    assert binding.missing == ("intermediate_size",) and binding.reserved == ("dtype",)
    assert binding.meaningful_drops == ("has_bias",) and not binding.loads


def test_layer_set_of_a_folder_reads_constructors_and_keeps_formulas_of_equal_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "layers.py").write_text(
        textwrap.dedent(
            """
            class NormLayer:
                def __init__(self, layer_idx, hidden_size, dtype, has_bias=False,
                             parallelism=None):
                    pass

            class MLPLayer:
                def __init__(self, layer_idx, hidden_size, dtype, parallelism=None):
                    pass

            class LMHeadLayer:
                def __init__(self, layer_idx, vocab_size, hidden_size, dtype, parallelism=None):
                    pass
            """
        )
    )
    target = layer_set(tmp_path)
    assert target.names() == ["LMHeadLayer", "MLPLayer", "NormLayer"]
    norm, mlp, head = (target.get(n) for n in ("NormLayer", "MLPLayer", "LMHeadLayer"))
    assert norm is not None and norm.formula is NormLayer
    assert mlp is not None and mlp.formula is None  # another constructor: not the catalog's
    assert head is not None and head.formula is None
    assert target.layer("NormLayer", {"hidden_size": 8}).parameter_count() == 8
    assert target.layer("MLPLayer", {"hidden_size": 8}) is None
    assert target.get("GatedMLPLayer") is None
