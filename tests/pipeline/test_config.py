"""harness.pipeline.config: the config built, schema-checked, written byte-identical and atomically.

The validation block goes in place: the config is not built again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import errors
from harness.api import build_model_config
from harness.cli import main
from harness.output import write_build
from harness.pipeline.config import (
    VALIDATION_FIELDS,
    build_config,
    config_with_validation,
    validate_schema,
)
from harness.writers import dump_json

from ..conftest import TINY_LLAMA
from .conftest import built

BLOCK = {
    "validated": True,
    "validation_notes": "2 public facts checked, 0 failed",
    "validation_sources": ["https://example.org/card"],
    "validation": [{"fact": "num_layers", "status": "pass"}],
}


def test_the_validation_block_lands_where_build_config_puts_it() -> None:
    result = build_model_config("openai-community/gpt2", offline=True)
    placed = config_with_validation(result.config, BLOCK)
    rebuilt = build_config(
        result.inspection,
        result.structure,
        result.entries,
        model_id=result.model_id,
        validation=BLOCK,
        hf_id=result.config["hf_model_id"],
    )
    assert list(placed.items()) == list(rebuilt.items())
    keys = list(placed)
    assert keys[keys.index("findings") - len(VALIDATION_FIELDS) :][: len(VALIDATION_FIELDS)] == [
        *VALIDATION_FIELDS
    ]
    assert "validation" not in result.config  # the unvalidated block is replaced, not merged


def test_error_a_block_with_other_fields_is_refused() -> None:
    result = build_model_config("openai-community/gpt2", offline=True)
    with pytest.raises(ValueError, match="not validation fields: total_params"):
        config_with_validation(result.config, {**BLOCK, "total_params": 1})


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


def test_dump_json_puts_scalar_lists_on_one_line() -> None:
    assert (
        dump_json({"a": [1, 2], "b": {"c": [True, None]}})
        == '{\n  "a": [1, 2],\n  "b": {\n    "c": [true, null]\n  }\n}\n'
    )
