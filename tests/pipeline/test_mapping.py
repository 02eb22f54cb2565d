"""Structure analysis, mapping and config building: exact accounting for every vendored model."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path

import pytest

from harness import errors
from harness.api import build_model_config, inspect_model_structure
from harness.catalog import CATALOG, instantiate
from harness.catalog.loader import loader_problems
from harness.cli import main
from harness.output import write_build
from harness.pipeline.config import BuildResult, accounting_problems, entry_lists, validate_schema
from harness.pipeline.structure import analyze_layer_structure
from harness.writers import dump_json

from ..conftest import TINY_LLAMA, TINY_PHI, case_options, vendored_ids


@cache
def built(hf_id: str) -> BuildResult:
    return build_model_config(hf_id, offline=True, **case_options(hf_id))


def entry(result: BuildResult, name: str) -> dict:
    """The entry of that name, from either list."""
    return next(e for e in entry_lists(result.config) if e["name"] == name)


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_accounting_closes_and_schema_validates(hf_id: str) -> None:
    result = built(hf_id)
    assert accounting_problems(result.config, result.inspection.total_params) == []
    validate_schema(result.config, where=hf_id)
    names = [e["name"] for e in entry_lists(result.config)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_layer_types_load_and_every_gap_is_listed(hf_id: str) -> None:
    """layer_types holds catalog classes whose formula gives the count; the rest are gaps."""
    config = built(hf_id).config
    assert loader_problems(config) == []
    for layer in config["layer_types"]:
        assert layer["supported"] is True and layer["class"] in CATALOG, layer["name"]
        instance = instantiate(layer["class"], layer["specs"])
        assert instance.parameter_count() == layer["specs"]["parameter_count"], layer["name"]
    for layer in config["unsupported_layer_types"]:
        assert layer["supported"] is False and layer["class"] not in CATALOG, layer["name"]
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
        "lm_head": ("MLPLayer", 1, 1_050_673_152),
    }
    head = entry(result, "lm_head")
    assert (head["stand_in_for"], head["specs"]["intermediate_size"]) == ("lm_head", 128_256 // 2)
    assert result.config["unsupported_layer_types"] == []
    assert result.config["model_id"] == "meta-llama_Llama-3.3-70B-Instruct"


def test_layer_indices_list_every_instance_and_model_level_as_minus_one() -> None:
    """Two norms per layer appear twice each, the final norm as -1: one index per instance."""
    result = built("meta-llama/Llama-3.3-70B-Instruct")
    norm = entry(result, "norm")
    assert norm["count"] == 161
    assert norm["layer_indices"] == [-1, *sorted(2 * list(range(80)))]
    assert entry(result, "embedding")["layer_indices"] == [-1]
    assert entry(result, "lm_head")["layer_indices"] == [-1]
    assert norm["specs"]["layer_idx"] == 0  # a layer's index, never the model level


def test_accounting_catches_an_entry_whose_layer_indices_miss_an_instance() -> None:
    config = built("meta-llama/Llama-3.3-70B-Instruct").config
    broken = {
        **config,
        "layer_types": [
            {**e, "layer_indices": sorted(set(e["layer_indices"]))} for e in config["layer_types"]
        ],
    }
    assert accounting_problems(broken) == [
        "norm: count is 161, layer_indices list 81 instances (one index per instance, -1 at model "
        "level)"
    ]


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
    import harness.pipeline.config as build_module

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


def test_layers_dir_moves_entries_its_classes_cannot_load(tmp_path: Path, capsys) -> None:
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
    assert "warning: attention: " in out and "has no GroupedQueryAttentionLayer" in out
    assert "warning: norm" not in out
    config = json.loads((tmp_path / "o" / "meta-llama_Llama-3.2-1B.json").read_text())
    assert [e["class"] for e in config["layer_types"]] == ["NormLayer"]
    moved = {e["name"]: e["gap_kind"] for e in config["unsupported_layer_types"]}
    assert moved["attention"] == moved["mlp"] == "missing_target_class"


def test_dump_json_puts_scalar_lists_on_one_line() -> None:
    assert (
        dump_json({"a": [1, 2], "b": {"c": [True, None]}})
        == '{\n  "a": [1, 2],\n  "b": {\n    "c": [true, null]\n  }\n}\n'
    )


# --------------------------------------------------------------------------- stand-ins, targets


def _head(config: dict) -> dict:
    return next(e for e in entry_lists(config) if e["name"] == "lm_head")


@pytest.mark.parametrize(
    ("vocab", "class_name", "intermediate"),
    [(256, "MLPLayer", 128), (255, "GatedMLPLayer", 85)],
)
def test_untied_head_is_an_exact_stand_in(
    write_config, vocab: int, class_name: str, intermediate: int
) -> None:
    """Even vocab: MLPLayer(H, V/2); divisible by 3: GatedMLPLayer(H, V/3); declared as such."""
    path = write_config({**TINY_LLAMA, "vocab_size": vocab})
    config = build_model_config(str(path)).config
    head = _head(config)
    assert head in config["layer_types"] and head["class"] == class_name
    assert head["specs"]["intermediate_size"] == intermediate
    assert head["specs"]["parameter_count"] == vocab * TINY_LLAMA["hidden_size"]
    assert head["stand_in_for"] == "lm_head" and "tensor parallelism" in head["stand_in_note"]
    assert head["gap_report"] == "gaps/lm_head.md"
    assert config["estimate_coverage"]["missing"] == []
    assert loader_problems(config) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"vocab_size": 257}, "no exact stand-in"),  # odd, not divisible by 3
        ({"tie_word_embeddings": True}, "tied"),
    ],
)
def test_heads_without_an_exact_stand_in_stay_unsupported(
    write_config, change: dict, why: str
) -> None:
    config = build_model_config(str(write_config({**TINY_LLAMA, **change}))).config
    head = _head(config)
    assert head in config["unsupported_layer_types"] and head["class"] == "LMHeadLayer"
    assert "stand_in_for" not in head
    assert {"name": "lm_head", "gap_kind": "lm_head", "why": why} in config["estimate_coverage"][
        "missing"
    ]


def test_a_biased_head_has_no_stand_in_and_its_specs_say_so(write_config) -> None:
    """phi-style lm_head with a V-element bias: has_bias in specs, V·H + V parameters, a gap."""
    config = build_model_config(str(write_config(TINY_PHI))).config
    head = _head(config)
    assert head["specs"]["has_bias"] is True
    assert head["specs"]["parameter_count"] == 256 * 64 + 256
    assert head in config["unsupported_layer_types"]
    assert "lm_head (bias)" in config["estimate_coverage"]["summary"]


def test_no_stand_ins_keeps_the_head_unsupported(write_config, tmp_path: Path, capsys) -> None:
    path = write_config(TINY_LLAMA)
    result = build_model_config(str(path), stand_ins=False)
    head = _head(result.config)
    assert head in result.config["unsupported_layer_types"]
    assert "lm_head (stand-ins off)" in result.coverage_line()
    assert main(["build", str(path), "--out", str(tmp_path / "o"), "--no-stand-ins"]) == 0
    assert "missing: lm_head (stand-ins off)" in capsys.readouterr().out


def _layers_folder(folder: Path, extra: str = "") -> Path:
    """A folder of layer classes with the catalog's constructors (read, never imported)."""
    import inspect

    source = "".join(
        f"class {name}:\n    '''{name}.'''\n    def __init__(self, "
        + ", ".join(str(p) for p in inspect.signature(cls).parameters.values())
        + "):\n        pass\n\n"
        for name, cls in CATALOG.items()
    )
    folder.mkdir()
    (folder / "layers.py").write_text(source + extra)
    return folder


