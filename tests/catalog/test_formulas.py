"""Reference formulas per gap kind, exact stand-ins, and the estimate coverage built on them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import GroupedQueryAttentionLayer, layer_set
from harness.catalog import formulas as gap_formulas
from harness.catalog.formulas import GAP_FORMULAS, Step, exact_stand_in, formula_for
from harness.catalog.registry import proposed_classes
from harness.pipeline.estimate import DECODE_CONTEXT, PREFILL_TOKENS, Share, estimate_coverage
from harness.pipeline.mapping import LayerEntry


def head(vocab: int, hidden: int = 4096, *, tied: bool = False, bias: bool = False) -> dict:
    return {"vocab_size": vocab, "hidden_size": hidden, "tied": tied, "has_bias": bias}


@pytest.mark.parametrize(
    ("vocab", "expected"),
    [
        (128_256, ("MLPLayer", {"hidden_size": 4096, "intermediate_size": 64_128,
                                "num_projections": 2})),
        (49_155, ("GatedMLPLayer", {"hidden_size": 4096, "intermediate_size": 16_385})),
        (50_257, None),  # odd and not divisible by 3
    ],
)  # fmt: skip
def test_untied_head_stand_in(vocab: int, expected: tuple[str, dict] | None) -> None:
    found = exact_stand_in("lm_head", head(vocab), layer_set())
    assert (found.class_name, found.specs) == expected if found else expected is None


@pytest.mark.parametrize("specs", [head(128_256, tied=True), head(128_256, bias=True)])
def test_tied_or_biased_head_has_no_stand_in(specs: dict) -> None:
    """No class has FLOPs without weights (tied); no MLP has the head's V bias values."""
    assert exact_stand_in("lm_head", specs, layer_set()) is None


@pytest.mark.parametrize(
    "wrong",
    [
        ("MLPLayer", {"hidden_size": 4096, "intermediate_size": 64_128, "num_projections": 3}),
        ("MLPLayer", {"hidden_size": 4096, "intermediate_size": 128_256 // 4,
                      "num_projections": 2}),
        ("GroupedQueryAttentionLayer", {"hidden_size": 4096, "num_heads": 32,
                                        "num_kv_heads": 8, "head_dim": 128}),
    ],
)  # fmt: skip
def test_a_candidate_that_is_not_exact_is_refused(
    monkeypatch: pytest.MonkeyPatch, wrong: tuple[str, dict]
) -> None:
    """The proof compares parameters, bytes, FLOPs and KV: a near miss never stands in."""
    record = dataclasses.replace(GAP_FORMULAS["lm_head"], stand_ins=lambda specs: [wrong])
    monkeypatch.setitem(GAP_FORMULAS, "lm_head", record)
    assert exact_stand_in("lm_head", head(128_256), layer_set()) is None


def test_no_stand_in_when_the_target_lacks_the_class(tmp_path: Path) -> None:
    (tmp_path / "layers.py").write_text(
        "class NormLayer:\n"
        "    def __init__(self, layer_idx, hidden_size, dtype, has_bias=False, parallelism=None):\n"
        "        pass\n"
    )
    assert exact_stand_in("lm_head", head(128_256), layer_set(tmp_path)) is None


def test_kinds_without_stand_ins_or_formulas() -> None:
    assert exact_stand_in("attention_sinks", {"num_heads": 64}, layer_set()) is None
    assert exact_stand_in("unknown", {}, layer_set()) is None
    assert formula_for("unknown") is None and formula_for(None) is None


def test_mla_formulas_of_deepseek_v3_specs() -> None:
    specs = {
        "hidden_size": 7168, "num_heads": 128, "q_lora_rank": 1536, "kv_lora_rank": 512,
        "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
    }  # fmt: skip
    mla = GAP_FORMULAS["multi_head_latent_attention"]
    assert mla.cache_bytes is not None and mla.flops is not None
    assert mla.cache_bytes(specs, 1, 1, 2.0) == (512 + 64) * 2
    one = mla.flops(specs, Step.prefill(1, 1))
    two = mla.flops(specs, Step.prefill(2, 1))
    assert one is not None and two == 2 * one  # linear in sequences
    decode = mla.flops(specs, Step.decode(1, 4096))
    assert decode is not None and decode > one  # the latent cache is read per key


def test_every_record_names_a_kind_the_mapper_emits() -> None:
    assert set(GAP_FORMULAS) <= set(proposed_classes())


def test_skeleton_tolerances_are_stated() -> None:
    assert 0 < gap_formulas.FLOPS_TOLERANCE < 0.1 and gap_formulas.ELEMENTWISE_OPS_PER_VALUE > 0


# --------------------------------------------------------------------------- estimate coverage


def _entry(name: str, class_name: str, supported: bool, specs: dict[str, Any], **kw: Any):
    return LayerEntry(name, class_name, kw.pop("count", 1), supported, specs, (), **kw)


def test_coverage_of_a_tied_head_counts_its_flops_not_its_parameters() -> None:
    attention_specs = {"hidden_size": 64, "num_heads": 4, "num_kv_heads": 2, "head_dim": 16}
    layer = GroupedQueryAttentionLayer(0, 64, 4, 2, 16, "bf16")
    attention = _entry(
        "attention",
        "GroupedQueryAttentionLayer",
        True,
        {**attention_specs, "parameter_count": layer.parameter_count()},
        count=2,
    )
    tied = _entry(
        "lm_head",
        "LMHeadLayer",
        False,
        {**head(256, 64, tied=True), "parameter_count": 0},
        gap_kind="lm_head",
    )
    coverage = estimate_coverage([attention, tied])
    decode_head = 2 * 64 * 256
    decode_attention = 2 * layer.flops(1, 1, phase="decode", context_len=DECODE_CONTEXT)
    assert coverage.measures["parameters"] == Share(2 * 12_288, 2 * 12_288)
    assert coverage.measures["decode_flops_per_token"] == Share(
        decode_attention, decode_attention + decode_head
    )
    prefill = coverage.measures["prefill_flops"]
    assert prefill.whole - prefill.modelled == PREFILL_TOKENS * decode_head
    assert coverage.measures["kv_cache_bytes"].share == 1.0
    assert [m.label() for m in coverage.missing] == ["lm_head (tied)"]
    assert coverage.summary().startswith("Mantile models 100% of parameters and ")
    assert coverage.summary().endswith("; missing: lm_head (tied)")


def test_coverage_lists_what_no_formula_estimates() -> None:
    unknown = _entry(
        "unknown_block",
        "UnknownLayer",
        False,
        {"module_class": "Fancy", "parameter_count": 10},
        gap_kind="unknown",
    )
    coverage = estimate_coverage([unknown])
    assert coverage.measures["parameters"] == Share(0, 10)
    (missing,) = coverage.not_estimated
    assert missing.name == "unknown_block" and "no formula for prefill_flops" in missing.why
    assert "; not estimated: unknown_block (no formula for" in coverage.summary()


@pytest.mark.parametrize(
    ("modelled", "whole", "text"),
    [(5, 5, "100%"), (0, 5, "0%"), (9999, 10000, ">99.9%"), (1, 10000, "<0.1%"),
     (912, 1000, "91.2%"), (0, 0, "100%")],
)  # fmt: skip
def test_share_percent_is_exact_only_when_exact(modelled: int, whole: int, text: str) -> None:
    assert Share(modelled, whole).percent() == text
