"""Dense MLP rules: split fc1/fc2 blocks, learned activations, projections told by shape."""

from __future__ import annotations

from .conftest import BERT_LIKE, HEADS, INTER, LAYERS, LLAMA_LIKE, H, V, build, entries, no_unknown


def test_fc1_fc2_blocks_directly_in_the_layer_are_one_mlp() -> None:
    result = build("opt", **{**BERT_LIKE, "ffn_dim": INTER, "word_embed_proj_dim": H})
    found = entries(result)
    assert (found["mlp"].class_name, found["mlp"].count) == ("MLPLayer", LAYERS)
    assert found["mlp"].specs["intermediate_size"] == INTER
    assert found["mlp"].parameter_count == 2 * H * INTER
    assert (found["mlp_bias"].gap_kind, found["mlp_bias"].parameter_count) == (
        "mlp_bias",
        INTER + H,
    )
    no_unknown(result)


def test_trainable_activation_parameters() -> None:
    result = build("apertus", **LLAMA_LIKE)
    found = entries(result)
    activation = found["mlp_activation"]
    assert (activation.gap_kind, activation.parameter_count) == ("learned_activation", 2)
    assert found["mlp"].supported
    no_unknown(result)


def test_mlp_projections_named_by_position_are_told_apart_by_shape() -> None:
    sizes = {"n_embd": H, "dff": INTER, "n_layer": LAYERS, "n_head": HEADS, "vocab_size": V}
    result = build("ctrl", **sizes, n_positions=32)
    found = entries(result)
    assert (found["mlp"].class_name, found["mlp"].specs["intermediate_size"]) == ("MLPLayer", INTER)
    assert found["lm_head"].parameter_count == V  # tied weight, own bias
    no_unknown(result)
