"""Structure analysis, mapping and config building: exact accounting for every vendored model."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest

from harness import errors
from harness.build import BuildResult, accounting_problems, build_model_config, validate_schema
from harness.catalog import instantiate
from harness.cli import main
from harness.inspection import inspect_model_structure
from harness.structure import analyze_layer_structure
from harness.writers import dump_json, write_build

from .conftest import TINY_LLAMA, case_options, vendored_ids


@cache
def built(hf_id: str) -> BuildResult:
    return build_model_config(hf_id, offline=True, **case_options(hf_id))


def entry(result: BuildResult, name: str) -> dict:
    return next(e for e in result.config["layer_types"] if e["name"] == name)


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_accounting_closes_and_schema_validates(hf_id: str) -> None:
    result = built(hf_id)
    assert accounting_problems(result.config, result.inspection.total_params) == []
    validate_schema(result.config, where=hf_id)
    names = [e["name"] for e in result.config["layer_types"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_every_supported_entry_reproduces_its_parameter_count(hf_id: str) -> None:
    for layer in built(hf_id).config["layer_types"]:
        if layer["supported"]:
            instance = instantiate(layer["class"], layer["specs"])
            assert instance.parameter_count() == layer["specs"]["parameter_count"], layer["name"]
        else:
            assert layer["gap_report"] == f"gaps/{layer['gap_kind']}.md"


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
        "lm_head": ("LMHeadLayer", 1, 1_050_673_152),
    }
    assert entry(result, "lm_head")["supported"] is False
    assert result.config["model_id"] == "meta-llama_Llama-3.3-70B-Instruct"


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


def test_gemma2_counts_four_norms_per_layer_and_tied_head() -> None:
    result = built("google/gemma-2-9b")
    assert entry(result, "norm")["count"] == 4 * 42 + 1
    head = entry(result, "lm_head")
    assert head["specs"]["tied"] is True and head["specs"]["parameter_count"] == 0


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


def test_hybrid_models_list_their_mixers() -> None:
    jamba = built("ai21labs/Jamba-v0.1")
    assert entry(jamba, "mamba_mixer")["count"] == 28
    assert entry(jamba, "attention")["layer_indices"] == [4, 12, 20, 28]
    assert entry(jamba, "moe")["count"] == 16
    nxt = built("Qwen/Qwen3-Next-80B-A3B-Instruct")
    assert entry(nxt, "gated_delta_net")["count"] == 36
    assert entry(nxt, "attention_output_gate")["gap_kind"] == "gated_attention"
    assert entry(nxt, "shared_expert_gate")["specs"]["parameter_count"] == 2048


def test_falcon_multi_query_from_shapes() -> None:
    result = built("tiiuae/falcon-7b")
    attention = entry(result, "attention")
    assert attention["specs"]["num_kv_heads"] == 1
    assert result.config["findings"] == []


def test_disagreement_between_config_and_shapes_is_reported() -> None:
    inspection = inspect_model_structure("meta-llama/Llama-3.1-8B-Instruct")
    lying = dataclasses.replace(inspection, config=dict(inspection.config, num_key_value_heads=4))
    findings = analyze_layer_structure(lying).findings
    assert findings and "num_kv_heads: config says 4" in findings[0].message
    assert "gives 8" in findings[0].message


def test_build_is_byte_identical_and_atomic(tmp_path: Path) -> None:
    first = write_build(build_model_config("openai/gpt-oss-20b"), tmp_path / "a")
    second = write_build(build_model_config("openai/gpt-oss-20b"), tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert not list((tmp_path / "a").glob(".*.tmp"))


def test_schema_rejects_a_broken_config() -> None:
    config = dict(built("meta-llama/Llama-3.2-1B").config)
    config["layer_types"] = [
        dict(config["layer_types"][0], specs={"dtype": "bf16", "parameter_count": 1})
    ]
    with pytest.raises(errors.SchemaValidationError, match="layer_types/0/specs"):
        validate_schema(config, where="test")


def test_build_refuses_to_write_a_config_failing_the_schema(
    monkeypatch, tmp_path: Path, capsys
) -> None:
    import harness.build as build_module

    original = build_module.build_config
    monkeypatch.setattr(
        build_module, "build_config", lambda *a, **k: {**original(*a, **k), "total_params": -1}
    )
    assert main(["build", "meta-llama/Llama-3.2-1B", "--out", str(tmp_path)]) == 2
    assert "fails the Mantile config schema: total_params" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_build_cli_writes_config_and_csv(tmp_path: Path, write_config) -> None:
    out = tmp_path / "out"
    assert main(["build", str(write_config(TINY_LLAMA, name="tiny")), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["tiny.json", "tiny.tensors.csv"]


def test_layers_dir_reports_missing_classes(tmp_path: Path, capsys) -> None:
    (tmp_path / "layers.py").write_text(
        "class NormLayer:\n"
        "    '''Norm.'''\n"
        "    def __init__(self, layer_idx, hidden_size, dtype, has_bias=False, parallelism=None):\n"
        "        pass\n"
    )
    assert (
        main(
            [
                "build",
                "meta-llama/Llama-3.2-1B",
                "--out",
                str(tmp_path / "o"),
                "--layers-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "warning: attention: class GroupedQueryAttentionLayer is not defined in" in out
    assert "warning: norm" not in out


def test_dump_json_puts_scalar_lists_on_one_line() -> None:
    assert (
        dump_json({"a": [1, 2], "b": {"c": [True, None]}})
        == '{\n  "a": [1, 2],\n  "b": {\n    "c": [true, null]\n  }\n}\n'
    )
