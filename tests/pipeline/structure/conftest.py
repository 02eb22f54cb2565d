"""Tiny configs of the sweep's models, built whole with accounting checked exactly.

Every build here also closes accounting exactly (checked in `build`), so a rule that loses or
double counts a tensor fails whichever test uses it.
"""

from __future__ import annotations

from typing import Any

import transformers
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

from harness.pipeline.config import BuildResult, accounting_problems, build_from_inspection
from harness.pipeline.inventory import inspect_config
from harness.pipeline.mapping import LayerEntry

H, INTER, V, HEADS, KV_HEADS, HEAD_DIM, LAYERS = 64, 128, 256, 4, 2, 16, 2


LLAMA_LIKE = {
    "hidden_size": H,
    "intermediate_size": INTER,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": HEADS,
    "num_key_value_heads": KV_HEADS,
    "vocab_size": V,
}


BERT_LIKE = {
    "hidden_size": H,
    "intermediate_size": INTER,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": HEADS,
    "vocab_size": V,
    "max_position_embeddings": 32,
}


def tiny_config(model_type: str, architecture: str | None = None, **sizes: Any) -> dict[str, Any]:
    """A config.json dict of `model_type` with small sizes, naming its causal-LM class."""
    config = transformers.AutoConfig.for_model(model_type, **sizes).to_dict()
    config["architectures"] = [architecture or MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type]]
    return config


def build(model_type: str, **sizes: Any) -> BuildResult:
    """Structure, mapping and config of a tiny model; accounting must close exactly."""
    result = build_from_inspection(inspect_config(tiny_config(model_type, **sizes)))
    assert accounting_problems(result.config, result.inspection.total_params) == []
    return result


def entries(result: BuildResult) -> dict[str, LayerEntry]:
    return {entry.name: entry for entry in result.entries}


def no_unknown(result: BuildResult) -> None:
    assert [e.name for e in result.entries if e.gap_kind == "unknown"] == []


def build_whole(model_type: str, architecture: str, **sizes: Any) -> BuildResult:
    """An image-text model built whole (vision tower and projector included); closes exactly."""
    config = tiny_config(model_type, architecture, **sizes)
    result = build_from_inspection(inspect_config(config))
    assert accounting_problems(result.config, result.inspection.total_params) == []
    return result


TEXT_SIZES = {**LLAMA_LIKE, "head_dim": HEAD_DIM}
