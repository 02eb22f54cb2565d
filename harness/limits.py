"""Sanity limits on a config's sizes, checked before transformers builds anything.

transformers checks types for most fields but accepts zero and negative sizes, a key/value head
count that does not divide the query heads, and sizes no model has (a vocabulary of 10^12). On the
meta device such a model builds without allocating a byte, so the harness would write a config
whose numbers are a typo's. The limits are far above every published model, low enough that the
dry run stays quick (build time grows linearly with the layer count) and the numbers mean something:

* one dimension (hidden, intermediate, vocabulary, head, rank): at most 2^24 = 16,777,216, 64x the
  largest published vocabulary (262,144) and 300x the widest hidden size;
* decoder layers: at most 1,024, 8x the deepest published decoder (126); a million layers would
  take half an hour and gigabytes of module objects to build on the meta device;
* experts per MoE layer: at most 2^16 = 65,536, 4x Doge's default (16,384 tiny experts, a
  product-key style MoE; the most among ordinary MoE checkpoints is 512);
* total parameters: at most 10^14, 50x the largest published models;
* one parameter tensor: at most 2^38 elements, 24x the largest published one (Kimi K2's fused
  experts, 384 x 4,096 x 7,168); it catches a size no key list names (a position table of 10^12
  rows is 64 trillion parameters, below the total's limit, in one tensor);
* context (`max_position_embeddings`): at most 2^27 tokens, 12x the longest published (10M);
* top-k: no more experts per token than the layer has (else active > total parameters);
* `sliding_window`: a positive number of tokens or null (0 would silently mean full attention),
  unless `use_sliding_window` is false, where transformers ignores the value.

Where transformers itself accepts a shape, the limits do too: a feed-forward width given per layer
(Gemma 3n's `intermediate_size`, Ernie 4.5 VL's per-modality `moe_intermediate_size`) is a list
whose every entry is checked; an MLA head may have no RoPE part (GLM-5-Next requires
`qk_rope_head_dim` 0 and names that part `head_dim`), so those may be 0, not both; optional
sizes that official configs set to 0 for "absent" (a shared expert's width, an expert count, a
query LoRA rank) may be 0 too. Query heads
that do not divide the hidden size are refused only when nothing else gives the head width: a
`head_dim`-like key in the file (`attention_head_size`, `d_kv`, `kv_channels`, an MLA
`qk_nope_head_dim`) or in the config class (a default, or an alias such as glm4_moe_lite's
`head_dim` -> `qk_rope_head_dim`). `pad_token_id` is not checked: transformers only warns, the id
changes no size (MusicGen pads with the id one past its codebook and sizes its embeddings
`vocab_size + 1`), and where an embedding does take it as `padding_idx` an id outside the table
fails the build itself, which is reported as a build error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InvalidConfigError

__all__ = [
    "MAX_CONTEXT",
    "MAX_DIMENSION",
    "MAX_EXPERTS",
    "MAX_LAYERS",
    "MAX_TENSOR_ELEMENTS",
    "MAX_TOTAL_PARAMS",
    "check_built_config",
    "check_config_values",
    "check_inventory",
    "check_total_params",
    "class_gives_head_width",
    "config_problems",
]

MAX_DIMENSION = 2**24
MAX_LAYERS = 1024
MAX_EXPERTS = 2**16
MAX_TOTAL_PARAMS = 10**14
MAX_TENSOR_ELEMENTS = 2**38
MAX_CONTEXT = 2**27

_HIDDEN = ("hidden_size", "n_embd", "d_model")
_LAYERS = ("num_hidden_layers", "n_layer", "num_layers")
_HEADS = ("num_attention_heads", "n_head", "num_heads")
_KV_HEADS = ("num_key_value_heads", "num_kv_heads", "n_head_kv")
_EXPERTS = ("num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts")
_TOP_K = ("num_experts_per_tok", "moe_top_k", "moe_k", "num_experts_per_token")
_REQUIRED = (*_HIDDEN, *_LAYERS, *_HEADS, "vocab_size")
_DIMENSIONS = (
    *_HIDDEN,
    "vocab_size",
    "intermediate_size",
    "n_inner",
    "ffn_hidden_size",
    "moe_intermediate_size",
    "shared_expert_intermediate_size",
    "head_dim",
    "kv_lora_rank",
    "q_lora_rank",
    "qk_nope_head_dim",
    "qk_rope_head_dim",
    "v_head_dim",
    "n_positions",
)
_COUNTS = (*_HEADS, *_KV_HEADS, *_TOP_K, "max_position_embeddings")
_PER_LAYER = ("intermediate_size", "moe_intermediate_size")
_MAY_BE_ZERO = ("qk_rope_head_dim", "qk_nope_head_dim")
# Optional sizes an official config may set to 0 for "absent", which transformers reads that way
# (Qwen3-Coder-480B's shared_expert_intermediate_size 0: no shared expert; num_experts 0: dense).
_ZERO_IS_ABSENT = (
    "shared_expert_intermediate_size",
    "moe_intermediate_size",
    "q_lora_rank",
    "num_experts_per_tok",
    *_EXPERTS,
)
_HEAD_WIDTH = ("head_dim", "attention_head_size", "d_kv", "kv_channels", "qk_nope_head_dim")
_LIMITS: dict[str, int] = {
    **{key: MAX_DIMENSION for key in _DIMENSIONS},
    **{key: MAX_LAYERS for key in _LAYERS},
    **{key: MAX_EXPERTS for key in _EXPERTS},
    **{key: MAX_DIMENSION for key in _COUNTS if key != "max_position_embeddings"},
    "max_position_embeddings": MAX_CONTEXT,
}
_WHY = {
    MAX_CONTEXT: "the longest published context is 10,485,760 tokens",
    MAX_DIMENSION: "no published model has a dimension above 2^24",
    MAX_LAYERS: "no published decoder is deeper than 126 layers",
    MAX_EXPERTS: "the most experts of any model transformers defines is Doge's 16,384",
}


def _value_problem(key: str, value: Any, *, zero_ok: bool = False) -> str | None:
    if value is None:
        return f"`{key}` is null; set it to a positive integer" if key in _REQUIRED else None
    if key in _PER_LAYER and isinstance(value, list):
        return _list_problem(key, value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = json.dumps(value, default=str)
        return f"`{key}` is {shown} (a JSON {_json_type(value)}); it must be a positive integer"
    if value == 0 and zero_ok:
        return None
    if value <= 0:
        return f"`{key}` is {value}; a size or count must be a positive integer"
    limit = _LIMITS.get(key)
    if limit is not None and value > limit:
        return f"`{key}` is {value:,}, above the limit of {limit:,} ({_WHY[limit]}): a typo?"
    return None


def _list_problem(key: str, values: list[Any]) -> str | None:
    if not values:
        return f"`{key}` is an empty list; give one positive integer per layer (or one for all)"
    for index, value in enumerate(values):
        problem = _value_problem(key, value)
        if problem:
            return problem.replace(f"`{key}`", f"`{key}[{index}]`", 1)
    return None


def _json_type(value: Any) -> str:
    names = {bool: "boolean", str: "string", float: "number", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _first_present(config: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, Any]:
    for key in keys:
        if isinstance(config.get(key), int) and not isinstance(config.get(key), bool):
            return key, config[key]
    return "", None


def _zero_ok(key: str, config: Mapping[str, Any]) -> bool:
    if key in _MAY_BE_ZERO or key in _ZERO_IS_ABSENT:
        return True
    return key == "head_dim" and config.get("qk_rope_head_dim") == 0


def config_problems(config: Mapping[str, Any], *, head_width_default: bool = False) -> list[str]:
    """Every size in a raw config that is null, not a positive int, or past its limit.

    `head_width_default`: the config class supplies the head width when the file has none.
    """
    problems: list[str] = []
    for key in (*_REQUIRED, *_DIMENSIONS, *_COUNTS, *_EXPERTS):
        if key in config:
            problem = _value_problem(key, config[key], zero_ok=_zero_ok(key, config))
            if problem and problem not in problems:
                problems.append(problem)
    problems += _window_problems(config)
    if problems:
        return problems
    problems += _top_k_problems(config)
    if all(config.get(key) == 0 for key in _MAY_BE_ZERO):
        problems.append(
            "`qk_nope_head_dim` and `qk_rope_head_dim` are both 0; an MLA query/key head needs "
            "a width in at least one of them"
        )
    heads_key, heads = _first_present(config, _HEADS)
    kv_key, kv_heads = _first_present(config, _KV_HEADS)
    if heads and kv_heads and heads % kv_heads:
        problems.append(
            f"`{kv_key}` ({kv_heads}) does not divide `{heads_key}` ({heads}); "
            "grouped-query attention shares each key/value head among a whole number of query heads"
        )
    hidden_key, hidden = _first_present(config, _HIDDEN)
    width_given = head_width_default or any(config.get(key) is not None for key in _HEAD_WIDTH)
    if heads and hidden and not width_given and hidden % heads:
        problems.append(
            f"`{heads_key}` ({heads}) does not divide `{hidden_key}` ({hidden}) and there is no "
            "`head_dim`; each head would be hidden_size / heads wide"
        )
    return problems


def _window_problems(config: Mapping[str, Any]) -> list[str]:
    window = config.get("sliding_window")
    if window is None or config.get("use_sliding_window") is False:
        return []  # null is no window; with use_sliding_window false transformers ignores it
    if isinstance(window, bool) or not isinstance(window, int):
        shown = json.dumps(window, default=str)
        return [
            f"`sliding_window` is {shown} (a JSON {_json_type(window)}); it must be a positive "
            "number of tokens, or null for no window"
        ]
    if window <= 0:
        return [
            f"`sliding_window` is {window}; a window is a positive number of tokens (0 would "
            "silently mean full attention): write null for no window"
        ]
    return []


def _top_k_problems(config: Mapping[str, Any]) -> list[str]:
    """Top-k above the expert count: every token routed to more experts than exist."""
    top_k_key, top_k = _first_present(config, _TOP_K)
    experts_key, experts = _first_present(config, _EXPERTS)
    if top_k and experts and top_k > experts:
        return [
            f"`{top_k_key}` ({top_k}) is above `{experts_key}` ({experts}): a token cannot be "
            "routed to more experts than the layer has (active parameters would exceed the total)"
        ]
    return []


def check_built_config(hf_config: Any, *, where: str) -> None:
    """Raise InvalidConfigError when the transformers config, its defaults filled in, routes each
    token to more experts than a layer has (a top-k given without the expert count, or the reverse).
    """
    problems = []
    for prefix, config in (("", hf_config), ("text_config: ", _text_config(hf_config))):
        if config is None:
            continue
        values = {key: getattr(config, key, None) for key in (*_TOP_K, *_EXPERTS)}
        problems += [prefix + problem for problem in _top_k_problems(values)]
    if problems:
        raise InvalidConfigError(
            f"{where}: {'; '.join(problems)} (defaults of the config class filled in); "
            "fix the config.json"
        )


def _text_config(hf_config: Any) -> Any:
    getter = getattr(hf_config, "get_text_config", None)
    try:
        text = getter() if callable(getter) else None
    except Exception:  # a config class whose sub-config accessor fails: nothing more to check
        return None
    return None if text is hf_config else text


def class_gives_head_width(config_class: Any) -> bool:
    """The transformers config class has a head width of its own: an int default or an alias."""
    if "head_dim" in (getattr(config_class, "attribute_map", None) or {}):
        return True
    default = getattr(config_class, "head_dim", None)
    return isinstance(default, int) and not isinstance(default, bool)


def _config_classes(model_type: str | None) -> tuple[Any, Any]:
    """The config class of `model_type` and of its `text_config` (None where there is none)."""
    if not model_type:
        return None, None
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if model_type not in CONFIG_MAPPING:
        return None, None
    config_class = CONFIG_MAPPING[model_type]
    sub_configs = getattr(config_class, "sub_configs", None) or {}
    return config_class, sub_configs.get("text_config")


def check_config_values(
    config: Mapping[str, Any], *, where: str, model_type: str | None = None
) -> None:
    """Raise InvalidConfigError listing every problem `config_problems` finds (text_config too).

    With `model_type`, a head width the transformers config class supplies counts as given.
    """
    config_class, text_class = _config_classes(model_type)
    problems = config_problems(config, head_width_default=class_gives_head_width(config_class))
    nested = config.get("text_config")
    if isinstance(nested, Mapping):
        nested_class = _config_classes(nested.get("model_type"))[0] or text_class
        nested_problems = config_problems(
            nested, head_width_default=class_gives_head_width(nested_class)
        )
        problems += [f"text_config: {problem}" for problem in nested_problems]
    if problems:
        raise InvalidConfigError(f"{where}: {'; '.join(problems)}; fix the config.json")


def check_inventory(tensors: Iterable[Any], *, where: str) -> None:
    """Raise InvalidConfigError when the dry run is past a limit on what the model is: its total
    parameters, or its largest parameter tensor (whatever config key sized it)."""
    params = [t for t in tensors if t.kind == "param"]
    check_total_params(sum(t.numel for t in params), where=where)
    largest = max(params, key=lambda t: t.numel, default=None)
    if largest is not None and largest.numel > MAX_TENSOR_ELEMENTS:
        raise InvalidConfigError(
            f"{where}: the dry run's largest tensor {largest.name} has {largest.numel:,} elements "
            f"({list(largest.shape)}), above the limit of {MAX_TENSOR_ELEMENTS:,} (24x the largest "
            "published tensor): check the sizes in the config.json for a typo"
        )


def check_total_params(total: int, *, where: str) -> None:
    """Raise InvalidConfigError when a dry-run total is past MAX_TOTAL_PARAMS."""
    if total > MAX_TOTAL_PARAMS:
        raise InvalidConfigError(
            f"{where}: the dry run counts {total:,} parameters, above the limit of "
            f"{MAX_TOTAL_PARAMS:,} (50x the largest published models): check the sizes in the "
            "config.json for a typo"
        )
