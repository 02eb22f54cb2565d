"""Checkpoint summaries (vendored, from a mocked Hub) and their reconciliation with the dry run."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.errors import CaseError, InvalidConfigError
from harness.pipeline.cases import CheckpointClaim, ModelCase
from harness.pipeline.check import check_checkpoint
from harness.pipeline.checkpoint import (
    CheckpointSummary,
    CheckpointUnavailableError,
    StoredTensor,
    expand_tensors,
    group_tensors,
    load_checkpoint_summary,
    read_hub_checkpoint,
    summary_from_headers,
    summary_json,
)
from harness.pipeline.config import build_from_inspection
from harness.pipeline.inventory import Inspection, inspect_config
from harness.pipeline.reconcile import reconcile
from harness.pipeline.storage import storage_plan
from harness.pipeline.structure import analyze_layer_structure

from ..conftest import TINY_LLAMA, vendor_snapshot

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TINY_MIXTRAL = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 256,
    "torch_dtype": "bfloat16",
}
TINY_DEEPSEEK = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "hidden_size": 256,
    "intermediate_size": 512,
    "moe_intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "num_hidden_layers": 3,
    "first_k_dense_replace": 1,
    "n_routed_experts": 4,
    "n_shared_experts": 1,
    "num_experts_per_tok": 2,
    "n_group": 1,
    "topk_group": 1,
    "q_lora_rank": 128,
    "kv_lora_rank": 64,
    "qk_nope_head_dim": 32,
    "qk_rope_head_dim": 16,
    "v_head_dim": 32,
    "vocab_size": 512,
    "num_nextn_predict_layers": 1,
    "torch_dtype": "bfloat16",
    "quantization_config": {"quant_method": "fp8", "weight_block_size": [128, 128]},
}


def _stored_like_the_model(inspection: Inspection, dtype: str = "BF16") -> list[StoredTensor]:
    """Tensor headers as a checkpoint of exactly the built parameters would list them."""
    return [StoredTensor(t.name, dtype, t.shape) for t in inspection.params]


def _llama(**overrides: Any) -> Inspection:
    return inspect_config({**TINY_LLAMA, **overrides}, model="acme/tiny-llama")


# --- the vendored file ---------------------------------------------------------------------


def test_grouped_tensors_round_trip_including_a_set_that_is_no_product() -> None:
    tensors = [
        *(
            StoredTensor(f"model.layers.{i}.mlp.experts.{e}.w1.weight", "BF16", (8, 4))
            for i in range(3)
            for e in range(4)
        ),
        StoredTensor("model.layers.0.extra.weight", "F32", (2,)),
        StoredTensor("model.layers.2.extra.weight", "F32", (2,)),
        StoredTensor("model.layers.1.mixed.0.weight", "BF16", (3,)),
        StoredTensor("model.layers.0.mixed.1.weight", "BF16", (3,)),
        StoredTensor("lm_head.weight", "BF16", (16, 4)),
    ]
    rows = group_tensors(tensors)
    experts = next(row for row in rows if "experts" in row["name"])
    assert experts["index"] == ["0-2", "0-3"], "a full product is stored as ranges"
    mixed = next(row for row in rows if "mixed" in row["name"])
    assert mixed["index_list"] == ["0.1", "1.0"], "a set that is no product is listed"
    assert next(row for row in rows if "extra" in row["name"])["index"] == ["0,2"]
    assert expand_tensors(rows) == tuple(sorted(tensors, key=lambda t: t.name))


def test_summary_file_round_trips_and_refuses_a_hand_edit(tmp_path: Path) -> None:
    tensors = _stored_like_the_model(_llama())
    summary = summary_from_headers("acme/tiny-llama", COMMIT, tensors, source="https://x/tree")
    path = tmp_path / "checkpoint.json"
    path.write_text(summary_json(summary))
    loaded = load_checkpoint_summary(path)
    assert replace(loaded, path=None) == summary
    assert json.loads(path.read_text())["parameters"] == {"BF16": summary.total}
    data = json.loads(path.read_text())
    data["total"] += 1
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidConfigError, match="sha256 field does not match"):
        load_checkpoint_summary(path)


def test_summary_whose_dtype_counts_do_not_add_up_is_refused(tmp_path: Path) -> None:
    bad = CheckpointSummary("acme/x", None, 10, {"BF16": 9}, "recorded-scrape", "https://x")
    path = tmp_path / "checkpoint.json"
    path.write_text(summary_json(bad))
    with pytest.raises(InvalidConfigError, match="add up to 9, not the total 10"):
        load_checkpoint_summary(path)


# --- the Hub, mocked -----------------------------------------------------------------------


def _fake_metadata(tensors: list[StoredTensor]) -> Any:
    infos = {t.name: SimpleNamespace(dtype=t.dtype, shape=list(t.shape)) for t in tensors}
    return SimpleNamespace(files_metadata={"model.safetensors": SimpleNamespace(tensors=infos)})


def test_hub_headers_become_a_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    tensors = _stored_like_the_model(_llama())
    calls: list[tuple[str, str | None]] = []

    def fake(repo_id: str, *, revision: str | None = None, token: Any = None) -> Any:
        calls.append((repo_id, revision))
        return _fake_metadata(tensors)

    monkeypatch.setattr(huggingface_hub, "get_safetensors_metadata", fake)
    summary = read_hub_checkpoint("acme/tiny-llama", COMMIT)
    assert calls == [("acme/tiny-llama", COMMIT)], "read at the pinned revision"
    assert summary.obtained == "safetensors-headers" and summary.has_headers
    assert summary.total == sum(t.numel for t in tensors)


def test_hub_model_info_is_the_fallback_and_errors_carry_no_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import huggingface_hub

    def no_headers(*args: Any, **kwargs: Any) -> Any:
        raise OSError("https://huggingface.co/... Authorization: Bearer hf_secret123")

    info = SimpleNamespace(safetensors=SimpleNamespace(total=30, parameters={"BF16": 30}))
    monkeypatch.setattr(huggingface_hub, "get_safetensors_metadata", no_headers)
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda *a, **k: info)
    summary = read_hub_checkpoint("acme/x", COMMIT)
    assert (summary.total, summary.parameters, summary.obtained) == (
        30,
        {"BF16": 30},
        "hub-model-info",
    )
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", no_headers)
    with pytest.raises(CheckpointUnavailableError) as caught:
        read_hub_checkpoint("acme/x", COMMIT, token="hf_secret123")
    assert "hf_secret123" not in str(caught.value)
    assert "harness checkpoint acme/x" in str(caught.value)


def test_reading_the_hub_needs_a_pinned_revision() -> None:
    with pytest.raises(CheckpointUnavailableError, match="pinned 40-hex commit"):
        read_hub_checkpoint("acme/x", "main")


# --- reconciliation ------------------------------------------------------------------------


def test_a_tied_head_stored_twice_is_read_from_the_headers() -> None:
    inspection = _llama(tie_word_embeddings=True)
    structure = analyze_layer_structure(inspection)
    tensors = _stored_like_the_model(inspection)
    head = StoredTensor("lm_head.weight", "BF16", (256, 64))
    with_head = summary_from_headers("acme/t", COMMIT, [*tensors, head], source="s")
    result = reconcile(inspection, structure, with_head)
    assert [t.kind for t in result.terms] == ["tied_head_stored"]
    assert result.unexplained == 0 and not result.only_in_checkpoint
    without = summary_from_headers("acme/t", COMMIT, tensors, source="s")
    assert reconcile(inspection, structure, without).terms == ()


def test_an_unexplained_remainder_is_not_absorbed_by_a_storage_choice() -> None:
    inspection = _llama(tie_word_embeddings=True)
    structure = analyze_layer_structure(inspection)
    head = 256 * 64
    assert reconcile(inspection, structure, stored_total=inspection.total_params + head).terms
    off_by_one = reconcile(inspection, structure, stored_total=inspection.total_params + head + 1)
    assert off_by_one.terms == () and off_by_one.unexplained == head + 1


def test_per_expert_checkpoint_names_convert_to_the_fused_model_tensors() -> None:
    """transformers' own conversion mapping fuses experts.N.w1/w3 into gate_up_proj."""
    inspection = inspect_config(TINY_MIXTRAL, model="acme/tiny-mixtral")
    structure = analyze_layer_structure(inspection)
    stored = []
    for t in inspection.params:
        if ".experts." not in t.name:
            stored.append(
                StoredTensor(
                    t.name.replace(".mlp.gate.", ".block_sparse_moe.gate."), "BF16", t.shape
                )
            )
            continue
        layer = t.name.split(".experts.")[0].replace(".mlp", ".block_sparse_moe")
        for e in range(4):
            for w, shape in (("w1", (128, 64)), ("w3", (128, 64)), ("w2", (64, 128))):
                if ("down" in t.name) == (w == "w2"):
                    stored.append(StoredTensor(f"{layer}.experts.{e}.{w}.weight", "BF16", shape))
    summary = summary_from_headers("acme/m", COMMIT, stored, source="s")
    result = reconcile(inspection, structure, summary)
    assert result.unexplained == 0
    assert result.only_in_checkpoint == () and result.only_in_model == ()
    dropped = [
        s for s in stored if not s.name.startswith("model.layers.1.block_sparse_moe.experts")
    ]
    extra = [*dropped, StoredTensor("model.layers.0.mystery.weight", "BF16", (4,))]
    partial = reconcile(
        inspection, structure, summary_from_headers("acme/m", COMMIT, extra, source="s")
    )
    assert partial.only_in_checkpoint == ("model.layers.0.mystery.weight",)
    assert set(partial.only_in_model) == {
        "model.layers.1.mlp.experts.gate_up_proj",
        "model.layers.1.mlp.experts.down_proj",
    }


