"""Modules outside the layers: BERT's embeddings and head, head biases, projections."""

from __future__ import annotations

from .conftest import (
    BERT_LIKE,
    HEAD_DIM,
    HEADS,
    INTER,
    LAYERS,
    LLAMA_LIKE,
    H,
    V,
    build,
    entries,
    no_unknown,
    tiny_config,
)


def test_bert_layout_attention_mlp_norms_token_types_and_head() -> None:
    result = build("bert", **BERT_LIKE)
    found = entries(result)
    assert found["attention"].supported and found["attention"].parameter_count == 4 * H * H + 4 * H
    assert (found["mlp"].class_name, found["mlp"].parameter_count) == ("MLPLayer", 2 * H * INTER)
    # attention.output.LayerNorm and output.LayerNorm per layer, the embeddings' and the head's
    assert found["norm"].count == 2 * LAYERS + 2
    token_types = found["token_type_embedding"]
    assert (token_types.class_name, token_types.specs["vocab_size"]) == ("EmbeddingLayer", 2)
    transform = found["lm_head_transform"]
    assert (transform.gap_kind, transform.parameter_count) == ("lm_head_transform", H * H + H)
    head = found["lm_head"]
    assert head.specs["tied"] is True and head.parameter_count == V  # only the output bias
    no_unknown(result)


def test_roberta_head_bias_beside_the_tied_decoder_belongs_to_the_head() -> None:
    result = build("roberta", **BERT_LIKE)
    head = entries(result)["lm_head"]
    assert head.specs["tied"] is True and head.parameter_count == V
    no_unknown(result)


def test_factorised_embedding_projection_is_a_gap() -> None:
    embedding = 32
    found = entries(build("electra", **BERT_LIKE, embedding_size=embedding))
    assert found["embedding"].specs["hidden_size"] == embedding
    projection = found["embedding_projection"]
    assert projection.gap_kind == "embedding_projection"
    assert projection.parameter_count == embedding * H + H
    assert found["mlp"].supported and found["mlp"].specs["hidden_size"] == H


def test_hyper_connections_around_sublayers_and_before_the_head() -> None:
    sizes = {
        "hidden_size": H,
        "moe_intermediate_size": 32,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "vocab_size": V,
        "n_routed_experts": 4,
        "num_experts_per_tok": 2,
        "head_dim": 32,
        "q_lora_rank": 16,
        "o_lora_rank": 16,
        "qk_rope_head_dim": 8,
        "index_n_heads": 2,
        "index_head_dim": 16,
    }
    config = tiny_config("deepseek_v4", **sizes)
    streams = config["hc_mult"]
    found = entries(build("deepseek_v4", **sizes))
    mixes = (2 + streams) * streams
    for name in ("attn_hc", "ffn_hc"):
        assert (found[name].gap_kind, found[name].count) == ("hyper_connections", LAYERS)
        assert found[name].parameter_count == mixes * streams * H + mixes + 3
    assert found["hc_head"].parameter_count == streams * streams * H + streams + 1
    assert found["attn_hc"].specs["expansion_rate"] == streams


def test_per_layer_input_embeddings_are_their_own_gap() -> None:
    per_layer = 8
    sizes = {**LLAMA_LIKE, "head_dim": HEAD_DIM, "hidden_size_per_layer_input": per_layer}
    found = entries(build("gemma4_text", **sizes, vocab_size_per_layer_input=V))
    table = found["embed_tokens_per_layer"]
    assert table.gap_kind == "per_layer_embedding"
    assert table.parameter_count == V * LAYERS * per_layer
    assert found["per_layer_model_projection"].parameter_count == LAYERS * per_layer * H
    for name in ("per_layer_input_gate", "per_layer_projection"):
        assert (found[name].count, found[name].parameter_count) == (LAYERS, per_layer * H)
