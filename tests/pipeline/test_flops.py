"""Tests for harness.pipeline.flops: the catalog's FLOP convention against FlopCounterMode."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from harness.api import build_model_config
from harness.catalog import GatedMLPLayer
from harness.pipeline.config import BuildResult
from harness.pipeline.flops import ComponentFlops, FlopsReport, Status, cross_check

from ..conftest import SNAPSHOTS, TINY_LLAMA

pytest_plugins = ["pytester"]

# Tiny sizes shared by the configs below: H=64, h=4, h_kv=2, d_h=16, I=128, V=256.
H, HEADS, KV_HEADS, HEAD_DIM, INTER, VOCAB = 64, 4, 2, 16, 128, 256
D_Q, D_KV = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
WINDOW = 16
TINY_MISTRAL = {
    **TINY_LLAMA,
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "sliding_window": WINDOW,
}
TINY_MIXTRAL = {
    **TINY_LLAMA,
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
}
TINY_QWEN2 = {**TINY_LLAMA, "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}


def attention_flops(tokens: int, keys: int, batch: int = 1) -> int:
    """The convention by hand: Q, K, V, O projections, then QKᵀ and PV over all h heads."""
    projections = 2 * tokens * H * (D_Q + 2 * D_KV) + 2 * tokens * D_Q * H
    return projections + 2 * (2 * tokens * keys * HEADS * HEAD_DIM)


def build(write_config, config: dict, name: str = "model") -> BuildResult:
    return build_model_config(str(write_config(config, name)), offline=True)


def check(result: BuildResult, **options) -> FlopsReport:
    return cross_check(result.inspection.resolved, result.entries, **options)


def row(report: FlopsReport, name: str, phase: str = "prefill") -> ComponentFlops:
    return next(c for c in report.components if c.name == name and c.phase == phase)


def test_tiny_llama_matches_the_convention(write_config) -> None:
    report = check(build(write_config, TINY_LLAMA))
    tokens = 8
    assert (report.batch_size, report.seq_len, report.decode_context) == (1, tokens, None)
    assert report.attn_implementation == "eager"
    assert report.passed and not report.not_run
    expected = {
        "embedding": 0,
        "attention": attention_flops(tokens, keys=tokens),
        "mlp": 2 * tokens * 3 * H * INTER,
        "norm": 0,
        "lm_head": 2 * tokens * H * VOCAB,
        "unattributed": 0,
    }
    assert {c.name: (c.catalog, c.pytorch) for c in report.components} == {
        name: (flops, flops) for name, flops in expected.items()
    }
    assert row(report, "attention").module == "model.layers.0.self_attn"


def test_only_the_layers_compared_are_built(write_config) -> None:
    deep = check(build(write_config, TINY_LLAMA))
    assert deep.layers_built == 1  # two layers of one kind: the first is enough
    single = check(build(write_config, {**TINY_LLAMA, "num_hidden_layers": 1}, name="one"))
    assert single.layers_built is None
    assert [c.pytorch for c in single.components] == [c.pytorch for c in deep.components]


def test_a_cut_build_that_differs_from_the_entries_is_not_used(write_config) -> None:
    result = build(write_config, TINY_LLAMA)
    entries = list(result.entries)
    index = next(i for i, e in enumerate(entries) if e.name == "attention")
    tensors = entries[index].example_tensors
    wrong = replace(tensors[0], shape=(1, 1))
    entries[index] = replace(entries[index], example_tensors=(wrong, *tensors[1:]))
    assert cross_check(result.inspection.resolved, entries).layers_built is None


def test_sliding_window_prefill_at_the_window_then_decode_past_it(write_config) -> None:
    report = check(build(write_config, TINY_MISTRAL))
    assert (report.seq_len, report.decode_context) == (WINDOW, WINDOW + 1)
    assert report.passed
    prefill, decode = row(report, "attention"), row(report, "attention", "decode")
    assert prefill.pytorch == prefill.catalog == attention_flops(WINDOW, keys=WINDOW)
    # the decode token attends W keys, not the W + 1 of its context: the cap binds
    assert decode.pytorch == decode.catalog == attention_flops(1, keys=WINDOW)
    assert decode.catalog != attention_flops(1, keys=WINDOW + 1)
    assert row(report, "lm_head", "decode").pytorch == 2 * H * VOCAB


def test_prefill_past_the_window_is_the_documented_departure(write_config) -> None:
    seq = WINDOW + 4
    report = check(build(write_config, TINY_MISTRAL), seq_len=seq)
    attention = row(report, "attention")
    assert attention.status is Status.MISMATCH
    # PyTorch scores the whole masked S x S block; the catalog the S x W band
    assert attention.catalog == attention_flops(seq, keys=WINDOW)
    assert attention.difference == 2 * (2 * seq * (seq - WINDOW) * HEADS * HEAD_DIM)


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


def test_bias_gaps_are_not_run_and_biases_add_no_flops(write_config) -> None:
    report = check(build(write_config, TINY_QWEN2))
    assert report.passed
    assert row(report, "attention").pytorch == attention_flops(8, keys=8)  # addmm: matmul only
    bias = row(report, "attention_bias")
    assert (bias.status, bias.catalog) == (Status.NOT_RUN, None)
    assert "elementwise only" in bias.reason


def test_error_wrong_formula_fails_with_the_numbers(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = build(write_config, TINY_LLAMA)
    right = GatedMLPLayer.flops

    def one_gemm_too_many(self: GatedMLPLayer, batch_size: int, seq_len: int, **kw) -> int:
        extra = 2 * batch_size * seq_len * self.hidden_size * self.intermediate_size
        return right(self, batch_size, seq_len, **kw) + extra

    monkeypatch.setattr(GatedMLPLayer, "flops", one_gemm_too_many)
    report = check(result)
    assert not report.passed
    assert [(c.name, c.difference) for c in report.mismatches] == [("mlp", -2 * 8 * H * INTER)]
    message = report.failure_message()
    assert message.splitlines()[0] == (
        f"{result.inspection.resolved.model}: 1 FLOP count of the catalog disagrees with "
        "PyTorch's FlopCounterMode (B=1, S=8, eager attention, first 1 decoder layers built):"
    )
    mlp = next(line for line in message.splitlines() if line.startswith("mlp "))
    assert mlp.split() == [
        "mlp", "GatedMLPLayer", "prefill", "model.layers.0.mlp",
        "524,288", "393,216", "-131,072", "mismatch",
    ]  # fmt: skip
    assert "PyTorch - catalog = -131,072 = 2·T·H x -128: the formula has an extra GEMM" in message
    assert message.splitlines()[-1].startswith("How to read it:")


def test_report_round_trips_through_json(write_config) -> None:
    report = check(build(write_config, TINY_MISTRAL))
    again = FlopsReport.from_dict(json.loads(json.dumps(report.as_dict())))
    assert again == report
    assert again.components[0].status is Status.MATCH


CASE = """
from harness import ModelCase

