"""MoE rules: routing biases, stacked 2-D experts, mixtures of attention heads, layer experts."""

from __future__ import annotations

from .conftest import (
    HEAD_DIM,
    HEADS,
    INTER,
    KV_HEADS,
    LAYERS,
    LLAMA_LIKE,
    TEXT_SIZES,
    H,
    V,
    build,
    entries,
    no_unknown,
)


def test_routing_bias_parameters_are_moe_bias_not_unknown() -> None:
    moe = {"moe_intermediate_size": 32, "num_experts": 4, "num_experts_per_tok": 2}
    result = build("laguna", **LLAMA_LIKE, **moe, head_dim=HEAD_DIM)
    found = entries(result)
    assert found["moe"].supported
    assert (found["moe_bias"].gap_kind, found["moe_bias"].parameter_count) == ("moe_bias", 4)
    no_unknown(result)


def test_dbrx_stacked_2d_experts_count_from_the_router_not_the_rows() -> None:
    """DBRX stores each expert weight as one [E * I, H] matrix; E comes from the router."""
    sizes = {
        "d_model": H,
        "n_heads": HEADS,
        "n_layers": LAYERS,
        "vocab_size": V,
        "max_seq_len": 32,
        "attn_config": {"kv_n_heads": KV_HEADS, "rope_theta": 10000.0},
        "ffn_config": {"ffn_hidden_size": INTER, "moe_num_experts": 4, "moe_top_k": 2},
    }
    moe = entries(build("dbrx", **sizes))["moe"]
    assert (moe.class_name, moe.specs["num_experts"], moe.specs["top_k"]) == ("MoELayer", 4, 2)
    assert (moe.specs["intermediate_size"], moe.specs["num_projections"]) == (INTER, 3)


def test_jetmoe_mixture_of_attention_heads_and_moe() -> None:
    sizes = {
        "hidden_size": H,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": 2,
        "kv_channels": HEAD_DIM,
        "intermediate_size": INTER,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
        "vocab_size": V,
    }
    result = build("jetmoe", **sizes)
    found = entries(result)
    moa = found["mixture_of_attention"]
    assert (moa.gap_kind, moa.specs["num_experts"], moa.specs["top_k"]) == (
        "mixture_of_attention_heads",
        4,
        2,
    )
    assert found["moe"].class_name == "MoELayer" and found["moe"].specs["num_experts"] == 4
    no_unknown(result)


def test_a_router_and_experts_directly_in_the_decoder_layer_are_one_moe() -> None:
    """Gemma 4's MoE layers keep `router` and `experts` beside the dense `mlp`."""
    sizes = {
        **TEXT_SIZES,
        "hidden_size_per_layer_input": 0,
        "vocab_size_per_layer_input": V,
        "enable_moe_block": True,
        "num_experts": 4,
        "top_k_experts": 2,
        "moe_intermediate_size": 32,
        "global_head_dim": 2 * HEAD_DIM,
        "layer_types": ["sliding_attention", "full_attention"],
    }
    result = build("gemma4_text", **sizes)
    moe = entries(result)["moe"]
    assert (moe.class_name, moe.count, moe.specs["num_experts"]) == ("MoELayer", LAYERS, 4)
    assert entries(result)["moe_router_extras"].gap_kind == "moe_router_extras"
    assert result.config["findings"] == []  # full-attention layers' own head width is read
    no_unknown(result)
