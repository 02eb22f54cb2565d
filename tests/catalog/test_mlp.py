"""MLP classes: parameters and FLOPs."""

from __future__ import annotations

from harness.catalog import (
    AttentionLayer,
    GatedMLPLayer,
    MLPLayer,
)

from .conftest import BF16


def test_mha_and_plain_mlp_parameter_counts() -> None:
    assert AttentionLayer(0, 4096, 32, 128, BF16).parameter_count() == 4 * 4096**2
    assert MLPLayer(0, 768, 3072, BF16).parameter_count() == 2 * 768 * 3072
    assert MLPLayer(0, 768, 3072, BF16, num_projections=3).parameter_count() == 3 * 768 * 3072


def test_mlp_flops_prefill_and_decode() -> None:
    # prefill B=2, S=3, T=6: 2·T·p·H·I = 2·6·2·4·6 = 576; decode B=5: 2·5·2·4·6 = 480
    mlp = MLPLayer(0, 4, 6, BF16)
    assert mlp.flops(2, 3) == 576
    assert mlp.flops(5, 1, phase="decode") == 480
    # gated: 2·6·3·4·6 = 864 and 2·5·3·4·6 = 720; context_len does not matter
    gated = GatedMLPLayer(0, 4, 6, BF16)
    assert gated.flops(2, 3) == 864
    assert gated.flops(5, 1, phase="decode", context_len=999) == 720
