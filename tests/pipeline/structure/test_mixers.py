"""Mixer rules: layers declared linear attention, delta-rule attention, short convolutions."""

from __future__ import annotations

from .conftest import HEAD_DIM, LLAMA_LIKE, H, build, entries, no_unknown


def test_layers_declared_linear_attention_are_linear_attention() -> None:
    layer_types = ["linear_attention", "full_attention", "linear_attention"]
    sizes = {**LLAMA_LIKE, "num_hidden_layers": 3, "head_dim": HEAD_DIM, "layer_types": layer_types}
    found = entries(build("minimax", **sizes, num_local_experts=4, num_experts_per_tok=2))
    linear = found["linear_attention"]
    assert (linear.gap_kind, linear.count, linear.layer_indices) == ("linear_attention", 2, (0, 2))
    assert linear.specs["delta_rule"] is False and linear.specs["output_gate"] is True
    assert found["attention"].supported and found["attention"].layer_indices == (1,)


def test_kimi_delta_attention_is_a_delta_rule_linear_attention() -> None:
    sizes = {**LLAMA_LIKE, "head_dim": HEAD_DIM, "pad_token_id": 0}
    moe = {"moe_intermediate_size": 32, "num_experts": 4, "num_experts_per_token": 2}
    result = build("kimi_linear", **sizes, **moe)
    linear = entries(result)["linear_attention"]
    assert linear.specs["delta_rule"] and linear.specs["decay_gate"] and linear.specs["conv_kernel"]
    no_unknown(result)


def test_short_convolution_layers() -> None:
    layer_types = ["conv", "full_attention", "conv"]
    sizes = {**LLAMA_LIKE, "num_hidden_layers": 3, "layer_types": layer_types, "pad_token_id": 0}
    found = entries(build("lfm3", **sizes))
    conv = found["short_convolution"]
    kernel = conv.specs["conv_kernel"]
    assert (conv.gap_kind, conv.layer_indices) == ("short_convolution", (0, 2))
    assert conv.parameter_count == 3 * H * H + H * H + H * kernel