CASE = ModelCase(hf_id="{hf_id}", revision=None, facts={{}})
"""

FAIL_GATED_MLP = """
from harness.catalog import GatedMLPLayer

_right = GatedMLPLayer.flops


def _wrong(self, batch_size, seq_len, **kw):
    return _right(self, batch_size, seq_len, **kw) + 1


GatedMLPLayer.flops = _wrong
"""


def test_plugin_fails_a_mismatch_and_lists_what_it_did_not_compare(
    pytester: pytest.Pytester,
) -> None:
    for hf_id, name in (("openai-community/gpt2", "gpt2"), ("meta-llama/Llama-3.2-1B", "llama")):
        shutil.copytree(SNAPSHOTS / hf_id, pytester.path / "cases" / "configs" / hf_id)
        (pytester.path / "cases" / f"test_{name}.py").write_text(CASE.format(hf_id=hf_id))
    Path(pytester.path / "conftest.py").write_text(FAIL_GATED_MLP)
    pytester.makeini("[pytest]\ntestpaths = cases\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "flops_match")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*meta-llama/Llama-3.2-1B: 1 FLOP count of the catalog disagrees with PyTorch's*",
            "mlp * GatedMLPLayer * prefill * model.layers.0.mlp * mismatch",
            "*PyTorch - catalog = -1*",
            "*How to read it:*",
            "*FLOPs cross-check: entries not compared*",
            "cases/test_gpt2.py::flops_match",
            "  mlp_bias (MLPBiasLayer, prefill): gap mlp_bias, no class formula; elementwise only*",
            "*FAILED cases/test_llama.py::flops_match*",
        ]
    )
