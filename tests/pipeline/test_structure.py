"""Structure and mapping rules found by the coverage sweep, each on a tiny config of its model.

Every build here also closes accounting exactly (checked in `build`), so a rule that loses or
double counts a tensor fails whichever test uses it.
"""

from __future__ import annotations

from typing import Any

import pytest
import transformers
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

from harness.catalog.registry import gap_kind
from harness.gaps import generate_gap_files
from harness.pipeline.config import BuildResult, accounting_problems, build_from_inspection
from harness.pipeline.inventory import inspect_config
from harness.pipeline.mapping import LayerEntry

H, INTER, V, HEADS, KV_HEADS, HEAD_DIM, LAYERS = 64, 128, 256, 4, 2, 16, 2
LLAMA_LIKE = {
    "hidden_size": H,
    "intermediate_size": INTER,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": HEADS,
    "num_key_value_heads": KV_HEADS,
    "vocab_size": V,
}
BERT_LIKE = {
    "hidden_size": H,
    "intermediate_size": INTER,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": HEADS,
    "vocab_size": V,
    "max_position_embeddings": 32,
}


def tiny_config(model_type: str, architecture: str | None = None, **sizes: Any) -> dict[str, Any]:
    """A config.json dict of `model_type` with small sizes, naming its causal-LM class."""
    config = transformers.AutoConfig.for_model(model_type, **sizes).to_dict()
    config["architectures"] = [architecture or MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type]]
    return config


def build(model_type: str, **sizes: Any) -> BuildResult:
    """Structure, mapping and config of a tiny model; accounting must close exactly."""
    result = build_from_inspection(inspect_config(tiny_config(model_type, **sizes)))
    assert accounting_problems(result.config, result.inspection.total_params) == []
    return result


def entries(result: BuildResult) -> dict[str, LayerEntry]:
    return {entry.name: entry for entry in result.entries}


def no_unknown(result: BuildResult) -> None:
    assert [e.name for e in result.entries if e.gap_kind == "unknown"] == []


def test_fc1_fc2_blocks_directly_in_the_layer_are_one_mlp() -> None:
    result = build("opt", **{**BERT_LIKE, "ffn_dim": INTER, "word_embed_proj_dim": H})
    found = entries(result)
    assert (found["mlp"].class_name, found["mlp"].count) == ("MLPLayer", LAYERS)
    assert found["mlp"].specs["intermediate_size"] == INTER
    assert found["mlp"].parameter_count == 2 * H * INTER
    assert (found["mlp_bias"].gap_kind, found["mlp_bias"].parameter_count) == (
        "mlp_bias",
        INTER + H,
    )
    no_unknown(result)


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


def test_norms_inside_attention_and_mlp_are_norm_entries() -> None:
    found = entries(build("bitnet", **LLAMA_LIKE))
    # two layer norms per layer, the final norm, and attn_sub_norm (width H) per layer
    assert (found["norm"].count, found["norm"].specs["hidden_size"]) == (3 * LAYERS + 1, H)
    assert (found["norm_2"].count, found["norm_2"].specs["hidden_size"]) == (LAYERS, INTER)
    assert found["attention"].supported and found["mlp"].supported


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


def test_routing_bias_parameters_are_moe_bias_not_unknown() -> None:
    moe = {"moe_intermediate_size": 32, "num_experts": 4, "num_experts_per_tok": 2}
    result = build("laguna", **LLAMA_LIKE, **moe, head_dim=HEAD_DIM)
    found = entries(result)
    assert found["moe"].supported
    assert (found["moe_bias"].gap_kind, found["moe_bias"].parameter_count) == ("moe_bias", 4)
    no_unknown(result)


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


def test_short_convolution_layers() -> None:
    layer_types = ["conv", "full_attention", "conv"]
    sizes = {**LLAMA_LIKE, "num_hidden_layers": 3, "layer_types": layer_types, "pad_token_id": 0}
    found = entries(build("lfm3", **sizes))
    conv = found["short_convolution"]
    kernel = conv.specs["conv_kernel"]
    assert (conv.gap_kind, conv.layer_indices) == ("short_convolution", (0, 2))
    assert conv.parameter_count == 3 * H * H + H * H + H * kernel


