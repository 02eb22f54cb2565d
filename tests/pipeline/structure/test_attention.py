"""Attention rules: cross-attention, output gates, differential lambdas, per-layer heads."""

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
)


def test_cross_attention_is_its_own_gap_and_self_attention_stays_supported() -> None:
    sizes = {
        "d_model": H,
        "encoder_ffn_dim": INTER,
        "decoder_ffn_dim": INTER,
        "encoder_layers": 1,
        "decoder_layers": LAYERS,
        "encoder_attention_heads": HEADS,
        "decoder_attention_heads": HEADS,
        "vocab_size": V,
        "max_position_embeddings": 32,
    }
    found = entries(build("bart", **sizes))
    cross = found["cross_attention"]
    assert (cross.class_name, cross.gap_kind, cross.count) == (
        "CrossAttentionLayer",
        "cross_attention",
        LAYERS,
    )
    assert cross.parameter_count == 4 * H * H + 4 * H
    assert (cross.specs["num_heads"], cross.specs["head_dim"]) == (HEADS, H // HEADS)
    assert found["attention"].supported and found["attention"].count == LAYERS


def test_separate_output_gate_projections_elementwise_and_headwise() -> None:
    moe = {"moe_intermediate_size": 32, "num_experts": 4, "num_experts_per_tok": 2}
    elementwise = entries(build("afmoe", **LLAMA_LIKE, **moe, head_dim=HEAD_DIM))
    gate = elementwise["attention_output_gate"]
    assert gate.gap_kind == "gated_attention" and "gate_width" not in gate.specs
    assert gate.parameter_count == HEADS * HEAD_DIM * H
    headwise = entries(build("laguna", **LLAMA_LIKE, **moe, head_dim=HEAD_DIM))
    gate = headwise["attention_output_gate"]
    assert gate.specs["gate_width"] == HEADS and gate.parameter_count == HEADS * H
    assert headwise["attention"].class_name == "GroupedQueryAttentionLayer"


def test_differential_attention_lambdas() -> None:
    sizes = {**LLAMA_LIKE, "num_key_value_heads": HEADS}
    found = entries(build("diffllama", **sizes))
    lambdas = found["differential_attention"]
    assert lambdas.parameter_count == 4 * (H // HEADS) and lambdas.count == LAYERS
    assert found["attention"].class_name == "AttentionLayer"


def test_heads_per_layer_and_a_value_head_width_of_its_own_raise_no_findings() -> None:
    laguna = build("laguna", **TEXT_SIZES, num_attention_heads_per_layer=[4, 8])
    assert laguna.config["findings"] == []
    heads = {
        e.specs.get("num_query_heads", e.specs.get("num_heads"))
        for e in laguna.entries
        if e.name.startswith("attention")
    }
    assert heads == {4, 8}
    mimo = build(
        "mimo_v2_flash",
        **TEXT_SIZES,
        v_head_dim=8,
        layer_types=["full_attention", "sliding_attention"],
        swa_num_key_value_heads=2 * KV_HEADS,
    )
    assert mimo.config["findings"] == []
    # value heads 8 wide and q/k heads 16: no catalog class, read exactly as a gap
    attention = [e for e in mimo.entries if e.gap_kind == "nonstandard_attention"]
    assert len(attention) == 2 and {e.specs["v_head_dim"] for e in attention} == {8}


def test_error_a_real_disagreement_still_raises_a_finding() -> None:
    """Without the swa_ key the config says 2 KV heads where the sliding layers have 4."""
    mimo = build(
        "mimo_v2_flash",
        **TEXT_SIZES,
        v_head_dim=8,
        layer_types=["full_attention", "sliding_attention"],
    )
    assert mimo.config["findings"] == [
        "mismatch: model.layers.1.self_attn: num_kv_heads: config says 2, k projection width "
        "64 / head_dim 16 gives 4"
    ]
