"""The structure step's records: one typed record per component kind, enums written as words."""

from __future__ import annotations

import json
from enum import Enum

import pytest

from harness.api import build_model_config, count_parameters, inspect_model_structure
from harness.pipeline.check import observed_facts
from harness.pipeline.inventory import TensorRecord
from harness.pipeline.structure import (
    ATTRS_OF_KIND,
    AttentionAttrs,
    AttentionVariant,
    AttentionWindow,
    Component,
    ComponentKind,
    ConfigSizes,
    EmbeddingAttrs,
    IndexerAttrs,
    LatentAttentionAttrs,
    LayerOverrides,
    MixtureOfAttentionAttrs,
    MlpAttrs,
    NoAttrs,
    NormAttrs,
    Part,
    ProjectionBiases,
    analyze_layer_structure,
)

from ...conftest import case_options, vendored_ids

WEIGHT = TensorRecord("param", "model.norm.weight", (8,), "torch.float32", "RMSNorm")


def test_a_component_takes_its_kind_and_part_as_words_and_holds_the_members() -> None:
    component = Component("norm", "model.norm", None, "RMSNorm", (WEIGHT,), NormAttrs(8, False))
    assert component.kind is ComponentKind.NORM and component.part is Part.TEXT
    assert (f"{component.kind}", str(component.part), json.dumps([component.kind])) == (
        "norm",
        "text",
        '["norm"]',
    )


def test_error_a_component_holding_another_kinds_record_is_refused() -> None:
    with pytest.raises(TypeError, match=r"model\.norm: a norm component holds NormAttrs, not "):
        Component("norm", "model.norm", None, "RMSNorm", (WEIGHT,), EmbeddingAttrs(8, 8))
    with pytest.raises(ValueError, match="'normalisation' is not a valid ComponentKind"):
        Component("normalisation", "model.norm", None, "RMSNorm", (WEIGHT,))


def test_error_attrs_as_another_record_names_the_component() -> None:
    component = Component("norm", "model.norm", None, "RMSNorm", (WEIGHT,), NormAttrs(8, True))
    assert component.attrs_as(NormAttrs).has_bias
    with pytest.raises(TypeError, match=r"model\.norm: a norm component holds NormAttrs, not Mlp"):
        component.attrs_as(MlpAttrs)


def test_specs_are_the_fields_in_order_with_tuples_as_lists() -> None:
    attrs = MixtureOfAttentionAttrs(64, 4, 2, ((32, 64), (64, 32)), 16, 1, 16, 256)
    assert attrs.specs() == {
        "hidden_size": 64,
        "num_experts": 4,
        "top_k": 2,
        "expert_matrices": [[32, 64], [64, 32]],
        "kv_width": 16,
        "num_kv_heads": 1,
        "head_dim": 16,
        "router_params": 256,
    }
    assert list(attrs.specs()) == [
        "hidden_size",
        "num_experts",
        "top_k",
        "expert_matrices",
        "kv_width",
        "num_kv_heads",
        "head_dim",
        "router_params",
    ]
    indexer = IndexerAttrs(2, 16, 8, (("wq_b", (32, 16)), ("wk", (16, 64))))
    assert indexer.specs() == {
        "num_heads": 2,
        "head_dim": 16,
        "top_k": 8,
        "linear_shapes": {"wq_b": [32, 16], "wk": [16, 64]},
    }
    assert NoAttrs().specs() == {}


def test_latent_attention_specs_are_the_mla_gap_sizes_and_it_attends_every_key() -> None:
    mla = LatentAttentionAttrs(64, 4, 32, 16, 16, 8, 16)
    assert list(mla.specs()) == [
        "hidden_size",
        "num_heads",
        "q_lora_rank",
        "kv_lora_rank",
        "qk_nope_head_dim",
        "qk_rope_head_dim",
        "v_head_dim",
    ]
    assert (mla.variant, mla.window, mla.sliding_window, mla.sink_params) == (
        AttentionVariant.MLA,
        AttentionWindow.FULL,
        None,
        0,
    )


def _attention(sliding_window: int | None, chunked: bool) -> AttentionAttrs:
    biases = ProjectionBiases(q=True, k=True, v=True, o=False)
    names: tuple[str, ...] = ()
    return AttentionAttrs(
        AttentionVariant.GQA, 64, 4, 2, 16, 64, 32, sliding_window, chunked, biases,
        *(0, 0, 0, names, names, 0, names, 0, 0, 0, names, names, 0, names, 0),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("window", "chunked", "expected"),
    [
        (None, False, AttentionWindow.FULL),
        (128, False, AttentionWindow.SLIDING),
        (None, True, AttentionWindow.CHUNKED),
    ],
)
def test_an_attentions_window(window: int | None, chunked: bool, expected: AttentionWindow) -> None:
    assert _attention(window, chunked).window is expected


def test_projection_biases_as_specs() -> None:
    biases = _attention(None, False).bias
    assert (biases.all, biases.any) == (False, True)
    assert biases.specs() == {"q_bias": True, "k_bias": True, "v_bias": True, "o_bias": False}


def test_a_layers_own_size_wins_and_a_null_one_falls_back_to_the_stack() -> None:
    overrides = LayerOverrides(
        per_layer={0: {"num_heads": 8, "head_dim": None}},
        per_layer_type={"sliding_attention": {"head_dim": 32, "num_kv_heads": 4}},
    )
    sizes = ConfigSizes(num_heads=4, num_kv_heads=2, head_dim=16, layer_overrides=overrides)
    layer0 = sizes.for_layer(0, "sliding_attention")
    assert (layer0.num_heads, layer0.num_kv_heads, layer0.head_dim) == (8, 4, 16)
    layer1 = sizes.for_layer(1, "sliding_attention")
    assert (layer1.num_heads, layer1.num_kv_heads, layer1.head_dim) == (4, 4, 32)
    assert sizes.for_layer(1, "full_attention") is sizes


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_every_component_of_a_vendored_model_holds_its_kinds_record(hf_id: str) -> None:
    inspection = inspect_model_structure(hf_id, offline=True, **case_options(hf_id))
    for component in analyze_layer_structure(inspection).components:
        assert isinstance(component.attrs, ATTRS_OF_KIND[component.kind]), component.path


def _members(value: object) -> list[Enum]:
    """Every enum member inside a value (dicts, lists and tuples opened)."""
    if isinstance(value, Enum):
        return [value]
    if isinstance(value, dict):
        return [m for item in value.values() for m in _members(item)]
    if isinstance(value, (list, tuple)):
        return [m for item in value for m in _members(item)]
    return []


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_entries_and_facts_hold_plain_words_not_enum_members(hf_id: str) -> None:
    """A member would print as `<ComponentKind.NORM: 'norm'>` in a repr (the FLOP cache's key,
    a skeleton's literals, a fact's message): the records end at the structure step."""
    result = build_model_config(hf_id, offline=True, **case_options(hf_id))
    for entry in result.entries:
        assert _members([entry.name, entry.class_name, entry.gap_kind, entry.specs]) == [], entry
    assert _members(observed_facts(result)) == []
    assert _members(count_parameters(result.inspection, result.structure).by_component) == []


def test_members_are_found_inside_specs() -> None:
    assert _members({"a": [1, (Part.VISION,)]}) == [Part.VISION]
