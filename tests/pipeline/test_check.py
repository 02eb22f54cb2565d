"""Filling claims: the scope of a count (input embedding, LM head, tied weights, routed experts),
the hints of a failing claim, the validate table and inspect's active parameters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.api import build_model_config
from harness.cli import main, validation_table
from harness.pipeline.cases import Claim, Fact
from harness.pipeline.check import FactStatus, check_fact, parameter_scope
from harness.pipeline.config import BuildResult

from ..conftest import TINY_LLAMA

TINY_MOE = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 1024,
    "tie_word_embeddings": False,
}
EMBEDDING = 1024 * 64
EXPERT = 3 * 64 * 96  # gate, up and down projections of one expert


@pytest.fixture(scope="module")
def moe(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    path = tmp_path_factory.mktemp("moe") / "config.json"
    path.write_text(json.dumps(TINY_MOE))
    return build_model_config(str(path), offline=True, use_cache=False)


def test_scope_names_the_parts_published_counts_differ_on(moe: BuildResult) -> None:
    scope = parameter_scope(moe)
    assert (scope.total, scope.input_embedding, scope.lm_head, scope.tied) == (
        moe.config["total_params"],
        EMBEDDING,
        EMBEDDING,
        False,
    )
    assert scope.skipped_experts == 2 * (4 - 2) * EXPERT  # two layers, two experts skipped each
    assert scope.active == moe.config["active_params"] == scope.total - scope.skipped_experts
    assert scope.active_without_input_embedding == scope.active - EMBEDDING


def test_failing_claim_shows_the_parts_and_the_expected_difference_that_states_it(
    moe: BuildResult,
) -> None:
    """A card that leaves the input embedding out of `active`: the hint gives the exact fix."""
    scope = parameter_scope(moe)
    assert scope.active is not None
    card = scope.active - EMBEDDING
    failed = check_fact(
        "active_params", Claim(card, scope="activated", source="card"), scope.active, scope
    )
    assert failed.status == "fail"
    assert f"input embedding {EMBEDDING:,}, LM head {EMBEDDING:,}" in failed.message
    assert f"routed experts a token skips {scope.skipped_experts:,}" in failed.message
    assert f"without the input embedding: {card:,} (+0.000% vs published)" in failed.message
    assert f"expected_difference={-EMBEDDING:_}" in failed.message

    fixed = Claim(
        card,
        scope="activated",
        source="card",
        expected_difference=-EMBEDDING,
        reason="the card does not count the input embedding as active",
    )
    assert check_fact("active_params", fixed, scope.active, scope).status == "expected-deviation"


def test_passing_claim_and_structural_fact_carry_no_hint(moe: BuildResult) -> None:
    scope = parameter_scope(moe)
    passed = check_fact("total_params", Claim(scope.total, source="card"), scope.total, scope)
    assert passed.status == "pass" and "dry run counts" not in passed.message


def test_todo_claim_lists_the_scopes_to_match(moe: BuildResult) -> None:
    scope = parameter_scope(moe)
    todo = check_fact("total_params", Claim(None, source="TODO"), scope.total, scope)
    assert todo.status == "fail"
    assert f"without the input embedding: {scope.total - EMBEDDING:,}" in todo.message


def test_a_tied_model_offers_the_head_stored_twice(write_config) -> None:
    tied = build_model_config(str(write_config(dict(TINY_LLAMA, tie_word_embeddings=True))))
    scope = parameter_scope(tied)
    assert (scope.tied, scope.lm_head) == (True, 0)
    assert ("with the tied embedding stored twice", scope.total + 256 * 64) in scope.alternatives(
        "total_params"
    )
    assert "LM head 0 (tied to the input embedding)" in scope.breakdown()


def test_validate_table_labels_its_columns_and_says_what_difference_is(moe: BuildResult) -> None:
    scope = parameter_scope(moe)
    claim = Claim(scope.total + 1_000, source="card", expected_difference=1_000, reason="stored")
    lines = validation_table([check_fact("total_params", claim, scope.total, scope)])
    labels = "fact|published|stated difference|dry run|difference*|tolerance|status|source"
    assert re.split(r"\s{2,}", lines[0].strip()) == labels.split("|")
    assert "+1,000" in lines[1] and "+0.000%" in lines[1] and "1.00%" in lines[1]
    assert lines[-1].startswith("* difference = (dry run - (published - stated difference))")


def test_inspect_prints_active_parameters_for_moe_only(
    tmp_path: Path, write_config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(write_config(TINY_MOE, "moe"))]) == 0
    out = capsys.readouterr().out
    assert "active/token: " in out and "without the input embedding" in out
    assert main(["inspect", str(write_config(TINY_MOE, "moe")), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["active_params"] - summary["active_params_without_input_embedding"] == EMBEDDING
    assert main(["inspect", str(write_config(TINY_LLAMA, "dense"))]) == 0
    assert "active/token" not in capsys.readouterr().out


def test_a_fact_status_is_the_enum_and_its_row_the_plain_word() -> None:
    result = check_fact("num_layers", Fact(2, source="card"), 3)
    assert result.status is FactStatus.FAIL and not result.passed
    assert result.as_json()["status"] == "fail" and type(result.as_json()["status"]) is str
