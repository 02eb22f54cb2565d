"""The pass on meta: batched and gathered experts, routing that fails on meta."""

from __future__ import annotations

from harness.pipeline.flops import Status

from .conftest import HEADS, INTER, KV_HEADS, TINY_MIXTRAL, VOCAB, H, build, check, row


def test_moe_with_batched_experts_matches(write_config) -> None:
    report = check(build(write_config, TINY_MIXTRAL))
    assert report.experts_implementation == "batched_mm"
    assert report.passed and not report.not_run
    tokens, experts, top_k = 8, 4, 2
    moe = row(report, "moe")
    assert moe.pytorch == 2 * tokens * H * experts + 2 * tokens * top_k * 3 * H * INTER


def test_stacked_2d_experts_run_as_gathered_matmuls_and_match(write_config) -> None:
    """DBRX's experts cannot switch to batched_mm; gathered per token they give its GEMMs."""
    experts, top_k, tokens = 4, 2, 8
    tiny_dbrx = {
        "architectures": ["DbrxForCausalLM"],
        "model_type": "dbrx",
        "d_model": H,
        "n_heads": HEADS,
        "n_layers": 1,
        "max_seq_len": 64,
        "vocab_size": VOCAB,
        "attn_config": {"kv_n_heads": KV_HEADS, "clip_qkv": 8.0, "rope_theta": 10000.0},
        "ffn_config": {"ffn_hidden_size": INTER, "moe_num_experts": experts, "moe_top_k": top_k},
        "tie_word_embeddings": False,
    }
    result = build(write_config, tiny_dbrx, "dbrx")
    report = check(result)
    assert report.experts_implementation == "gathered (stacked 2-D experts)"
    assert report.passed and not report.not_run
    moe = row(report, "moe")
    assert moe.pytorch == 2 * tokens * H * experts + 2 * tokens * top_k * 3 * H * INTER
    own = check(result, experts_implementation="eager")  # the model's own loop: nonzero on meta
    assert row(own, "moe").status is Status.FAILED


def test_moe_routing_that_fails_on_meta_fails_the_check_with_the_exception(write_config) -> None:
    report = check(build(write_config, TINY_MIXTRAL), experts_implementation="eager")
    assert not report.passed and not report.mismatches  # nothing disagrees, but ...
    moe = row(report, "moe")  # ... the MoE block, which has a formula, was never measured
    assert moe.status is Status.FAILED and moe.pytorch is None
    assert moe.reason.startswith(
        "the forward pass on meta failed inside model.layers.0.mlp.experts: NotImplementedError"
    )
    assert row(report, "attention").status is Status.MATCH  # it ran before the MoE block
    lm_head = row(report, "lm_head")
    assert lm_head.status is Status.FAILED
    assert lm_head.reason.startswith("the forward pass on meta stopped before")
    assert [r.name for r in report.failed] == ["moe", "lm_head", "unattributed"]
    message = report.failure_message()
    assert "3 entries with a class formula could not be measured" in message
    assert "NotImplementedError" in message
