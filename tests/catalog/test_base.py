"""The Layer interface: weight bytes, argument checks, parallelism, Mantile's method names."""

from __future__ import annotations

from enum import Enum

import pytest

from harness.catalog import (
    AttentionLayer,
    EmbeddingLayer,
    GatedMLPLayer,
    GroupedQueryAttentionLayer,
    MLPLayer,
    MoELayer,
    NormLayer,
    Phase,
)
from harness.errors import CatalogError, HarnessError

from .conftest import BF16, llama70b_gqa, small_gqa, small_moe, small_swa


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


def test_weight_bytes_follow_dtype() -> None:
    assert NormLayer(0, 1024, "mxfp4").weight_bytes() == 1024 * 4.25 / 8


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
