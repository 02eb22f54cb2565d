"""The loader contract: each way a config breaks Mantile's loader is reported with its effect."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import layer_set
from harness.catalog.loader import loader_problems

CONFIG: dict[str, Any] = {
    "layer_types": [
        {
            "name": "norm",
            "class": "NormLayer",
            "count": 3,
            "supported": True,
            "specs": {"layer_idx": 0, "hidden_size": 64, "has_bias": False, "parameter_count": 64},
        },
        {
            "name": "lm_head",
            "class": "MLPLayer",
            "count": 1,
            "supported": True,
            "specs": {
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_projections": 2,
                "parameter_count": 16_384,
            },
            "stand_in_for": "lm_head",
        },
    ],
    "unsupported_layer_types": [
        {
            "name": "attention_sinks",
            "class": "AttentionSinksLayer",
            "count": 2,
            "supported": False,
            "specs": {"num_heads": 4, "parameter_count": 4},
        }
    ],
}


def changed(change: Any) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    change(config)
    return config


def test_a_loadable_config_has_no_problem() -> None:
    assert loader_problems(CONFIG) == []


@pytest.mark.parametrize(
    ("change", "entry", "words"),
    [
        (
            lambda c: c["layer_types"].append(c["unsupported_layer_types"].pop()),
            "attention_sinks",
            ["AttentionSinksLayer is not in the built-in catalog", "HTTP 500"],
        ),
        (
            lambda c: c["layer_types"][0]["specs"].pop("hidden_size"),
            "norm",
            ["required spec(s) hidden_size of NormLayer missing", "TypeError"],
        ),
        (
            lambda c: c["layer_types"][1]["specs"].update(dtype="bf16"),
            "lm_head",
            ["specs hold dtype", "multiple values"],
        ),
        (
            lambda c: c["layer_types"][1].update(name="norm"),
            "norm",
            ["2 layer_types entries share this name", "ValueError"],
        ),
        (
            lambda c: c["unsupported_layer_types"][0].update(name="norm"),
            "norm",
            ["used in layer_types and unsupported_layer_types", "unique over both lists"],
        ),
        (
            lambda c: c["layer_types"][0]["specs"].update(num_sinks=4),
            "norm",
            ["NormLayer takes no num_sinks", "drops the key(s) silently"],
        ),
        (
            lambda c: c["layer_types"][1]["specs"].update(parameter_count=16_000),
            "lm_head",
            ["32,768 weight bytes at bf16, parameter_count x 2 is 32,000"],
        ),
        (
            lambda c: c["layer_types"][0]["specs"].update(hidden_size=0),
            "norm",
            ["NormLayer rejects these specs", "hidden_size=0"],
        ),
    ],
    ids=[
        "unknown-class",
        "missing-spec",
        "reserved-key",
        "duplicate-name",
        "duplicate-over-both-lists",
        "dropped-key",
        "weight-bytes",
        "invalid-value",
    ],
)
def test_each_breach_is_named_with_what_the_estimator_does(
    change: Any, entry: str, words: list[str]
) -> None:
    problems = loader_problems(changed(change))
    assert [p.entry for p in problems] == [entry], [p.line() for p in problems]
    for word in words:
        assert word in problems[0].line()


def test_a_folder_class_binds_by_its_signature_only(tmp_path: Path) -> None:
    """A class read from source binds (or not) by its constructor; only Mantile can run it."""
    (tmp_path / "layers.py").write_text(
        "class AttentionSinksLayer:\n"
        "    def __init__(self, layer_idx, num_heads, dtype, parallelism=None):\n"
        "        pass\n"
    )
    config = changed(lambda c: c["layer_types"].append(c["unsupported_layer_types"].pop()))
    problems = loader_problems(config, layer_set(tmp_path))
    # NormLayer and MLPLayer are not in that folder: the loader cannot resolve them.
    assert [p.entry for p in problems] == ["norm", "lm_head"]
    config["layer_types"] = config["layer_types"][2:]
    assert loader_problems(config, layer_set(tmp_path)) == []
    config["layer_types"][0]["specs"] = {"parameter_count": 4}
    (problem,) = loader_problems(config, layer_set(tmp_path))
    assert "num_heads of AttentionSinksLayer missing" in problem.line()


def test_no_layer_types_list() -> None:
    (problem,) = loader_problems({"name": "x"})
    assert problem.line() == "<config>: no layer_types list: KeyError, HTTP 500"
