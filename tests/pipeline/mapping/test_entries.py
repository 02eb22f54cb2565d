"""Entries: exact accounting, loadable layer_types, layer indices, stand-ins, picked-up classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.api import build_model_config
from harness.catalog import CATALOG, instantiate
from harness.catalog.loader import loader_problems
from harness.cli import main
from harness.pipeline.config import accounting_problems, entry_lists, validate_schema

from ...conftest import TINY_LLAMA, TINY_PHI, vendored_ids
from ..conftest import built
from .conftest import _LM_HEAD_CLASS, _head, _layers_folder, entry


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