def test_fp8_scales_mtp_layer_and_saved_buffers_are_computed_from_config_and_dry_run() -> None:
    inspection = inspect_config(TINY_DEEPSEEK, model="acme/tiny-deepseek")
    structure = analyze_layer_structure(inspection)
    result = reconcile(inspection, structure)
    terms = {t.kind: t for t in result.terms}
    assert set(terms) == {"mtp_layers", "quantization_scales", "saved_buffers"}
    hidden, vocab = 256, 512
    last = [t for t in inspection.tensors if t.name.startswith("model.layers.2.")]
    layer = sum(t.numel for t in last if t.kind == "param") + 4  # + e_score_correction_bias
    extras = 3 * hidden + 2 * hidden * hidden + 2 * vocab * hidden
    layer_scales = terms["mtp_layers"].params - layer - extras
    assert layer_scales > 0, "the MTP layer's FP8 weights carry block scales too"
    assert terms["saved_buffers"].params == 2 * 4  # two MoE layers x 4 experts, F32
    # every FP8 weight here is smaller than one 128 x 128 block: one scale per stored matrix
    plan = storage_plan(inspection)
    assert plan.method == "fp8" and plan.block == (128, 128)
    assert result.predicted_by_dtype["F8_E4M3"] > result.predicted_by_dtype["BF16"] > 0


