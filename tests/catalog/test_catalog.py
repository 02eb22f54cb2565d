"""The catalog: published models' counts, `instantiate` from specs, the spec table."""

from __future__ import annotations

import pytest

from harness.catalog import (
    CATALOG,
    AttentionLayer,
    EmbeddingLayer,
    GatedMLPLayer,
    GroupedQueryAttentionLayer,
    Layer,
    MoELayer,
    NormLayer,
    SlidingWindowAttentionLayer,
    instantiate,
    spec_parameters,
)
from harness.errors import CatalogError

from .conftest import BF16, EXPECTED_PARALLELISM, gpt_oss_moe, gpt_oss_swa, llama70b_gqa


def test_llama_3_3_70b_parameter_counts() -> None:
    # q 8192·8192 + k,v 2·8192·1024 + o 8192²
    assert llama70b_gqa().parameter_count() == 150_994_944
    assert GatedMLPLayer(0, 8192, 28672, BF16).parameter_count() == 704_643_072
    assert NormLayer(0, 8192, BF16).parameter_count() == 8_192
    assert EmbeddingLayer(128256, 8192, BF16).parameter_count() == 1_050_673_152


def test_gpt_oss_120b_parameter_counts() -> None:
    # 2·2880·4096 + 2·2880·512 + biases (4096 + 2·512 + 2880)
    assert gpt_oss_swa().parameter_count() == 26_550_080
    # router 2880·128 + 128, then 128 experts of 3·2880² + 2·2880 + 2880
    assert gpt_oss_moe().parameter_count() == 3_186_524_288


def test_instantiate_binds_specs_and_drops_parameter_count() -> None:
    specs = {
        "hidden_size": 8192,
        "num_heads": 64,
        "num_kv_heads": 8,
        "head_dim": 128,
        "parameter_count": 150_994_944,
    }
    layer = instantiate("GroupedQueryAttentionLayer", specs, parallelism={"tensor_parallel": 8})
    assert isinstance(layer, GroupedQueryAttentionLayer)
    assert layer.parameter_count() == specs["parameter_count"]
    assert layer.layer_idx == 0  # injected, as Mantile's loader does
    assert layer.dtype == "bf16"
    assert layer.degree("tensor_parallel") == 8
    swa = instantiate(
        "SlidingWindowAttentionLayer",
        {
            "hidden_size": 2880,
            "num_query_heads": 64,
            "num_kv_heads": 8,
            "head_dim": 64,
            "sliding_window": 128,
            "num_sinks": 64,
            "has_bias": True,
            "layer_idx": 1,
        },
        dtype="fp8",
    )
    assert swa.parameter_count() == 26_550_080
    assert (swa.layer_idx, swa.dtype, swa.weight_bytes()) == (1, "fp8", 26_550_080.0)


def test_instantiate_round_trips_layer_specs() -> None:
    for layer in (
        gpt_oss_moe(),
        gpt_oss_swa(),
        EmbeddingLayer(1000, 64, BF16),
        GatedMLPLayer(5, 8, 16, BF16),
        AttentionLayer(2, 8, 4, 2, BF16),
    ):
        again = instantiate(type(layer).__name__, layer.specs())
        assert again.specs() == layer.specs()
        assert again.parameter_count() == layer.parameter_count()
    assert "num_projections" not in GatedMLPLayer(0, 8, 16, BF16).specs()


def test_instantiate_accepts_a_custom_catalog() -> None:
    layer = instantiate("Norm", {"hidden_size": 16}, catalog={"Norm": NormLayer})
    assert isinstance(layer, NormLayer)
    with pytest.raises(CatalogError, match=r"unknown layer class 'NormLayer'"):
        instantiate("NormLayer", {"hidden_size": 16}, catalog={"Norm": NormLayer})


def test_error_instantiate_unknown_class() -> None:
    with pytest.raises(CatalogError, match=r"unknown layer class 'MoERouterLayer'.*MoELayer"):
        instantiate("MoERouterLayer", {"hidden_size": 8})


def test_error_instantiate_unexpected_key() -> None:
    specs = {
        "hidden_size": 8192,
        "num_heads": 64,
        "num_kv_heads": 8,
        "head_dim": 128,
        "has_bias": True,
    }
    with pytest.raises(CatalogError) as info:
        instantiate("GroupedQueryAttentionLayer", specs)
    message = str(info.value)
    assert "GroupedQueryAttentionLayer: unexpected spec key(s) 'has_bias'" in message
    assert "silently drop" in message
    assert (
        "Accepted keys: required hidden_size, num_heads, num_kv_heads, head_dim; "
        "optional layer_idx." in message
    )
    assert "unsupported_layer_types" in message


