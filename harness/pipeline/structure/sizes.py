"""Sizes the config states (each model spells them its own way), per layer, and their checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..inventory import Inspection, TensorKind, TensorRecord
from .attrs import EmbeddingAttrs
from .names import EMBEDDING_NAMES
from .records import Component, ComponentKind, Finding, FindingLevel

__all__ = ["ConfigSizes", "LayerOverrides", "arch_value"]


def arch_value(config: dict[str, Any], *names: str, default: Any = None) -> Any:
    """First non-None value among config keys `names` (models spell the same size differently)."""
    for name in names:
        value = config.get(name)
        if value is not None:
            return value
    return default


# Sub-configs that hold some of the text stack's own sizes (DBRX's and MPT's attention and FFN).
_SIZE_SUB_CONFIGS = ("attn_config", "ffn_config")


def _text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config whose sizes describe the text stack: a nested `text_config` wins when present,
    and the sizes in `attn_config` / `ffn_config` join it."""
    text = config.get("text_config")
    merged = {**config, **text} if isinstance(text, dict) else dict(config)
    for key in _SIZE_SUB_CONFIGS:
        sub = merged.get(key)
        if isinstance(sub, dict):
            merged = {**{k: v for k, v in sub.items() if v is not None}, **merged}
    return merged


# Per-layer sizes a config may give: its key -> the ConfigSizes field.
_OVERRIDE_KEYS = {
    "num_attention_heads": "num_heads",
    "num_key_value_heads": "num_kv_heads",
    "head_dim": "head_dim",
    "v_head_dim": "v_head_dim",
}


@dataclass(frozen=True)
class LayerOverrides:
    """Sizes that differ per layer, as a config states them: `per_layer_config` (transformers'
    heterogeneous configs, Gemma 4's wider full-attention heads), `<size>_per_layer` lists
    (Laguna's heads per layer), and `swa_<size>` for sliding-window layers (MiMo-V2-Flash).

    Each table maps ConfigSizes field names to values; a layer's own value wins over its layer
    type's, and a None there (a size the layer's table leaves null) falls back to the stack's.
    """

    per_layer: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    per_layer_type: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def sizes(self, index: int, layer_type: str) -> dict[str, Any]:
        """The sizes layer `index` of type `layer_type` sets, by ConfigSizes field."""
        own = {**self.per_layer_type.get(layer_type, {}), **self.per_layer.get(index, {})}
        return {key: value for key, value in own.items() if value is not None}


@dataclass(frozen=True)
class ConfigSizes:
    """The sizes a config states for one stack (the text stack, or an encoder from its
    sub-config), one name each however the model spells it; None where the config is silent.

    Values are as config.json holds them (the build already vetted the sizes it used, see
    harness.limits); the structure step trusts shapes first and checks these against them.
    """

    hidden_size: int | None = None
    num_layers: int | None = None
    num_heads: int | None = None
    num_kv_heads: int | None = None
    head_dim: int | None = None
    vocab_size: int | None = None
    num_experts: int | None = None
    experts_per_token: int | None = None
    sliding_window: int | None = None
    use_sliding_window: bool | None = None
    layer_types: Sequence[str] | None = None  # the config's list, checked against the layers
    multi_query: bool | None = None
    max_position_embeddings: int | None = None
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_nope_head_dim: int | None = None
    qk_rope_head_dim: int | None = None
    v_head_dim: int | None = None
    state_size: int | None = None
    conv_kernel: int | None = None
    linear_num_key_heads: int | None = None
    linear_num_value_heads: int | None = None
    linear_key_head_dim: int | None = None
    linear_value_head_dim: int | None = None
    hc_mult: int | None = None
    hidden_size_per_layer_input: int | None = None
    vocab_size_per_layer_input: int | None = None
    index_n_heads: int | None = None
    index_head_dim: int | None = None
    index_topk: int | None = None
    layer_overrides: LayerOverrides = field(default_factory=LayerOverrides)

    def for_layer(self, index: int, layer_type: str) -> ConfigSizes:
        """These sizes with those the config gives for this layer or this layer type."""
        own = self.layer_overrides.sizes(index, layer_type)
        return replace(self, **own) if own else self


