"""harness.pipeline.config: the validation block goes in place; the config is not built again."""

from __future__ import annotations

import pytest

from harness.api import build_model_config
from harness.pipeline.config import VALIDATION_FIELDS, build_config, config_with_validation

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
