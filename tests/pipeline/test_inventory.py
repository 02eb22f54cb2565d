"""Meta-device inspection: exact totals for every vendored model, tying, buffers, remote code."""

from __future__ import annotations

import json

import pytest

from harness import errors
from harness.api import count_parameters, inspect_model_structure
from harness.pipeline.inventory import (
    TensorKind,
    TensorRecord,
    estimate_memory,
    format_count,
    validate_config,
)

from ..conftest import TINY_LLAMA, case_options, snapshot_meta, vendored_ids


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_meta_total_equals_reference(hf_id: str) -> None:
    inspection = inspect_model_structure(hf_id, offline=True, **case_options(hf_id))
    assert inspection.total_params == snapshot_meta(hf_id)["claims"]["meta_total_params"]


@pytest.mark.parametrize(
    ("hf_id", "total"),
    [
        ("meta-llama/Llama-3.3-70B-Instruct", 70_553_706_496),
        ("meta-llama/Llama-3.2-1B", 1_235_814_400),
        ("deepseek-ai/DeepSeek-V3", 671_026_404_352),
        ("mistralai/Mixtral-8x7B-v0.1", 46_702_792_704),
    ],
)
def test_headline_totals(hf_id: str, total: int) -> None:
    assert inspect_model_structure(hf_id).total_params == total


def test_tied_head_counted_once_and_listed_as_alias() -> None:
    inspection = inspect_model_structure("meta-llama/Llama-3.2-1B")
    embed = inspection.tensor("model.embed_tokens.weight")
    assert embed.aliases == ("lm_head.weight",)
    assert inspection.tensor("lm_head.weight") is embed
    assert all(t.name != "lm_head.weight" for t in inspection.tensors)


def test_buffers_reported_but_not_counted() -> None:
    inspection = inspect_model_structure("deepseek-ai/DeepSeek-V3")
    names = {t.name for t in inspection.buffers}
    assert "model.layers.3.mlp.gate.e_score_correction_bias" in names
    assert inspection.total_params == count_parameters(inspection).total
    assert count_parameters(inspection).buffers > 0


def test_estimate_memory_uses_decimal_gb_and_mantile_bytes() -> None:
    inspection = inspect_model_structure("meta-llama/Llama-3.3-70B-Instruct")
    assert estimate_memory(inspection, "bf16").gb == pytest.approx(141.107412992)
    assert estimate_memory(inspection, "mxfp4").bytes == 70_553_706_496 * 4.25 / 8
    with pytest.raises(errors.HarnessError, match="unknown dtype 'int4'"):
        estimate_memory(inspection, "int4")


def test_validate_config_reports_discrepancies() -> None:
    inspection = inspect_model_structure("meta-llama/Llama-3.3-70B-Instruct")
    assert validate_config(inspection, expected_params=70_000_000_000, expected_layers=80)["valid"]
    result = validate_config(inspection, expected_params=69_000_000_000, expected_layers=81)
    assert result["valid"] is False
    assert result["discrepancies"] == [
        "parameters: expected 69,000,000,000, observed 70,553,706,496 (+2.252%, tolerance 1.00%)",
        "layers: expected 81, observed 80",
    ]


def test_format_count() -> None:
    assert [format_count(v) for v in (124_439_808, 999, 1_500, 405_853_388_800, 2 * 10**12)] == [
        "124.4M",
        "999",
        "1.5K",
        "405.9B",
        "2.0T",
    ]


def test_config_outside_cases(write_config) -> None:
    inspection = inspect_model_structure(str(write_config(TINY_LLAMA)))
    assert inspection.model_class == "LlamaForCausalLM"
    assert (
        inspection.total_params
        == 2 * 256 * 64 + 2 * (64 * 64 * 2 + 2 * 64 * 32 + 3 * 64 * 128 + 2 * 64) + 64
    )


@pytest.mark.parametrize("missing", ["model_type", "architectures"])
def test_missing_required_field(write_config, missing: str) -> None:
    config = {k: v for k, v in TINY_LLAMA.items() if k != missing}
    with pytest.raises(errors.InvalidConfigError, match=f"has no `{missing}`"):
        inspect_model_structure(str(write_config(config)))


def test_unknown_model_type_names_the_transformers_version(write_config) -> None:
    import transformers

    config = dict(TINY_LLAMA, model_type="llama_from_the_future")
    with pytest.raises(
        errors.UnknownModelTypeError, match=f"transformers {transformers.__version__}"
    ):
        inspect_model_structure(str(write_config(config)))


REMOTE = dict(
    TINY_LLAMA,
    model_type="my_remote_arch",
    architectures=["MyRemoteForCausalLM"],
    auto_map={"AutoModelForCausalLM": "modeling_my.MyRemoteForCausalLM"},
)


def test_remote_code_is_refused_by_default(write_config, monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    calls: list[object] = []
    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", lambda *a, **k: calls.append(k))
    with pytest.raises(errors.RemoteCodeRefusedError, match="pinned 40-hex revision"):
        inspect_model_structure(str(write_config(REMOTE)))
    with pytest.raises(errors.RemoteCodeRefusedError):
        inspect_model_structure(str(write_config(REMOTE)), "main", trust_remote_code=True)
    assert calls == []


def test_auto_map_ignored_for_native_model_types(write_config) -> None:
    config = dict(TINY_LLAMA, auto_map={"AutoModelForCausalLM": "modeling_x.X"})
    inspection = inspect_model_structure(str(write_config(config)))
    assert any("auto_map ignored" in note for note in inspection.notes)


def test_unknown_architecture_falls_back_to_auto_class(write_config) -> None:
    config = dict(TINY_LLAMA, architectures=["SomethingElseForCausalLM"])
    inspection = inspect_model_structure(str(write_config(config)))
    assert inspection.model_class == "LlamaForCausalLM"
    assert "built with AutoModelForCausalLM" in inspection.notes[0]


def test_bad_values_become_model_build_errors(write_config) -> None:
    config = dict(TINY_LLAMA, num_attention_heads=5)
    expected = r"could not build|rejected the config|does not divide"
    with pytest.raises(errors.HarnessError, match=expected):
        inspect_model_structure(str(write_config(config)))


def test_a_record_holds_its_kind_as_the_enum_written_as_the_plain_word() -> None:
    record = TensorRecord("buffer", "model.rotary.inv_freq", (8,), "torch.float32")
    assert record.kind is TensorKind.BUFFER
    assert (str(record.kind), f"{record.kind}", json.dumps(record.kind)) == (
        "buffer",
        "buffer",
        '"buffer"',
    )
    assert record == TensorRecord(TensorKind.BUFFER, "model.rotary.inv_freq", (8,), "torch.float32")


def test_error_a_record_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="'weights' is not a valid TensorKind"):
        TensorRecord("weights", "w", (1,), "torch.float32")