def _arch(inspection: Inspection) -> ConfigSizes:
    c = _text_config(inspection.config)
    heads = arch_value(
        c, "num_attention_heads", "n_head", "num_heads", "decoder_attention_heads", "n_heads"
    )
    return ConfigSizes(
        hidden_size=arch_value(c, "hidden_size", "n_embd", "d_model"),
        num_layers=arch_value(c, "num_hidden_layers", "n_layer", "num_layers"),
        num_heads=heads,
        num_kv_heads=arch_value(
            c, "num_key_value_heads", "num_kv_heads", "n_head_kv", "kv_n_heads"
        ),
        head_dim=c.get("head_dim"),
        vocab_size=c.get("vocab_size"),
        num_experts=arch_value(
            c, "num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts"
        ),
        experts_per_token=arch_value(
            c,
            "num_experts_per_tok",
            "moe_top_k",
            "top_k",
            "moe_topk",
            "num_experts_per_token",
            "moe_k",
            "top_k_experts",
        ),
        sliding_window=c.get("sliding_window"),
        use_sliding_window=c.get("use_sliding_window"),
        layer_types=c.get("layer_types"),
        multi_query=c.get("multi_query"),
        max_position_embeddings=arch_value(c, "max_position_embeddings", "n_positions"),
        q_lora_rank=c.get("q_lora_rank"),
        kv_lora_rank=c.get("kv_lora_rank"),
        qk_nope_head_dim=c.get("qk_nope_head_dim"),
        qk_rope_head_dim=c.get("qk_rope_head_dim"),
        v_head_dim=c.get("v_head_dim"),
        state_size=arch_value(c, "state_size", "mamba_d_state", "d_state"),
        conv_kernel=arch_value(c, "conv_kernel", "mamba_d_conv", "linear_conv_kernel_dim"),
        linear_num_key_heads=c.get("linear_num_key_heads"),
        linear_num_value_heads=c.get("linear_num_value_heads"),
        linear_key_head_dim=c.get("linear_key_head_dim"),
        linear_value_head_dim=c.get("linear_value_head_dim"),
        hc_mult=c.get("hc_mult"),
        hidden_size_per_layer_input=c.get("hidden_size_per_layer_input"),
        vocab_size_per_layer_input=c.get("vocab_size_per_layer_input"),
        layer_overrides=_layer_overrides(c),
        index_n_heads=c.get("index_n_heads"),
        index_head_dim=c.get("index_head_dim"),
        index_topk=c.get("index_topk"),
    )


def _layer_overrides(c: dict[str, Any]) -> LayerOverrides:
    """The per-layer and per-layer-type sizes of the (text) config `c`."""
    per_layer: dict[int, dict[str, Any]] = {}
    table = c.get("per_layer_config")
    if isinstance(table, dict):
        for key, values in table.items():
            if str(key).isdigit() and isinstance(values, dict):
                per_layer[int(key)] = {
                    _OVERRIDE_KEYS[k]: v for k, v in values.items() if k in _OVERRIDE_KEYS
                }
    for key, name in _OVERRIDE_KEYS.items():
        values = c.get(f"{key}_per_layer")
        if isinstance(values, list):
            for index, value in enumerate(values):
                per_layer.setdefault(index, {}).setdefault(name, value)
    sliding = {name: c[f"swa_{key}"] for key, name in _OVERRIDE_KEYS.items() if c.get(f"swa_{key}")}
    return LayerOverrides(per_layer, {"sliding_attention": sliding})


def _resolve_layer_types(arch: ConfigSizes, num_layers: int) -> tuple[str, ...]:
    declared = arch.layer_types
    if isinstance(declared, list) and len(declared) == num_layers:
        return tuple(str(t) for t in declared)
    sliding = bool(arch.sliding_window) and arch.use_sliding_window is not False
    return tuple("sliding_attention" if sliding else "full_attention" for _ in range(num_layers))


def _hidden_size(
    records: Sequence[TensorRecord], arch: ConfigSizes, findings: list[Finding]
) -> int:
    configured = arch.hidden_size
    embeds = [
        t
        for t in records
        if t.kind is TensorKind.PARAM
        and t.module_path.rpartition(".")[2] in EMBEDDING_NAMES
        and len(t.shape) == 2
    ]
    observed = embeds[0].shape[1] if embeds else configured
    if configured is not None and observed != configured:
        findings.append(
            Finding(
                FindingLevel.MISMATCH,
                "hidden_size",
                f"config says {configured}, embedding width is {observed}",
            )
        )
    return int(observed or 0)


def _vocab_size(components: Sequence[Component], arch: ConfigSizes, findings: list[Finding]) -> int:
    embeddings = [c for c in components if c.kind is ComponentKind.EMBEDDING]
    observed = embeddings[0].attrs_as(EmbeddingAttrs).vocab_size if embeddings else None
    configured = arch.vocab_size
    if configured is not None and observed is not None and observed != configured:
        findings.append(
            Finding(
                FindingLevel.MISMATCH,
                "vocab_size",
                f"config says {configured}, embedding has {observed} rows",
            )
        )
    return int(observed or configured or 0)


def _cross_check_layers(arch: ConfigSizes, num_layers: int, findings: list[Finding]) -> None:
    configured = arch.num_layers
    if configured is not None and configured != num_layers:
        findings.append(
            Finding(
                FindingLevel.MISMATCH,
                "num_layers",
                f"config says {configured}, the built model has {num_layers} decoder layers",
            )
        )