def test_error_instantiate_suggests_the_key_meant() -> None:
    specs = {"hidden_size": 2880, "num_heads": 64, "num_kv_heads": 8, "head_dim": 64}
    with pytest.raises(
        CatalogError,
        match=r"unexpected spec key\(s\) 'num_heads' \(did you mean 'num_query_heads'\?\)"
        r".*missing required spec key\(s\) 'num_query_heads'",
    ):
        instantiate("SlidingWindowAttentionLayer", specs)


def test_error_instantiate_missing_key() -> None:
    with pytest.raises(CatalogError, match=r"missing required spec key\(s\) 'head_dim'"):
        instantiate(
            "GroupedQueryAttentionLayer", {"hidden_size": 8192, "num_heads": 64, "num_kv_heads": 8}
        )


def test_error_instantiate_metadata_other_than_parameter_count() -> None:
    with pytest.raises(CatalogError, match=r"unexpected spec key\(s\) 'input_dim'"):
        instantiate("NormLayer", {"hidden_size": 64, "input_dim": 64, "parameter_count": 64})
    with pytest.raises(CatalogError, match=r"EmbeddingLayer: unexpected spec key\(s\) 'layer_idx'"):
        instantiate("EmbeddingLayer", {"vocab_size": 10, "hidden_size": 4, "layer_idx": 0})


def test_error_instantiate_dtype_or_parallelism_in_specs() -> None:
    with pytest.raises(CatalogError, match=r"NormLayer: spec key\(s\) 'dtype' are not allowed"):
        instantiate("NormLayer", {"hidden_size": 64, "dtype": "bf16"})
    with pytest.raises(
        CatalogError, match=r"'parallelism' are not allowed.*pass dtype=/parallelism="
    ):
        instantiate("NormLayer", {"hidden_size": 64, "parallelism": {}})


def test_error_instantiate_bad_parallelism() -> None:
    specs = {"hidden_size": 8192, "num_heads": 64, "num_kv_heads": 8, "head_dim": 128}
    with pytest.raises(
        CatalogError,
        match=r"GroupedQueryAttentionLayer: tensor_parallel=16 does not divide num_kv_heads=8; "
        r".*one of 1, 2, 4, 8",
    ):
        instantiate("GroupedQueryAttentionLayer", specs, parallelism={"tensor_parallel": 16})


def test_error_instantiate_bad_dtype() -> None:
    with pytest.raises(CatalogError, match=r"dtype='int4' is not known"):
        instantiate("NormLayer", {"hidden_size": 64}, dtype="int4")


def test_spec_parameters_match_mantile_spec_table() -> None:
    assert spec_parameters(SlidingWindowAttentionLayer) == (
        ("hidden_size", "num_query_heads", "num_kv_heads", "head_dim"),
        {"layer_idx": 0, "sliding_window": None, "num_sinks": 0, "has_bias": False},
    )
    assert spec_parameters(MoELayer) == (
        ("hidden_size", "intermediate_size", "num_experts", "top_k"),
        {"layer_idx": 0, "num_shared_experts": 0, "num_projections": 2, "has_bias": False},
    )
    assert spec_parameters(GatedMLPLayer) == (
        ("hidden_size", "intermediate_size"),
        {"layer_idx": 0},
    )
    assert spec_parameters(EmbeddingLayer) == (("vocab_size", "hidden_size"), {})
    assert spec_parameters(NormLayer) == (("hidden_size",), {"layer_idx": 0, "has_bias": False})


def test_catalog_holds_the_eight_classes() -> None:
    assert set(CATALOG) == set(EXPECTED_PARALLELISM)
    for name, cls in CATALOG.items():
        assert cls.__name__ == name
        assert EXPECTED_PARALLELISM[name] == cls.SUPPORTED_PARALLELISM
        assert cls.__doc__ and "\n" not in cls.__doc__.strip()
    assert not Layer.SUPPORTED_PARALLELISM
    with pytest.raises(TypeError):
        Layer(0, BF16)  # type: ignore[abstract]