def test_mxfp4_counts_differ_between_headers_and_the_hub_api() -> None:
    config = json.loads((Path("cases/configs/openai/gpt-oss-20b/config.json")).read_text())
    small = {**config, "num_hidden_layers": 2, "layer_types": config["layer_types"][:2]}
    inspection = inspect_config(small, model="acme/oss")
    structure = analyze_layer_structure(inspection)
    experts = sum(
        t.numel for t in inspection.params if t.name.endswith(("gate_up_proj", "down_proj"))
    )
    hub = reconcile(inspection, structure, stored_total=inspection.total_params + experts // 32)
    assert [t.kind for t in hub.terms] == ["quantization_scales"] and hub.unexplained == 0
    headers = summary_from_headers("acme/oss", COMMIT, [StoredTensor("x", "U8", (1,))], source="s")
    packed = reconcile(inspection, structure, headers)
    assert {t.kind: t.params for t in packed.terms}["mxfp4_packing"] == -experts // 2


# --- the claim -----------------------------------------------------------------------------


def _build(config: dict[str, Any]):
    return build_from_inspection(inspect_config(config, model="acme/tiny"))


def test_checkpoint_claim_is_checked_exactly_with_its_terms() -> None:
    result = _build({**TINY_LLAMA, "tie_word_embeddings": True})
    built, head = result.inspection.total_params, 256 * 64
    ok = check_checkpoint(
        CheckpointClaim(built + head, source="s", expected_difference=head, reason="tied head"),
        result,
    )
    assert ok.status == "expected-deviation" and ok.unexplained == 0
    assert [t["term"] for t in ok.terms] == ["tied_head_stored"]
    assert ok.as_json()["terms"][0]["params"] == head
    wrong_difference = check_checkpoint(
        CheckpointClaim(built + head, source="s", expected_difference=head - 1, reason="x"), result
    )
    assert wrong_difference.status == "fail" and "explains +16,384" in wrong_difference.message
    one_more = check_checkpoint(
        CheckpointClaim(built + head + 1, source="s", expected_difference=head, reason="x"), result
    )
    assert one_more.status == "fail" and "leaves +16,385 unexplained" in one_more.message
    named = check_checkpoint(
        CheckpointClaim(built + 7, source="s", unexplained=7, unexplained_reason="a scrape"), result
    )
    assert named.status == "expected-deviation"
    todo = check_checkpoint(CheckpointClaim(None, source="TODO"), result)
    assert todo.status == "fail" and "harness checkpoint" in todo.message


def test_case_accepts_only_a_checkpoint_claim_for_checkpoint_params() -> None:
    from harness.pipeline.cases import Claim

    with pytest.raises(CaseError, match="must be a CheckpointClaim"):
        ModelCase("acme/x", None, {"checkpoint_params": Claim(5, source="s")})
    with pytest.raises(CaseError, match="needs an `unexplained_reason`"):
        CheckpointClaim(5, source="s", unexplained=1)
    with pytest.raises(CaseError, match="needs a `reason`"):
        CheckpointClaim(5, source="s", expected_difference=1)


def test_inspect_shows_stored_vs_built_and_the_terms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`harness checkpoint --total` vendors a recorded total; `harness inspect` reconciles it."""
    from harness.cli import main

    folder = tmp_path / "cases" / "configs" / "acme" / "tiny"
    vendor_snapshot(folder, {**TINY_LLAMA, "tie_word_embeddings": True})
    monkeypatch.setenv("HARNESS_SNAPSHOTS_DIR", str(tmp_path / "cases" / "configs"))
    built = _llama(tie_word_embeddings=True).total_params
    stored = built + 256 * 64
    argv = ["checkpoint", "acme/tiny", "--total", str(stored), "--source", "https://example.org"]
    assert main([*argv, "--cases-dir", str(tmp_path / "cases"), "--offline"]) == 0
    assert (folder / "checkpoint.json").is_file()
    assert "expected_difference=16_384" in capsys.readouterr().out
    assert main(["inspect", "acme/tiny", "--offline"]) == 0
    out = capsys.readouterr().out
    assert f"checkpoint:   stored {stored:,} (recorded-scrape), built {built:,}" in out
    assert "tied_head_stored" in out
    assert re.search(r"unexplained +\+0\n", out)


@pytest.mark.parametrize(
    ("declared", "stored"),
    [
        ({"dtype": "bfloat16", "torch_dtype": "float32"}, "BF16"),  # `dtype` comes first
        ({"torch_dtype": "half"}, "F16"),  # torch's alias
    ],
)
def test_the_storage_plan_reads_the_dtype_the_tensor_files_name(
    declared: dict[str, str], stored: str
) -> None:
    """One reading of the declared dtype serves the storage plan and the tensor inventory."""
    from harness.dtypes import declared_dtype

    inspection = _llama(**declared)
    assert storage_plan(inspection).base_dtype == stored
    names = {"BF16": "bfloat16", "F16": "float16"}
    assert declared_dtype(inspection.resolved.config) == names[stored]
