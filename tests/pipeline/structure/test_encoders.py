"""Encoder parts: the text stack alone, a vision tower and its projector."""

from __future__ import annotations

from harness.pipeline.config import build_from_inspection
from harness.pipeline.inventory import inspect_config

from .conftest import (
    LAYERS,
    LLAMA_LIKE,
    TEXT_SIZES,
    H,
    build_whole,
    entries,
    no_unknown,
    tiny_config,
)


def test_text_stack_keeps_the_language_model_and_head_only() -> None:
    config = tiny_config(
        "llava",
        architecture="LlavaForConditionalGeneration",
        text_config={"model_type": "llama", **LLAMA_LIKE},
        vision_config={
            "model_type": "clip_vision_model",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 16,
        },
    )
    whole = inspect_config(config)
    text = inspect_config(config, text_stack=True)
    assert any("vision_tower" in t.name for t in whole.tensors)
    assert not any("vision_tower" in t.name or "projector" in t.name for t in text.tensors)
    left_out = whole.total_params - text.total_params
    assert left_out > 0 and text.notes[-1].endswith(f"{left_out:,} parameters outside it left out")
    result = build_from_inspection(text)
    assert result.structure.num_layers == LAYERS


def test_a_vision_tower_is_its_own_part_read_from_its_own_config() -> None:
    """Qwen2-VL's `visual.blocks.N` match the layer pattern but are not text layers: the text
    stack keeps its own depth, the vision blocks get the vision config's heads, and their
    entries say they are vision."""
    vision = {"depth": 3, "embed_dim": 32, "num_heads": 2, "hidden_size": H, "mlp_ratio": 2}
    result = build_whole(
        "qwen2_vl",
        "Qwen2VLForConditionalGeneration",
        text_config=TEXT_SIZES,
        vision_config=vision,
    )
    found = entries(result)
    assert result.structure.num_layers == LAYERS and result.config["num_layers"] == LAYERS
    assert result.structure.parts == ("vision",)
    attention = found["vision_attention"]
    assert (attention.count, attention.layer_indices) == (3, (0, 1, 2))
    assert attention.supported and attention.specs["hidden_size"] == 32
    assert found["vision_patch_embedding"].gap_kind == "patch_embedding"
    assert found["vision_projector"].gap_kind == "multimodal_projector"
    assert found["attention"].count == LAYERS  # the text attention, with the text config's heads
    assert result.config["findings"] == []
    text = [c for c in result.structure.components if c.part == "text"]
    assert not any(".visual." in c.path for c in text)
    no_unknown(result)


def test_a_llava_style_tower_and_projector_map_to_classes_or_their_gaps() -> None:
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 28,
        "patch_size": 14,
    }
    result = build_whole(
        "llava", "LlavaForConditionalGeneration", text_config=TEXT_SIZES, vision_config=vision
    )
    found = entries(result)
    assert found["vision_attention"].specs["hidden_size"] == 32
    assert found["vision_mlp"].class_name == "MLPLayer"
    assert found["vision_position_embedding"].class_name == "EmbeddingLayer"
    projector = found["vision_projector"]
    assert projector.specs["in_features"] == 32 and projector.specs["out_features"] == H
    assert result.structure.num_layers == LAYERS
    no_unknown(result)