def test_differential_attention_lambdas() -> None:
    sizes = {**LLAMA_LIKE, "num_key_value_heads": HEADS}
    found = entries(build("diffllama", **sizes))
    lambdas = found["differential_attention"]
    assert lambdas.parameter_count == 4 * (H // HEADS) and lambdas.count == LAYERS
    assert found["attention"].class_name == "AttentionLayer"


def test_trainable_activation_parameters() -> None:
    result = build("apertus", **LLAMA_LIKE)
    found = entries(result)
    activation = found["mlp_activation"]
    assert (activation.gap_kind, activation.parameter_count) == ("learned_activation", 2)
    assert found["mlp"].supported
    no_unknown(result)


def test_mlp_projections_named_by_position_are_told_apart_by_shape() -> None:
    sizes = {"n_embd": H, "dff": INTER, "n_layer": LAYERS, "n_head": HEADS, "vocab_size": V}
    result = build("ctrl", **sizes, n_positions=32)
    found = entries(result)
    assert (found["mlp"].class_name, found["mlp"].specs["intermediate_size"]) == ("MLPLayer", INTER)
    assert found["lm_head"].parameter_count == V  # tied weight, own bias
    no_unknown(result)


def test_text_stack_keeps_the_language_model_and_head_only() -> None:
    config = tiny_config(
        "llava",
        architecture="LlavaForConditionalGeneration",
        text_config={"model_type": "llama", **LLAMA_LIKE},
        vision_config={
            "model_type": "clip_vision_model",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 16,
        },
    )
    whole = inspect_config(config)
    text = inspect_config(config, text_stack=True)
    assert any("vision_tower" in t.name for t in whole.tensors)
    assert not any("vision_tower" in t.name or "projector" in t.name for t in text.tensors)
    left_out = whole.total_params - text.total_params
    assert left_out > 0 and text.notes[-1].endswith(f"{left_out:,} parameters outside it left out")
    result = build_from_inspection(text)
    assert result.structure.num_layers == LAYERS


@pytest.mark.parametrize("kind", ["cross_attention", "lm_head_transform"])
def test_reports_of_sweep_kinds_render_with_their_references(kind: str) -> None:
    sizes = {
        "d_model": H,
        "decoder_ffn_dim": INTER,
        "decoder_layers": LAYERS,
        "decoder_attention_heads": HEADS,
        "vocab_size": V,
        "max_position_embeddings": 32,
    }
    results = [build("bart", **sizes), build("bert", **BERT_LIKE)]
    text = generate_gap_files(results)[f"{kind}.md"]
    record = gap_kind(kind)
    assert f"- Severity: **{record.severity.value}**" in text and record.references is not None
    for source in (*record.references.vllm, *record.references.sglang):
        assert f"| `{source.path}` | `{source.symbol}` |" in text
    for paper in record.references.papers:
        assert paper.url in text


# --------------------------------------------------------------------------- encoders and MoE


def build_whole(model_type: str, architecture: str, **sizes: Any) -> BuildResult:
    """An image-text model built whole (vision tower and projector included); closes exactly."""
    config = tiny_config(model_type, architecture, **sizes)
    result = build_from_inspection(inspect_config(config))
    assert accounting_problems(result.config, result.inspection.total_params) == []
    return result


TEXT_SIZES = {**LLAMA_LIKE, "head_dim": HEAD_DIM}


def test_a_vision_tower_is_its_own_part_read_from_its_own_config() -> None:
    """Qwen2-VL's `visual.blocks.N` match the layer pattern but are not text layers: the text
    stack keeps its own depth, the vision blocks get the vision config's heads, and their
    entries say they are vision."""
    vision = {"depth": 3, "embed_dim": 32, "num_heads": 2, "hidden_size": H, "mlp_ratio": 2}
    result = build_whole(
        "qwen2_vl",
        "Qwen2VLForConditionalGeneration",
        text_config=TEXT_SIZES,
        vision_config=vision,
    )
    found = entries(result)
    assert result.structure.num_layers == LAYERS and result.config["num_layers"] == LAYERS
    assert result.structure.parts == ("vision",)
    attention = found["vision_attention"]
    assert (attention.count, attention.layer_indices) == (3, (0, 1, 2))
    assert attention.supported and attention.specs["hidden_size"] == 32
    assert found["vision_patch_embedding"].gap_kind == "patch_embedding"
    assert found["vision_projector"].gap_kind == "multimodal_projector"
    assert found["attention"].count == LAYERS  # the text attention, with the text config's heads
    assert result.config["findings"] == []
    text = [c for c in result.structure.components if c.part == "text"]
    assert not any(".visual." in c.path for c in text)
    no_unknown(result)


def test_a_llava_style_tower_and_projector_map_to_classes_or_their_gaps() -> None:
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 28,
        "patch_size": 14,
    }
    result = build_whole(
        "llava", "LlavaForConditionalGeneration", text_config=TEXT_SIZES, vision_config=vision
    )
    found = entries(result)
    assert found["vision_attention"].specs["hidden_size"] == 32
    assert found["vision_mlp"].class_name == "MLPLayer"
    assert found["vision_position_embedding"].class_name == "EmbeddingLayer"
    projector = found["vision_projector"]
    assert projector.specs["in_features"] == 32 and projector.specs["out_features"] == H
    assert result.structure.num_layers == LAYERS
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


def test_a_sparse_attention_indexer_is_its_own_component() -> None:
    sizes = {
        **TEXT_SIZES,
        "num_key_value_heads": HEADS,
        "q_lora_rank": 32,
        "kv_lora_rank": 16,
        "qk_nope_head_dim": 16,
        "qk_rope_head_dim": 8,
        "v_head_dim": 16,
        "index_n_heads": 2,
        "index_head_dim": 16,
        "index_topk": 8,
        "first_k_dense_replace": LAYERS,
    }
    result = build("deepseek_v32", **sizes)
    found = entries(result)
    indexer = found["sparse_attention_indexer"]
    assert (indexer.gap_kind, indexer.count, indexer.specs["num_heads"]) == (
        "sparse_attention_indexer",
        LAYERS,
        2,
    )
    assert found["attention"].gap_kind == "multi_head_latent_attention"
    tensors = {t.name.split(".self_attn.")[1] for t in found["attention"].example_tensors}
    assert not any(name.startswith("indexer.") for name in tensors)
    no_unknown(result)
