"""harness.pipeline.origin: each entry's part and component, written where its class or gap kind
does not say it, so that `harness check` reads roles from the config and not from names."""

from __future__ import annotations

import copy
from collections import Counter
from functools import cache

import pytest

from harness import coverage
from harness.api import build_model_config
from harness.catalog.registry import implied_role
from harness.errors import SchemaValidationError
from harness.pipeline.config import (
    BuildResult,
    build_from_inspection,
    entry_lists,
    validate_schema,
)
from harness.pipeline.inventory import inspect_config, quiet_transformers
from harness.pipeline.origin import EntryOrigin, entry_origins, written_kind

from ..conftest import case_options

FIELDS = ("part", "component", "split_from")


@cache
def build(model: str) -> BuildResult:
    """A vendored model's build, or (no `/`) a registered type's default config."""
    if "/" in model:
        return build_model_config(model, offline=True, **case_options(model))
    with quiet_transformers():
        chosen = coverage.architecture_config(model, "causal-lm")
        inspection = inspect_config(chosen.config, model=model, text_stack=chosen.composite)
    return build_from_inspection(inspection)


def written(result: BuildResult) -> dict[str, dict[str, str]]:
    """Entry name -> the origin fields its config entry carries (entries with none left out)."""
    found = {}
    for entry in entry_lists(result.config):
        fields = {key: entry[key] for key in FIELDS if key in entry}
        if fields:
            found[entry["name"]] = fields
    return found


def test_only_what_class_and_gap_kind_do_not_say_is_written() -> None:
    assert written(build("openai-community/gpt2")) == {
        "position_embedding": {"component": "position_embedding"}
    }
    assert written(build("allenai/OLMoE-1B-7B-0924")) == {
        "k_norm": {"split_from": "attention"},
        "q_norm": {"split_from": "attention"},
    }
    assert written(build("meta-llama/Llama-3.3-70B-Instruct")) == {}


def test_every_entry_of_an_encoder_says_its_part() -> None:
    result = build("Qwen/Qwen3-VL-2B-Instruct")
    fields = written(result)
    for entry in entry_lists(result.config):
        vision = entry["name"].startswith("vision_")
        assert (fields.get(entry["name"], {}).get("part") == "vision") == vision, entry["name"]
    assert fields["vision_position_embedding"] == {
        "part": "vision",
        "component": "position_embedding",
    }


def test_a_component_no_class_reproduces_is_stood_for_by_its_own_piece() -> None:
    """RWKV's feed-forward: the `unknown` gap of its weights stands for the MLP, the tensors no
    rule claimed are split off it (the mapper lists the component's own piece first)."""
    fields = written(build("rwkv"))
    assert fields["unknown_mlp"] == {"component": "mlp"}
    assert fields["unknown_mlp_tensors"] == {"split_from": "mlp"}
    assert fields["unknown_attention_tensors"] == {"split_from": "attention"}


@pytest.mark.parametrize(
    "model",
    [
        "openai-community/gpt2",
        "allenai/OLMoE-1B-7B-0924",
        "Qwen/Qwen3-VL-2B-Instruct",
        "deepseek-ai/DeepSeek-V3.2",
        "google/gemma-4-26B-A4B",
        "rwkv",
        "bert",
    ],
)
def test_each_component_is_stood_for_by_exactly_one_entry_instance(model: str) -> None:
    """What `harness check` counts: per part and kind, the instances of the entries standing
    for a component (read from the written fields, else the class or gap kind) equal the
    components of the structure."""
    result = build(model)
    standing: Counter[tuple[str, str]] = Counter()
    for entry in entry_lists(result.config):
        if "split_from" in entry:
            continue
        role = implied_role(entry["class"], written_kind(entry))
        component = entry.get("component") or (role.component if role else None)
        if "component" in entry or (role is not None and not role.addon):
            standing[(entry.get("part", "text"), str(component))] += entry["count"]
    components = Counter(
        (c.part, c.kind) for c in result.structure.components if c.kind != "buffers"
    )
    assert standing == components


def test_an_entry_without_a_tensor_of_its_own_has_no_origin() -> None:
    """A tied head reads the embedding's weight: its class and gap kind say what it is."""
    result = build("openai-community/gpt2")
    origins = entry_origins(list(result.entries), result.structure)
    assert "lm_head" not in origins
    assert origins["attention"] == EntryOrigin("text", "attention", addon=False)


def test_error_an_entry_both_standing_for_and_split_off_a_component_fails_the_schema() -> None:
    config = copy.deepcopy(build("openai-community/gpt2").config)
    validate_schema(config, where="gpt2")
    entry = next(e for e in config["layer_types"] if e["name"] == "position_embedding")
    entry["split_from"] = "embedding"
    both = r"layer_types/1: .* should not be valid under {.required.: \[.component., .split_"
    with pytest.raises(SchemaValidationError, match=both):
        validate_schema(config, where="gpt2")
