"""Attention mapped: sinks, MLA, q/k norms, biases split off, multi-query from shapes."""

from __future__ import annotations

from ..conftest import built
from .conftest import entry


def test_gpt_oss_120b_attention_and_moe() -> None:
    result = built("openai/gpt-oss-120b")
    sliding, full = entry(result, "attention_sliding"), entry(result, "attention_full")
    assert (sliding["count"], full["count"]) == (18, 18)
    for layer in (sliding, full):
        assert layer["class"] == "SlidingWindowAttentionLayer"
        assert layer["specs"]["head_dim"] == 64 and layer["specs"]["has_bias"] is True
        assert layer["specs"]["parameter_count"] == 26_550_080
    assert sliding["specs"]["sliding_window"] == 128 and full["specs"]["sliding_window"] is None
    assert sliding["layer_indices"] == list(range(0, 36, 2))
    sinks = entry(result, "attention_sinks")
    assert (sinks["count"], sinks["specs"], sinks["supported"]) == (
        36,
        {"num_heads": 64, "parameter_count": 64},
        False,
    )
    moe = entry(result, "moe")
    assert (moe["count"], moe["specs"]["num_experts"], moe["specs"]["top_k"]) == (36, 128, 4)
    assert moe["specs"]["parameter_count"] == 3_186_524_288
    assert result.config["active_params"] < result.config["total_params"]


def test_deepseek_v3_mla_dense_and_moe() -> None:
    result = built("deepseek-ai/DeepSeek-V3")
    attention = entry(result, "attention")
    assert (attention["class"], attention["count"], attention["supported"]) == (
        "MultiHeadLatentAttentionLayer",
        61,
        False,
    )
    assert attention["gap_kind"] == "multi_head_latent_attention"
    assert attention["specs"]["kv_lora_rank"] == 512
    assert (entry(result, "mlp")["count"], entry(result, "mlp")["layer_indices"]) == (3, [0, 1, 2])
    moe = entry(result, "moe")
    assert (
        moe["count"],
        moe["specs"]["num_experts"],
        moe["specs"]["top_k"],
        moe["specs"]["num_shared_experts"],
    ) == (58, 256, 8, 1)


def test_qwen3_qk_norms_are_counted() -> None:
    result = built("Qwen/Qwen3-8B")
    qk = entry(result, "qk_norm")
    assert (qk["count"], qk["specs"]["parameter_count"], qk["gap_kind"]) == (36, 256, "qk_norm")


def test_qwen25_attention_biases_split_off() -> None:
    result = built("Qwen/Qwen2.5-7B-Instruct")
    assert entry(result, "attention")["class"] == "GroupedQueryAttentionLayer"
    bias = entry(result, "attention_bias")
    assert bias["specs"]["parameter_count"] == 3584 + 2 * 512
    assert bias["specs"]["o_bias"] is False


def test_falcon_multi_query_from_shapes() -> None:
    result = built("tiiuae/falcon-7b")
    attention = entry(result, "attention")
    assert attention["specs"]["num_kv_heads"] == 1
    assert result.config["findings"] == []