_LM_HEAD_CLASS = """
class LMHeadLayer:
    '''The LM head a maintainer wrote from gaps/lm_head.md.'''
    def __init__(self, layer_idx, vocab_size, hidden_size, dtype, tied=False, has_bias=False,
                 parallelism=None):
        pass
"""


def test_a_gap_class_in_the_layers_dir_is_picked_up(write_config, tmp_path: Path, capsys) -> None:
    """The proposed class with a constructor taking the proposed specs goes into layer_types."""
    folder = _layers_folder(tmp_path / "layers", _LM_HEAD_CLASS)
    path = write_config({**TINY_LLAMA, "tie_word_embeddings": True})
    result = build_model_config(str(path), layers_dir=folder)
    head = _head(result.config)
    assert head in result.config["layer_types"] and head["class"] == "LMHeadLayer"
    assert head["specs"]["tied"] is True and head["specs"]["layer_idx"] == 0
    assert [e.name for e in result.picked_up] == ["lm_head"]
    assert result.config["unsupported_layer_types"] == []
    assert result.config["estimate_coverage"]["decode_flops_per_token"]["share"] == 1.0
    out = tmp_path / "out"
    assert main(["build", str(path), "--out", str(out), "--layers-dir", str(folder)]) == 0
    assert "picked up LMHeadLayer from" in capsys.readouterr().out


def test_a_gap_class_that_drops_a_proposed_spec_is_not_picked_up(
    write_config, tmp_path: Path
) -> None:
    """An LMHeadLayer without has_bias would lose the bias: the exact stand-in is used instead."""
    folder = _layers_folder(tmp_path / "layers", _LM_HEAD_CLASS.replace(", has_bias=False", ""))
    result = build_model_config(str(write_config(TINY_LLAMA)), layers_dir=folder)
    head = _head(result.config)
    assert head["class"] == "MLPLayer" and head["stand_in_for"] == "lm_head"
    assert result.picked_up == ()
