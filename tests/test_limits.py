"""harness.limits: what it accepts because transformers builds it, and what it still refuses.

Each accepted shape is one a default config of the installed transformers has (the coverage sweep
found them refused before); each refusal next to it is the mistake the same check must still catch.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import InvalidConfigError
from harness.limits import MAX_EXPERTS, check_config_values, class_gives_head_width, config_problems

from .conftest import TINY_LLAMA


def tiny(**changes: Any) -> dict[str, Any]:
    """The tiny Llama config with some keys changed."""
    return {**TINY_LLAMA, **changes}


def test_a_per_layer_feed_forward_width_is_a_list_of_sizes() -> None:
    assert config_problems(tiny(intermediate_size=[128, 256])) == []
    assert config_problems(tiny(moe_intermediate_size=[1536, 512])) == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ([128, 0], "`intermediate_size[1]` is 0; a size or count must be a positive integer"),
        ([128, "64"], '`intermediate_size[1]` is "64" (a JSON string)'),
        ([2**25], "`intermediate_size[0]` is 33,554,432, above the limit of 16,777,216"),
        ([], "`intermediate_size` is an empty list"),
    ],
)
def test_error_each_entry_of_a_per_layer_list_is_checked(value: list[Any], says: str) -> None:
    assert [p for p in config_problems(tiny(intermediate_size=value)) if says in p]


def test_error_a_list_is_refused_where_transformers_wants_one_size() -> None:
    assert config_problems(tiny(hidden_size=[64, 64])) == [
        "`hidden_size` is [64, 64] (a JSON array); it must be a positive integer"
    ]


def test_doges_16384_experts_are_within_the_expert_limit() -> None:
    assert config_problems(tiny(num_experts=16_384)) == []
    assert config_problems(tiny(num_experts=MAX_EXPERTS + 1)) == [
        f"`num_experts` is {MAX_EXPERTS + 1:,}, above the limit of {MAX_EXPERTS:,} (the most "
        "experts of any model transformers defines is Doge's 16,384): a typo?"
    ]


def test_a_pad_token_id_past_the_vocabulary_is_not_a_limit_problem() -> None:
    assert config_problems(tiny(pad_token_id=256)) == []


def test_an_mla_head_may_have_no_rope_part() -> None:
    nope = tiny(qk_rope_head_dim=0, qk_nope_head_dim=256, head_dim=0)
    assert config_problems(nope) == []


def test_error_an_mla_head_needs_a_width_and_head_dim_zero_needs_the_rope_convention() -> None:
    assert config_problems(tiny(qk_rope_head_dim=0, qk_nope_head_dim=0)) == [
        "`qk_nope_head_dim` and `qk_rope_head_dim` are both 0; an MLA query/key head needs a "
        "width in at least one of them"
    ]
    assert config_problems(tiny(head_dim=0)) == [
        "`head_dim` is 0; a size or count must be a positive integer"
    ]
    assert config_problems(tiny(head_dim=0, qk_rope_head_dim=64)) == [
        "`head_dim` is 0; a size or count must be a positive integer"
    ]


HEADS_DO_NOT_DIVIDE = (
    "`num_attention_heads` (6) does not divide `hidden_size` (64) and there is no `head_dim`; "
    "each head would be hidden_size / heads wide"
)


@pytest.mark.parametrize(
    "width", [{"head_dim": 16}, {"attention_head_size": 16}, {"d_kv": 16}, {"qk_nope_head_dim": 8}]
)
def test_a_head_width_key_lets_heads_not_divide_the_hidden_size(width: dict[str, int]) -> None:
    assert config_problems(tiny(num_attention_heads=6, num_key_value_heads=2, **width)) == []


def test_error_heads_not_dividing_the_hidden_size_without_a_width_are_refused() -> None:
    assert config_problems(tiny(num_attention_heads=6, num_key_value_heads=2)) == [
        HEADS_DO_NOT_DIVIDE
    ]


def test_a_config_class_can_give_the_head_width() -> None:
    from transformers import Glm4MoeConfig, Glm4MoeLiteConfig, LlamaConfig, Qwen3Config

    assert class_gives_head_width(Glm4MoeLiteConfig)
    assert class_gives_head_width(Qwen3Config)
    assert not class_gives_head_width(LlamaConfig)
    assert not class_gives_head_width(Glm4MoeConfig)
    assert not class_gives_head_width(None)


def test_check_config_values_asks_the_model_types_config_class() -> None:
    odd = tiny(num_attention_heads=6, num_key_value_heads=2)
    check_config_values(odd, where="qwen3", model_type="qwen3")
    check_config_values({"text_config": {**odd, "model_type": "qwen3"}}, where="vlm")
    with pytest.raises(InvalidConfigError, match=r"llama: `num_attention_heads` \(6\)"):
        check_config_values(odd, where="llama", model_type="llama")
    with pytest.raises(InvalidConfigError, match=r"vlm: text_config: `num_attention_heads` \(6\)"):
        check_config_values({"text_config": {**odd, "model_type": "llama"}}, where="vlm")
