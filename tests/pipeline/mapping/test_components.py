"""Components mapped: Llama's entries, Gemma 2's norms, hybrid mixers, findings."""

from __future__ import annotations

import dataclasses

from harness.api import inspect_model_structure
from harness.pipeline.structure import analyze_layer_structure

from ..conftest import built
from .conftest import entry


def test_llama_70b_entries() -> None:
    result = built("meta-llama/Llama-3.3-70B-Instruct")
    summary = {
        e["name"]: (e["class"], e["count"], e["specs"]["parameter_count"])
        for e in result.config["layer_types"]
    }
    assert summary == {
        "embedding": ("EmbeddingLayer", 1, 1_050_673_152),
        "attention": ("GroupedQueryAttentionLayer", 80, 150_994_944),
        "mlp": ("GatedMLPLayer", 80, 704_643_072),
        "norm": ("NormLayer", 161, 8_192),
        "lm_head": ("MLPLayer", 1, 1_050_673_152),
    }
    head = entry(result, "lm_head")
    assert (head["stand_in_for"], head["specs"]["intermediate_size"]) == ("lm_head", 128_256 // 2)
    assert result.config["unsupported_layer_types"] == []
    assert result.config["model_id"] == "meta-llama_Llama-3.3-70B-Instruct"


def test_gemma2_counts_four_norms_per_layer_and_tied_head() -> None:
    result = built("google/gemma-2-9b")
    assert entry(result, "norm")["count"] == 4 * 42 + 1
    head = entry(result, "lm_head")
    assert head["specs"]["tied"] is True and head["specs"]["parameter_count"] == 0


def test_hybrid_models_list_their_mixers() -> None:
    jamba = built("ai21labs/Jamba-v0.1")
    assert entry(jamba, "mamba_mixer")["count"] == 28
    assert entry(jamba, "attention")["layer_indices"] == [4, 12, 20, 28]
    assert entry(jamba, "moe")["count"] == 16
    nxt = built("Qwen/Qwen3-Next-80B-A3B-Instruct")
    assert entry(nxt, "gated_delta_net")["count"] == 36
    assert entry(nxt, "attention_output_gate")["gap_kind"] == "gated_attention"
    assert entry(nxt, "shared_expert_gate")["specs"]["parameter_count"] == 2048


def test_disagreement_between_config_and_shapes_is_reported() -> None:
    inspection = inspect_model_structure("meta-llama/Llama-3.1-8B-Instruct")
    lying = dataclasses.replace(inspection, config=dict(inspection.config, num_key_value_heads=4))
    findings = analyze_layer_structure(lying).findings
    assert findings and "num_kv_heads: config says 4" in findings[0].message
    assert "gives 8" in findings[0].message
