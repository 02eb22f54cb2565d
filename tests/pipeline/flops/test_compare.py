"""The catalog's formulas against FlopCounterMode: matches, windows, gaps, a wrong formula."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import GatedMLPLayer
from harness.pipeline.flops import Status

from ...conftest import TINY_LLAMA
from .conftest import (
    HEAD_DIM,
    HEADS,
    INTER,
    TINY_MISTRAL,
    TINY_QWEN2,
    VOCAB,
    WINDOW,
    H,
    attention_flops,
    build,
    check,
    row,
)


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


def test_bias_gaps_are_not_run_and_biases_add_no_flops(write_config) -> None:
    report = check(build(write_config, TINY_QWEN2))
    assert report.passed
    assert row(report, "attention").pytorch == attention_flops(8, keys=8)  # addmm: matmul only
    bias = row(report, "attention_bias")
    assert (bias.status, bias.catalog) == (Status.NOT_RUN, None)
    assert "elementwise only" in bias.reason


def test_error_wrong_formula_fails_with_the_numbers(
    write_config, monkeypatch: pytest.MonkeyPatch, empty_cache: Path
) -> None:
    """A patched formula is caught; it runs on a cache of its own, never the shared one."""
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
