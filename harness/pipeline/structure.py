"""Step 3, structure: group all tensors into components per decoder layer, sizes from shapes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .inventory import LAYER_STACKS, Inspection, TensorRecord

__all__ = [
    "TEXT",
    "Component",
    "Finding",
    "Structure",
    "analyze_layer_structure",
    "arch_value",
]

TEXT = "text"
ATTENTION_BLOCKS = {"self_attn", "attention", "attn", "self_attention", "multi_head_attention"}
MLP_BLOCKS = {"mlp", "feed_forward", "block_sparse_moe", "ffn", "shared_mlp", "experts", "moe"}
CROSS_ATTENTION_BLOCKS = {
    "encoder_attn",
    "crossattention",
    "cross_attn",
    "encoder_decoder_attention",
}
MAMBA_BLOCKS = {"mamba", "mixer"}
LINEAR_ATTENTION_BLOCKS = {"linear_attn"}
EMBEDDING_NAMES = {
    "embed_tokens",
    "embed_in",
    "wte",
    "word_embeddings",
    "embeddings",
    "tok_embeddings",
    "tokens_embed",
}
POSITION_EMBEDDING_NAMES = {"wpe", "embed_positions", "position_embeddings", "positions_embed"}
TOKEN_TYPE_EMBEDDING_NAMES = {"token_type_embeddings", "segment_embedding", "segment_emb"}
LM_HEAD_NAMES = {"lm_head", "embed_out", "output"}
# Output heads named otherwise; a module counts only when its weight is [vocab, hidden] or tied.
_OTHER_HEAD_NAMES = {"decoder", "generator_lm_head", "lm_loss", "head"}

_Q = {"q_proj", "query", "wq", "query_proj", "Wq", "q", "q_lin", "project_q"}
_K = {"k_proj", "key", "wk", "key_proj", "Wk", "k", "k_lin", "project_k"}
_V = {"v_proj", "value", "wv", "value_proj", "Wv", "v", "v_lin", "project_v"}
_O = {
    "o_proj",
    "dense",
    "c_proj",
    "out_proj",
    "wo",
    "Wo",
    "output",
    "proj",
    "o",
    "out_lin",
    "attention_out",
    "projection",
}
_QKV = {"qkv_proj", "query_key_value", "c_attn", "Wqkv", "qkv", "in_proj"}
_MLA = {"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj"}
_QK_NORMS = {"q_norm", "k_norm", "q_layernorm", "k_layernorm"}
_GATE = {"gate_proj", "w1", "wi_0", "w_0"}
_UP = {
    "up_proj",
    "w3",
    "c_fc",
    "dense_h_to_4h",
    "fc1",
    "fc_in",
    "intermediate",
    "linear_fc1",
    "layer_1",
    "wi",
    "Wi",
    "wi_1",
    "w_1",
    "lin1",
}
_DOWN = {
    "down_proj",
    "w2",
    "c_proj",
    "dense_4h_to_h",
    "fc2",
    "fc_out",
    "output",
    "output_linear",
    "linear_fc2",
    "layer_2",
    "wo",
    "Wo",
    "w_out",
    "lin2",
}
_GATE_UP = {"gate_up_proj", "input_linear"}
# Separate output-gate projections of gated attention (elementwise [n*d, H] or headwise [n, H]).
_ATTENTION_GATES = {"gate_proj", "g_proj", "output_gate"}
# Pass-through modules between a block and its projections (BERT's attention.self.query).
_WRAPPERS = {"self", "attention", "output"}
# Two layer-level blocks that together are one dense MLP: (up projection, down projection).
_SPLIT_MLPS = (
    ("fc1", "fc2"),
    ("intermediate", "output"),
    ("intermediate_query", "output_query"),
)
_NORM_NAME = re.compile(r"norm|(^|_)ln(_|\d|$)", re.IGNORECASE)
# Pass-through modules between a projection and its weight (Moshi's q_proj.linear.weight).
_INNER_WRAPPERS = {"linear"}
# Hyper-connection mixers around a sublayer or before the head (DeepSeek-V4's attn_hc, hc_head).
_HYPER_CONNECTION = re.compile(r"(^|_)(hc|hyper_connections?)($|_)")
# Per-layer input embeddings and their projections (Gemma 3n / Gemma 4).
_PER_LAYER_EMBEDDING = re.compile(r"^(per_layer_|embed_tokens_per_layer$)")
# A linear from the embedding width to the hidden size (ELECTRA, RemBERT).
EMBEDDING_PROJECTION_NAMES = {"embeddings_project", "embedding_hidden_mapping_in"}
# Containers whose `dense` transforms hidden states before the vocabulary projection (BERT).
_HEAD_TRANSFORM_PARENTS = {"transform", "lm_head", "generator_predictions", "predictions"}
# Learned lambdas of differential attention (DiffLlama).
_DIFFERENTIAL = re.compile(r"^lambda_[qk]\d$")
_ACTIVATIONS = {"act_fn", "act", "activation"}
_ROUTERS = {"gate", "router"}
_SHARED = {"shared_experts", "shared_expert", "shared_mlp"}


@dataclass(frozen=True)
class Finding:
    """A disagreement between the config and the tensor shapes, or a note on how a size was read."""

    level: str  # "mismatch" or "note"
    where: str
    message: str


@dataclass(frozen=True)
class Component:
    """One functional piece of the model (an attention block of layer 3, the final norm ...)."""

    kind: str
    path: str
    layer_index: int | None
    module_class: str
    tensors: tuple[TensorRecord, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    part: str = TEXT  # "text", or the encoder it belongs to: "vision", "audio" ...

    @property
    def parameter_count(self) -> int:
        """Parameters held by the component's tensors."""
        return sum(t.numel for t in self.tensors if t.kind == "param")


@dataclass(frozen=True)
class Structure:
    """Every component of a model, with the decoder layer count, layer types and findings."""

    model: str
    components: tuple[Component, ...]
    num_layers: int
    layer_types: tuple[str, ...]
    hidden_size: int
    vocab_size: int
    tied_embeddings: bool
    findings: tuple[Finding, ...]
    arch: dict[str, Any]

    @property
    def total_params(self) -> int:
        """Parameters over all components (equals the inspection total)."""
        return sum(c.parameter_count for c in self.components)

    def of_kind(self, kind: str, part: str = "text") -> list[Component]:
        """Components of one kind in one part of the model (the text stack unless told)."""
        return [c for c in self.components if c.kind == kind and c.part == part]

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts besides the text stack (`vision`, `audio` ...), in model order."""
        return tuple(dict.fromkeys(c.part for c in self.components if c.part != TEXT))


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


def _arch(inspection: Inspection) -> dict[str, Any]:
    c = _text_config(inspection.config)
    heads = arch_value(
        c, "num_attention_heads", "n_head", "num_heads", "decoder_attention_heads", "n_heads"
    )
    return {
        "hidden_size": arch_value(c, "hidden_size", "n_embd", "d_model"),
        "num_layers": arch_value(c, "num_hidden_layers", "n_layer", "num_layers"),
        "num_heads": heads,
        "num_kv_heads": arch_value(
            c, "num_key_value_heads", "num_kv_heads", "n_head_kv", "kv_n_heads"
        ),
        "head_dim": c.get("head_dim"),
        "vocab_size": c.get("vocab_size"),
        "intermediate_size": arch_value(c, "intermediate_size", "n_inner", "ffn_hidden_size"),
        "moe_intermediate_size": c.get("moe_intermediate_size"),
        "num_experts": arch_value(
            c, "num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts"
        ),
        "experts_per_token": arch_value(
            c,
            "num_experts_per_tok",
            "moe_top_k",
            "top_k",
            "moe_topk",
            "num_experts_per_token",
            "moe_k",
            "top_k_experts",
        ),
        "num_shared_experts": c.get("n_shared_experts"),
        "sliding_window": c.get("sliding_window"),
        "use_sliding_window": c.get("use_sliding_window"),
        "layer_types": c.get("layer_types"),
        "tie_word_embeddings": bool(c.get("tie_word_embeddings", False)),
        "multi_query": c.get("multi_query"),
        "max_position_embeddings": arch_value(c, "max_position_embeddings", "n_positions"),
        "q_lora_rank": c.get("q_lora_rank"),
        "kv_lora_rank": c.get("kv_lora_rank"),
        "qk_nope_head_dim": c.get("qk_nope_head_dim"),
        "qk_rope_head_dim": c.get("qk_rope_head_dim"),
        "v_head_dim": c.get("v_head_dim"),
        "state_size": arch_value(c, "state_size", "mamba_d_state", "d_state"),
        "conv_kernel": arch_value(c, "conv_kernel", "mamba_d_conv", "linear_conv_kernel_dim"),
        "linear_num_key_heads": c.get("linear_num_key_heads"),
        "linear_num_value_heads": c.get("linear_num_value_heads"),
        "linear_key_head_dim": c.get("linear_key_head_dim"),
        "linear_value_head_dim": c.get("linear_value_head_dim"),
        "hc_mult": c.get("hc_mult"),
        "hidden_size_per_layer_input": c.get("hidden_size_per_layer_input"),
        "vocab_size_per_layer_input": c.get("vocab_size_per_layer_input"),
        "layer_overrides": _layer_overrides(c),
        "index_n_heads": c.get("index_n_heads"),
        "index_head_dim": c.get("index_head_dim"),
        "index_topk": c.get("index_topk"),
    }


# Per-layer sizes a config may give, under the keys `_arch` uses.
_OVERRIDE_KEYS = {
    "num_attention_heads": "num_heads",
    "num_key_value_heads": "num_kv_heads",
    "head_dim": "head_dim",
    "v_head_dim": "v_head_dim",
}


def _layer_overrides(c: dict[str, Any]) -> dict[str, Any]:
    """Sizes that differ per layer, as a config states them: `per_layer_config` (transformers'
    heterogeneous configs, Gemma 4's wider full-attention heads), `<size>_per_layer` lists
    (Laguna's heads per layer), and `swa_<size>` for sliding-window layers (MiMo-V2-Flash)."""
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
    return {"per_layer": per_layer, "sliding_attention": sliding}


def _layer_arch(arch: dict[str, Any], index: int, layer_type: str) -> dict[str, Any]:
    """`arch` with the sizes the config gives for this layer or this layer type."""
    overrides = arch.get("layer_overrides") or {}
    own = {
        **overrides.get(layer_type, {}),
        **overrides.get("per_layer", {}).get(index, {}),
    }
    own = {key: value for key, value in own.items() if value is not None}
    return {**arch, **own} if own else arch


def _decoder_prefix(name: str) -> tuple[str, int, str] | None:
    """Split `model.layers.3.self_attn.q_proj.weight` into ('model.layers.3', 3, 'self_attn...')."""
    match = re.search(rf"^(.*?\.{LAYER_STACKS}\.(\d+))\.(.+)$", name)
    if match is None:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


# One list per layer part (XLM's `attentions.3`, `ffns.3`, `layer_norm1.3`): item 3 of each
# list belongs to layer 3, and the item is the block.
_PART_LIST = re.compile(r"^(.*?)\.(attentions|ffns|layer_norm\d*|norms\d*)\.(\d+)\.(.+)$")


def _linear_out_in(record: TensorRecord) -> tuple[int, int]:
    """(out_features, in_features) of a 2-D projection weight; GPT-2's Conv1D stores (in, out)."""
    rows, cols = record.shape[0], record.shape[1]
    if record.module_class == "Conv1D":
        return cols, rows
    return rows, cols


def _pick(weights: dict[str, TensorRecord], names: set[str]) -> TensorRecord | None:
    """The weight stored under the first of `names` a model uses (`q_proj`, `query`, `wq` ...)."""
    return next((weights[name] for name in sorted(names) if name in weights), None)


def _out_features(record: TensorRecord | None) -> int:
    """Output width of a projection weight, 0 when the model has none."""
    return _linear_out_in(record)[0] if record is not None else 0


def _resolve_layer_types(arch: dict[str, Any], num_layers: int) -> tuple[str, ...]:
    declared = arch.get("layer_types")
    if isinstance(declared, list) and len(declared) == num_layers:
        return tuple(str(t) for t in declared)
    window = arch.get("sliding_window")
    sliding = bool(window) and arch.get("use_sliding_window") is not False
    return tuple("sliding_attention" if sliding else "full_attention" for _ in range(num_layers))


def analyze_layer_structure(inspection: Inspection) -> Structure:
    """Group all tensors into components (embedding, attention, MLP, MoE, norms, head, mixers).

    A vision or audio encoder and its projector are their own part of the model: their tensors
    are split off first and described from their own sub-config and shapes, so they never count
    as decoder layers nor meet the text config's sizes.
    """
    arch = _arch(inspection)
    findings: list[Finding] = []
    text_records, modality_records = _split_parts(inspection.tensors, inspection.config)
    top_level: dict[str, list[TensorRecord]] = {}
    blocks = _layer_blocks(text_records, top_level)
    layer_indices = sorted({index for _, index, _ in blocks})
    num_layers = len(layer_indices)
    hidden = _hidden_size(text_records, arch, findings)
    layer_types = _resolve_layer_types(arch, num_layers)
    components: list[Component] = []
    embedding_seen = False
    for path, records in top_level.items():
        leaf = path.rpartition(".")[2]
        module_class = records[0].module_class
        table = any(r.kind == "param" and r.leaf == "weight" and len(r.shape) == 2 for r in records)
        if all(r.kind == "buffer" for r in records):
            kind = "buffers"
        elif leaf in POSITION_EMBEDDING_NAMES and table:
            kind = "position_embedding"
        elif leaf in TOKEN_TYPE_EMBEDDING_NAMES and table:
            kind = "token_type_embedding"
        elif leaf in EMBEDDING_NAMES and not embedding_seen and table:
            kind = "embedding"
            embedding_seen = True
        elif (leaf in LM_HEAD_NAMES and table) or _is_untied_head(path, records, arch):
            kind = "lm_head"
        elif ("Norm" in module_class or "norm" in leaf or leaf.startswith("ln")) and _is_norm(
            records
        ):
            kind = "norm"
        else:
            kind = _top_level_kind(path, table)
        if kind == "unknown":
            kind = _top_level_by_shape(path, records, module_class, arch)
        attrs = _top_attrs(kind, records)
        if kind in _EXTRA_ATTRS:
            attrs = _EXTRA_ATTRS[kind](records, arch, hidden)
        components.append(Component(kind, path, None, module_class, tuple(records), attrs))
    if not embedding_seen:
        components = _embedding_by_shape(components, arch)
    components = [piece for c in components for piece in _without_table_extras(c)]
    components.extend(_layer_components(blocks, arch, hidden, layer_types, findings))
    components.sort(key=_component_order)
    tied = _tied(components)
    if not any(c.kind == "lm_head" for c in components) and tied:
        components = _with_tied_head(components)
    else:
        components = _with_head_biases(components)
    vocab = _vocab_size(components, arch, findings)
    _cross_check_layers(arch, num_layers, findings)
    for part, records in modality_records.items():
        components.extend(_modality_components(part, records, inspection.config, findings))
    return Structure(
        model=inspection.model,
        components=tuple(components),
        num_layers=num_layers,
        layer_types=layer_types,
        hidden_size=hidden,
        vocab_size=vocab,
        tied_embeddings=tied,
        findings=tuple(findings),
        arch=arch,
    )


def _layer_blocks(
    records: Sequence[TensorRecord], top_level: dict[str, list[TensorRecord]]
) -> dict[tuple[str, int, str], list[TensorRecord]]:
    """Records grouped by (layer prefix, layer index, block); the rest go to `top_level`."""
    blocks: dict[tuple[str, int, str], list[TensorRecord]] = {}
    for record in records:
        split = _decoder_prefix(record.name)
        listed = _PART_LIST.search(record.name) if split is None else None
        if listed is not None:
            head, part, number = listed.group(1), listed.group(2), listed.group(3)
            blocks.setdefault((head, int(number), f"{part}.{number}"), []).append(record)
            continue
        if split is None:
            top_level.setdefault(record.module_path, []).append(record)
            continue
        prefix, index, rest = split
        block = rest.split(".")[0] if "." in rest else rest
        blocks.setdefault((prefix, index, block), []).append(record)
    return blocks


def _with_layer_level_moe(
    blocks: dict[tuple[str, int, str], list[TensorRecord]], arch: dict[str, Any], hidden: int
) -> dict[tuple[str, int, str], list[TensorRecord]]:
    """Experts and their router set directly in the decoder layer, outside an MLP block (Gemma
    4's `layers.N.router` and `layers.N.experts`), become one MoE block under the experts' name."""
    merged = dict(blocks)
    for (prefix, index, block), records in blocks.items():
        if _is_router_name(block):
            continue
        path = f"{prefix}.{block}"
        if not _expert_tensors(path, records, arch, hidden) or _router_records(path, records):
            continue
        routers = [key for key in blocks if key[:2] == (prefix, index) and _is_router_name(key[2])]
        if len(routers) == 1 and routers[0] in merged:
            merged[(prefix, index, block)] = records + merged.pop(routers[0])
    return merged


def _layer_components(
    blocks: dict[tuple[str, int, str], list[TensorRecord]],
    arch: dict[str, Any],
    hidden: int,
    layer_types: Sequence[str],
    findings: list[Finding],
    part: str = TEXT,
) -> list[Component]:
    """The components of every layer: split MLP halves, then each block by name or shape."""
    blocks = _with_layer_level_moe(blocks, arch, hidden)
    pairs = {
        (prefix, index, up): (prefix, index, down)
        for (prefix, index, up) in blocks
        for first, down in _SPLIT_MLPS
        if up == first and (prefix, index, down) in blocks
    }
    halves = set(pairs.values())
    components: list[Component] = []
    for (prefix, index, block), records in blocks.items():
        if (prefix, index, block) in halves:
            continue
        down_key = pairs.get((prefix, index, block))
        if down_key is not None:
            components.extend(
                _split_mlp(prefix, index, block, down_key[2], records, blocks[down_key], hidden)
            )
            continue
        path = f"{prefix}.{block}"
        components.extend(
            _classify_block(path, index, block, records, arch, hidden, layer_types, findings)
        )
    return [replace(c, part=part) for c in components] if part != TEXT else components


def _component_order(component: Component) -> tuple[int, int, int]:
    if component.part != TEXT:
        return (3, component.layer_index if component.layer_index is not None else -1, 0)
    rank = {"embedding": 0, "position_embedding": 1, "token_type_embedding": 2}.get(component.kind)
    if rank is not None:
        return (0, rank, 0)
    if component.layer_index is not None:
        return (1, component.layer_index, 0)
    return (2, 1 if component.kind == "lm_head" else 0, 0)


def _hidden_size(
    records: Sequence[TensorRecord], arch: dict[str, Any], findings: list[Finding]
) -> int:
    configured = arch.get("hidden_size")
    embeds = [
        t
        for t in records
        if t.kind == "param"
        and t.module_path.rpartition(".")[2] in EMBEDDING_NAMES
        and len(t.shape) == 2
    ]
    observed = embeds[0].shape[1] if embeds else configured
    if configured is not None and observed != configured:
        findings.append(
            Finding(
                "mismatch",
                "hidden_size",
                f"config says {configured}, embedding width is {observed}",
            )
        )
    return int(observed or 0)


def _top_attrs(kind: str, records: Sequence[TensorRecord]) -> dict[str, Any]:
    params = [r for r in records if r.kind == "param"]
    if kind in {"position_embedding", "token_type_embedding", "embedding_table"} and params:
        return _table_attrs(params)
    if kind in {"embedding", "lm_head"} and params:
        rows, cols = params[0].shape[0], params[0].shape[1]
        return {"vocab_size": rows, "hidden_size": cols, "tied": False}
    if kind == "norm" and params:
        return {
            "hidden_size": params[0].shape[0],
            "has_bias": any(r.leaf == "bias" for r in params),
        }
    return {}


def _is_head_alias(alias: str) -> bool:
    """An output head's name for a tied embedding (`lm_head.weight`, `cls.predictions.decoder`)."""
    parts = alias.split(".")[:-1]
    return bool(parts) and (parts[-1] in LM_HEAD_NAMES or parts[-1] in _OTHER_HEAD_NAMES)


def _is_untied_head(path: str, records: Sequence[TensorRecord], arch: dict[str, Any]) -> bool:
    """A head under another name (`lm_head.decoder`, RWKV's `head`) whose weight is [vocab, H]."""
    if path.rpartition(".")[2] not in _OTHER_HEAD_NAMES or not arch.get("vocab_size"):
        return False
    return any(
        r.kind == "param"
        and r.leaf == "weight"
        and len(r.shape) == 2
        and r.shape[0] == arch["vocab_size"]
        for r in records
    )


def _without_table_extras(component: Component) -> list[Component]:
    """An embedding table and the learned vectors its module keeps beside it (T5Gemma 2's
    `eoi_embedding`) as separate components, so the table stays an exact EmbeddingLayer."""
    if component.kind not in {"embedding", "embedding_table"}:
        return [component]
    extras = [t for t in component.tensors if t.kind == "param" and t.leaf != "weight"]
    if not extras:
        return [component]
    kept = tuple(t for t in component.tensors if t not in extras)
    table = replace(component, tensors=kept)
    return [table] + [
        Component("learned_embedding", t.name, None, t.module_class, (t,), _table_attrs([t]))
        for t in extras
    ]


def _embedding_by_shape(components: list[Component], arch: dict[str, Any]) -> list[Component]:
    """With no embedding found by name, the first nn.Embedding table of [vocab, H] is it (CTRL)."""
    for position, component in enumerate(components):
        weights = [t for t in component.tensors if t.kind == "param" and len(t.shape) == 2]
        if (
            component.kind in {"unknown", "embedding_table"}
            and component.module_class.endswith("Embedding")
            and len(weights) == 1
            and len(component.tensors) == 1
            and weights[0].shape[0] == arch.get("vocab_size")
        ):
            embedding = replace(
                component, kind="embedding", attrs=_top_attrs("embedding", component.tensors)
            )
            return [*components[:position], embedding, *components[position + 1 :]]
    return components


def _tied(components: Sequence[Component]) -> bool:
    for component in components:
        if component.kind == "embedding":
            return any(
                _is_head_alias(alias) for record in component.tensors for alias in record.aliases
            )
    return False


def _with_tied_head(components: list[Component]) -> list[Component]:
    """Append the tied LM head; a bias the head keeps beside the tied weight becomes its tensors."""
    embedding = next(c for c in components if c.kind == "embedding")
    alias = next(a for r in embedding.tensors for a in r.aliases if _is_head_alias(a))
    head_path = alias.rpartition(".")[0]
    biases = _head_biases(components, head_path)
    tensors = tuple(t for c in biases for t in c.tensors)
    attrs = dict(embedding.attrs, tied=True, tied_to=embedding.tensors[0].name)
    kept = [c for c in components if not any(c is b for b in biases)]
    return [*kept, Component("lm_head", head_path, None, "tied", tensors, attrs)]


def _head_biases(components: Sequence[Component], head_path: str) -> list[Component]:
    """Bias-only modules at the head or its parent (RoBERTa's `lm_head.bias`, BERT's
    `cls.predictions.bias`): the output bias of the head, kept beside its weight."""
    owners = {head_path.rpartition(".")[0], head_path}
    return [
        c
        for c in components
        if c.kind == "unknown"
        and c.layer_index is None
        and c.path in owners
        and all(t.leaf == "bias" and len(t.shape) == 1 for t in c.tensors if t.kind == "param")
    ]


def _with_head_biases(components: list[Component]) -> list[Component]:
    """Fold the output bias an untied head keeps in a parent module into the head."""
    heads = [c for c in components if c.kind == "lm_head" and c.layer_index is None]
    if len(heads) != 1:
        return components
    head = heads[0]
    biases = [b for b in _head_biases(components, head.path) if b is not head]
    if not biases:
        return components
    merged = replace(head, tensors=head.tensors + tuple(t for b in biases for t in b.tensors))
    return [merged if c is head else c for c in components if not any(c is b for b in biases)]


def _top_level_kind(path: str, table: bool) -> str:
    """Kinds of modules outside the decoder layers that are known by their name."""
    parts = path.split(".")
    leaf = parts[-1]
    if any(_HYPER_CONNECTION.search(part) for part in parts[-2:]):
        return "hyper_connections"
    if _PER_LAYER_EMBEDDING.match(leaf) and table:
        return "per_layer_embedding"
    if leaf in EMBEDDING_PROJECTION_NAMES and table:
        return "embedding_projection"
    if leaf == "dense" and len(parts) > 1 and parts[-2] in _HEAD_TRANSFORM_PARENTS and table:
        return "lm_head_transform"
    if "relative" in leaf or leaf == "position_bias":
        return "relative_position_bias"
    return "unknown"


def _top_level_by_shape(
    path: str, records: Sequence[TensorRecord], module_class: str, arch: dict[str, Any]
) -> str:
    """A module outside the layers that no name rule knows, told by its class and shapes: a
    further embedding table (RoCBert's shape and pronunciation tables, MusicGen's one per
    codebook), an output head [vocab, H], an image patch convolution, or one linear projection
    standing alone (not an item of a list of layer parts)."""
    params = [r for r in records if r.kind == "param"]
    weights = [r for r in params if r.leaf == "weight"]
    if len(weights) != 1 or {r.leaf for r in params} - {"weight", "bias"}:
        return "unknown"
    shape = weights[0].shape
    if module_class.endswith("Embedding") and len(shape) == 2:
        return "embedding_table"
    if module_class in {"Conv2d", "Conv3d"}:
        return "patch_embedding"
    if len(shape) == 2 and module_class == "Linear":
        if shape[0] == arch.get("vocab_size") and shape[1] == arch.get("hidden_size"):
            return "lm_head"
        if not any(part.isdigit() for part in path.split(".")):
            return "linear"
    return "unknown"


def _special_block(block: str, records: Sequence[TensorRecord], layer_type: str) -> str | None:
    """Kinds of layer-level blocks known by their name (and, for convolutions, module class)."""
    if _HYPER_CONNECTION.search(block):
        return "hyper_connections"
    if _PER_LAYER_EMBEDDING.match(block) and not _NORM_NAME.search(block):
        return "per_layer_embedding"
    convolution = any(r.module_class == "Conv1d" for r in records)
    if convolution and (block in {"conv", "short_conv"} or layer_type == "conv"):
        return "short_convolution"
    return None


def _matrix(records: Sequence[TensorRecord]) -> TensorRecord | None:
    return next(
        (r for r in records if r.kind == "param" and r.leaf == "weight" and len(r.shape) == 2),
        None,
    )


def _hyper_connection_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    rate = arch.get("hc_mult")
    if rate is None:
        widest = max((r.shape[-1] for r in records if r.kind == "param" and r.shape), default=0)
        rate = widest // hidden if hidden else 0
    return {"hidden_size": hidden, "expansion_rate": rate}


def _per_layer_embedding_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    return {
        "hidden_size": hidden,
        "per_layer_size": arch.get("hidden_size_per_layer_input"),
        "vocab_size": arch.get("vocab_size_per_layer_input"),
        "num_layers": arch.get("num_layers"),
    }


def _linear_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    weight = _matrix(records)
    out_features, in_features = _linear_out_in(weight) if weight is not None else (0, 0)
    return {
        "in_features": in_features,
        "out_features": out_features,
        "has_bias": any(r.kind == "param" and r.leaf == "bias" for r in records),
    }


def _short_convolution_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    conv = next(r for r in records if r.module_class == "Conv1d" and r.leaf == "weight")
    in_proj = next(
        (r for r in records if r.leaf == "weight" and "in_proj" in r.name and len(r.shape) == 2),
        None,
    )
    return {
        "hidden_size": _linear_out_in(in_proj)[1] if in_proj is not None else hidden,
        "in_proj_out": _out_features(in_proj),
        "conv_channels": conv.shape[0],
        "conv_kernel": conv.shape[-1],
    }


def _patch_embedding_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    params = [r for r in records if r.kind == "param"]
    return _patch_attrs(next(r for r in params if r.leaf == "weight"), params)


def _linear_projection_attrs(
    records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> dict[str, Any]:
    return _projector_attrs([r for r in records if r.kind == "param"])


_EXTRA_ATTRS = {
    "patch_embedding": _patch_embedding_attrs,
    "linear": _linear_projection_attrs,
    "hyper_connections": _hyper_connection_attrs,
    "per_layer_embedding": _per_layer_embedding_attrs,
    "embedding_projection": _linear_attrs,
    "lm_head_transform": _linear_attrs,
    "short_convolution": _short_convolution_attrs,
}


def _is_norm(records: Sequence[TensorRecord]) -> bool:
    """A norm module holds a 1-D weight and at most a 1-D bias."""
    params = [r for r in records if r.kind == "param"]
    return (
        bool(params)
        and any(r.leaf == "weight" for r in params)
        and all(r.leaf in {"weight", "bias"} and len(r.shape) == 1 for r in params)
    )


def _vocab_size(
    components: Sequence[Component], arch: dict[str, Any], findings: list[Finding]
) -> int:
    embeddings = [c for c in components if c.kind == "embedding"]
    observed = embeddings[0].attrs.get("vocab_size") if embeddings else None
    configured = arch.get("vocab_size")
    if configured is not None and observed is not None and observed != configured:
        findings.append(
            Finding(
                "mismatch", "vocab_size", f"config says {configured}, embedding has {observed} rows"
            )
        )
    return int(observed or configured or 0)


def _cross_check_layers(arch: dict[str, Any], num_layers: int, findings: list[Finding]) -> None:
    configured = arch.get("num_layers")
    if configured is not None and configured != num_layers:
        findings.append(
            Finding(
                "mismatch",
                "num_layers",
                f"config says {configured}, the built model has {num_layers} decoder layers",
            )
        )


def _classify_block(
    path: str,
    index: int,
    block: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
    hidden: int,
    layer_types: Sequence[str],
    findings: list[Finding],
) -> list[Component]:
    module_class = _owner_class(records, path)
    layer_type = layer_types[index] if 0 <= index < len(layer_types) else "full_attention"
    arch = _layer_arch(arch, index, layer_type)
    items = _numbered_items(path, records)
    if items:  # a list of blocks of one kind (LongCat-Flash's self_attn.0 and self_attn.1)
        return [
            c
            for item, group in items.items()
            for c in _classify_block(item, index, block, group, arch, hidden, layer_types, findings)
        ]
    if block in ATTENTION_BLOCKS and layer_type == "linear_attention":
        return [_linear_attention(path, index, module_class, records, arch)]
    if block in ATTENTION_BLOCKS and _is_moe(path, records, arch, hidden):
        return [_mixture_of_attention(path, index, module_class, records, arch, hidden)]
    if block in ATTENTION_BLOCKS | CROSS_ATTENTION_BLOCKS:
        records, indexers = _split_indexer(path, index, records, arch)
        if _MLA & {_sub(r, path) for r in records if r.leaf == "weight"}:
            return [_mla(path, index, module_class, records, arch, hidden), *indexers]
        rest, norms = _split_norms(path, index, records)
        norms += indexers
        kind = "attention" if block in ATTENTION_BLOCKS else "cross_attention"
        component = _attention(path, index, module_class, rest, arch, hidden, layer_type, findings)
        return [replace(component, kind=kind), *norms]
    if block in MLP_BLOCKS:
        rest, norms = _split_norms(path, index, records)
        return [_mlp_or_moe(path, index, module_class, rest, arch, hidden, findings), *norms]
    if block in MAMBA_BLOCKS:
        return _mixer_block(
            path, block, records, module_class, arch, hidden, layer_types, findings, index
        )
    special = _special_block(block, records, layer_type)
    if special is not None:
        attrs = _EXTRA_ATTRS[special](records, arch, hidden)
        return [Component(special, path, index, module_class, tuple(records), attrs)]
    if block in LINEAR_ATTENTION_BLOCKS:
        return [_mixer("gated_delta_net", path, index, module_class, records, arch)]
    params = [r for r in records if r.kind == "param"]
    layer_path = path.rpartition(".")[0]
    if (
        any(block.startswith(f"{name}_") for name in CROSS_ATTENTION_BLOCKS)
        and params
        and all(r.module_path == layer_path and len(r.shape) <= 1 for r in params)
    ):
        return [Component("cross_attention_gate", path, index, module_class, tuple(records), {})]
    if ("Norm" in module_class or "norm" in block or block.startswith("ln")) and _is_norm(records):
        attrs = {
            "hidden_size": params[0].shape[0],
            "has_bias": any(r.leaf == "bias" for r in params),
        }
        return [Component("norm", path, index, module_class, tuple(records), attrs)]
    if params and _is_residual_scale(block, params):
        attrs = {"num_parameters": sum(r.numel for r in params), "tensors": len(params)}
        return [Component("residual_scale", path, index, module_class, tuple(records), attrs)]
    if params:
        context = _BlockContext(index, arch, hidden, layer_types, findings)
        return _unnamed_block(path, block, records, module_class, context)
    return [Component("buffers", path, index, module_class, tuple(records), {})]


# Words of the scalars or vectors that gate or scale a residual branch.
_RESIDUAL_WORDS = ("alpha", "gate", "scale", "residual", "lambda", "beta")


def _is_residual_scale(block: str, params: Sequence[TensorRecord]) -> bool:
    """Learned scalars or per-channel vectors in a layer that gate or scale a branch before it
    joins the residual stream (IDEFICS' alpha_cross_attn, Muse Spark's residual gates)."""
    return _named_like(block, _RESIDUAL_WORDS) and all(
        len(r.shape) <= 1 or (len(r.shape) == 3 and r.shape[:2] == (1, 1)) for r in params
    )


def _mixer_block(
    path: str,
    block: str,
    records: list[TensorRecord],
    module_class: str,
    arch: dict[str, Any],
    hidden: int,
    layer_types: Sequence[str],
    findings: list[Finding],
    index: int,
) -> list[Component]:
    """A block named `mixer` holds whatever mixes the layer: a Mamba mixer, or (Nemotron-H's
    hybrid pattern) attention, an MLP or a mixture of experts, told apart by their tensors."""
    params = [r for r in records if r.kind == "param"]
    roles = {_role(r, path)[0] for r in params if len(r.shape) == 2}
    ssm = any(r.leaf in {"A_log", "D", "dt_bias"} for r in params)
    if not ssm and _is_moe(path, records, arch, hidden):
        rest, norms = _split_norms(path, index, records)
        return [_moe(path, index, module_class, rest, arch, hidden, findings), *norms]
    if not ssm and roles & (_Q | _QKV) and roles & _O:
        return _classify_block(
            path, index, "self_attn", records, arch, hidden, layer_types, findings
        )
    if not ssm and roles & (_UP | _GATE_UP) and roles & _DOWN:
        return _classify_block(path, index, "mlp", records, arch, hidden, layer_types, findings)
    return [_mixer("mamba_mixer", path, index, module_class, records, arch)]


@dataclass(frozen=True)
class _BlockContext:
    """What classifying a block needs besides its own tensors."""

    index: int
    arch: dict[str, Any]
    hidden: int
    layer_types: Sequence[str]
    findings: list[Finding]


def _numbered_items(path: str, records: Sequence[TensorRecord]) -> dict[str, list[TensorRecord]]:
    """`{path.0: [...], path.1: [...]}` when the block is a list of like blocks (every tensor in
    a numbered child, each child with the same tensors), else {} (a Sequential's 0 and 2)."""
    items: dict[str, list[TensorRecord]] = {}
    for record in records:
        below = record.name[len(path) + 1 :].split(".")
        if len(below) < 2 or not below[0].isdigit():
            return {}
        items.setdefault(f"{path}.{below[0]}", []).append(record)
    layouts = {
        tuple(sorted((r.name[len(item) + 1 :], r.shape) for r in group))
        for item, group in items.items()
    }
    return items if len(items) > 1 and len(layouts) == 1 else {}


def _named_like(block: str, words: Sequence[str]) -> bool:
    lowered = block.lower()
    return any(word in lowered for word in words)


def _unnamed_block(
    path: str,
    block: str,
    records: list[TensorRecord],
    module_class: str,
    context: _BlockContext,
) -> list[Component]:
    """A block no name rule knows: experts found by their shapes, a block named like attention or
    an MLP whose projections are there, a convolution, else its sub-modules one by one (DBRX's
    norm_attn_norm holds attn, norm_1 and norm_2). What still has no kind stays one unknown."""
    index, arch, hidden = context.index, context.arch, context.hidden
    params = [r for r in records if r.kind == "param"]
    if _is_moe(path, records, arch, hidden):
        rest, norms = _split_norms(path, index, records)
        return [_moe(path, index, module_class, rest, arch, hidden, context.findings), *norms]
    roles = {_role(r, path)[0] for r in params if len(r.shape) == 2} | {
        r.leaf for r in params if r.module_path == path and len(r.shape) == 3
    }
    if _named_like(block, _ATTENTION_WORDS) and roles & (_Q | _QKV) and roles & _O:
        rest, norms = _split_norms(path, index, records)
        layer_type = (
            context.layer_types[index]
            if 0 <= index < len(context.layer_types)
            else "full_attention"
        )
        component = _attention(
            path, index, module_class, rest, arch, hidden, layer_type, context.findings
        )
        if _named_like(block, ("cross", "encdec", "encoder_attn")):
            component = replace(component, kind="cross_attention")
        return [component, *norms]
    if block == "ff" or _named_like(
        block, ("mlp", "ffn", "feed_forward", "feedforward", "densereludense")
    ):
        rest, norms = _split_norms(path, index, records)
        attrs = _dense_mlp_attrs(path, rest, hidden)
        if attrs["weight_params"]:
            return [Component("mlp", path, index, module_class, tuple(rest), attrs), *norms]
    if _named_like(block, ("lru", "rnn", "recurrent", "recurrence")):
        attrs = {"hidden_size": hidden, "num_parameters": sum(r.numel for r in params)}
        return [Component("recurrence", path, index, module_class, tuple(records), attrs)]
    matrices = [r for r in params if r.leaf == "weight" and len(r.shape) == 2]
    if len(matrices) == 1 and {r.module_path for r in params} == {path}:
        attrs = _projector_attrs(params)
        return [Component("linear", path, index, module_class, tuple(records), attrs)]
    convolutions = [r for r in params if r.module_class.startswith("Conv") and r.leaf == "weight"]
    if convolutions and {r.module_path for r in params} == {path}:
        attrs = _convolution_attrs(convolutions[0], params)
        return [Component("convolution", path, index, module_class, tuple(records), attrs)]
    subs: dict[str, list[TensorRecord]] = {}
    own: list[TensorRecord] = []
    for record in records:
        below = record.name[len(path) + 1 :].split(".")
        if len(below) < 2:
            own.append(record)
        else:
            subs.setdefault(below[0], []).append(record)
    if subs and (own or len(subs) > 1 or _named_like(next(iter(subs)), _KNOWN_WORDS)):
        found = [
            c
            for sub, group in subs.items()
            for c in _classify_block(
                f"{path}.{sub}",
                index,
                sub,
                group,
                arch,
                hidden,
                context.layer_types,
                context.findings,
            )
        ]
        if any(c.kind != "unknown" for c in found):
            if own:
                found.append(Component("unknown", path, index, module_class, tuple(own), {}))
            return found
    return [Component("unknown", path, index, module_class, tuple(records), {})]


# Words of block names that some rule understands; a wrapper holding one such block is opened.
_ATTENTION_WORDS = ("attn", "attention", "self_att")
_KNOWN_WORDS = (*_ATTENTION_WORDS, "mlp", "ffn", "feed_forward", "norm", "mixer", "mamba")


def _convolution_attrs(weight: TensorRecord, params: Sequence[TensorRecord]) -> dict[str, Any]:
    return {
        "out_channels": weight.shape[0],
        "in_channels_per_group": weight.shape[1] if len(weight.shape) > 1 else 1,
        "kernel": list(weight.shape[2:]),
        "has_bias": any(r.leaf == "bias" for r in params),
    }


def _norm_component(path: str, index: int | None, records: Sequence[TensorRecord]) -> Component:
    params = [r for r in records if r.kind == "param"]
    weight = next(r for r in params if r.leaf == "weight")
    attrs = {"hidden_size": weight.shape[0], "has_bias": any(r.leaf == "bias" for r in params)}
    return Component("norm", path, index, weight.module_class, tuple(records), attrs)


def _split_norms(
    path: str, index: int, records: Sequence[TensorRecord]
) -> tuple[list[TensorRecord], list[Component]]:
    """Norm modules inside a block (BERT's attention.output.LayerNorm, BitNet's attn_sub_norm).

    A module counts when its name says norm, it is not a per-head q/k norm, it sits directly in
    the block or below pass-through modules only, and it holds a 1-D weight (and bias). Each
    becomes its own norm component; the rest of the block is returned unchanged.
    """
    owners: dict[str, list[TensorRecord]] = {}
    for record in records:
        relative = (
            record.module_path[len(path) + 1 :].split(".") if record.module_path != path else []
        )
        if (
            relative
            and _NORM_NAME.search(relative[-1])
            and relative[-1] not in _QK_NORMS
            and all(part in _WRAPPERS for part in relative[:-1])
        ):
            owners.setdefault(record.module_path, []).append(record)
    norms = {module: group for module, group in owners.items() if _is_norm(group)}
    taken = {id(r) for group in norms.values() for r in group}
    rest = [r for r in records if id(r) not in taken]
    found = [_norm_component(module, index, group) for module, group in norms.items()]
    rest, adapters = _split_adapters(path, index, rest)
    return rest, found + adapters


def _split_indexer(
    path: str, index: int, records: list[TensorRecord], arch: dict[str, Any]
) -> tuple[list[TensorRecord], list[Component]]:
    """A sparse-attention indexer inside an attention block (DeepSeek-V3.2's DSA `indexer`:
    its own small query/key projections that pick the top-k keys the attention reads) as a
    component of its own, apart from the attention it selects for."""
    found = [r for r in records if _sub(r, path) == "indexer"]
    if not found:
        return records, []
    indexer_path = f"{path}.indexer"
    matrices = [r for r in found if r.kind == "param" and r.leaf == "weight" and len(r.shape) == 2]
    attrs = {
        "num_heads": arch.get("index_n_heads"),
        "head_dim": arch.get("index_head_dim"),
        "top_k": arch.get("index_topk"),
        "linear_shapes": {
            r.module_path[len(indexer_path) + 1 :]: list(_linear_out_in(r)) for r in matrices
        },
    }
    component = Component(
        "sparse_attention_indexer", indexer_path, index, found[0].module_class, tuple(found), attrs
    )
    taken = {id(r) for r in found}
    return [r for r in records if id(r) not in taken], [component]


def _split_adapters(
    path: str, index: int, records: Sequence[TensorRecord]
) -> tuple[list[TensorRecord], list[Component]]:
    """Adapter modules inside a block (X-MOD's per-language adapters, Zamba2's LoRA lists): a
    bottleneck added to a projection, one component per adapter module."""
    owners: dict[str, list[TensorRecord]] = {}
    rest: list[TensorRecord] = []
    for record in records:
        relative = record.name[len(path) + 1 :].split(".")[:-1]
        marked = next(
            (i for i, part in enumerate(relative) if "adapter" in part or "lora" in part), None
        )
        if marked is None or record.kind != "param":
            rest.append(record)
            continue
        owners.setdefault(".".join([path, *relative[: marked + 1]]), []).append(record)
    found = []
    for module, group in owners.items():
        matrices = [r for r in group if r.leaf == "weight" and len(r.shape) == 2]
        attrs = {
            "linear_shapes": [list(_linear_out_in(m)) for m in matrices],
            "has_bias": any(r.leaf == "bias" for r in group),
        }
        found.append(
            Component("adapter", module, index, group[0].module_class, tuple(group), attrs)
        )
    return rest, found


def _role(record: TensorRecord, path: str) -> tuple[str, bool]:
    """The projection a tensor belongs to, skipping pass-through modules, and whether it is the
    projection's own weight or bias (`attention.self.query.bias` -> ('query', True))."""
    parts = record.name[len(path) + 1 :].split(".")
    while len(parts) > 2 and parts[0] in _WRAPPERS:
        parts = parts[1:]
    if len(parts) == 3 and parts[1] in _INNER_WRAPPERS:
        parts = [parts[0], parts[2]]
    if len(parts) > 2 and parts[-2] in _Q | _K | _V | _O:
        parts = parts[-2:]  # a projection inside a module of its own (ZAYA's qkv_proj.q_proj)
    return parts[0], len(parts) == 2


def _owner_class(records: Sequence[TensorRecord], path: str) -> str:
    for record in records:
        if record.module_path == path:
            return record.module_class
    return records[0].module_class


def _sub(record: TensorRecord, path: str) -> str:
    """The first module name below the block: `q_proj` for `<block>.q_proj.weight`."""
    below = _below(record, path)
    return below[0] if below else record.leaf


def _attention(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
    hidden: int,
    layer_type: str,
    findings: list[Finding],
) -> Component:
    subs = {_sub(r, path): r for r in records if r.leaf == "weight"}
    if _MLA & subs.keys():
        return _mla(path, index, module_class, records, arch, hidden)
    heads = int(arch.get("num_heads") or 0)
    attrs: dict[str, Any] = {"layer_type": layer_type, "num_heads": heads}
    weights: dict[str, TensorRecord] = {}
    biases: list[TensorRecord] = []
    extras: dict[str, list[TensorRecord]] = {
        "sinks": [],
        "qk_norm": [],
        "gate": [],
        "differential": [],
        "relative": [],
        "other": [],
    }
    projections = _Q | _K | _V | _O | _QKV
    for record in records:
        role, direct = _role(record, path)
        if record.kind != "param":
            continue
        if record.leaf == "sinks" and record.module_path == path:
            extras["sinks"].append(record)
        elif role in _QK_NORMS:
            extras["qk_norm"].append(record)
        elif (direct and record.leaf == "bias" and role in projections) or (
            record.module_path == path and record.leaf.removesuffix("_bias") in projections
        ):
            biases.append(record)
        elif direct and record.leaf == "weight" and len(record.shape) == 2 and role in projections:
            weights[role] = record
        elif record.module_path == path and record.leaf == "in_proj_weight":
            weights["in_proj"] = record  # torch's nn.MultiheadAttention: q, k, v in one matrix
        elif record.module_path == path and len(record.shape) == 3 and record.leaf in projections:
            weights[record.leaf] = _per_head_matrix(record)
        elif record.module_path == path and (record.leaf == "r" or record.leaf.startswith("r_")):
            extras["relative"].append(record)  # XLNet's relative-position projection and biases
        elif (direct and role in _ATTENTION_GATES) or (
            record.module_path == path and record.leaf == "gate_bias"
        ):
            extras["gate"].append(record)
        elif record.module_path == path and _DIFFERENTIAL.match(record.leaf):
            extras["differential"].append(record)
        elif "relative" in record.name[len(path) + 1 :]:
            extras["relative"].append(record)
        else:
            extras["other"].append(record)
    q_out = k_out = o_in = 0
    fused = _pick(weights, _QKV)
    o_weight = _pick(weights, _O)
    inputs = [w for w in (fused, _pick(weights, _Q), _pick(weights, _K)) if w is not None]
    if inputs and _linear_out_in(inputs[0])[1] != hidden:
        hidden = _linear_out_in(inputs[0])[1]
    if o_weight is not None:
        _, o_in = _linear_out_in(o_weight)
    head_dim = arch.get("head_dim") or (o_in // heads if heads else 0)
    if fused is not None:
        total_out, _ = _linear_out_in(fused)
        d_q = heads * head_dim
        kv_total = total_out - d_q
        k_out = kv_total // 2
        q_out = d_q
        attrs["fused_qkv"] = True
    else:
        q_out = _out_features(_pick(weights, _Q))
        k_out = _out_features(_pick(weights, _K))
    if not head_dim and heads:
        head_dim = q_out // heads
    gated = bool(
        heads
        and head_dim
        and q_out == 2 * heads * head_dim
        and o_in == heads * (arch.get("v_head_dim") or head_dim)
    )
    d_q = heads * head_dim
    kv_heads = k_out // head_dim if head_dim else 0
    configured_kv = arch.get("num_kv_heads")
    if arch.get("multi_query") is True and fused is not None:
        configured_kv = 1
    if configured_kv is not None and kv_heads and configured_kv != kv_heads:
        findings.append(
            Finding(
                "mismatch",
                f"{path}",
                f"num_kv_heads: config says {configured_kv}, k projection width {k_out} / head_dim "
                f"{head_dim} gives {kv_heads}",
            )
        )
    # A value head of its own width (MiMo-V2-Flash: q/k heads 192 wide, value heads 128).
    value_dim = arch.get("v_head_dim") or head_dim
    if o_in and d_q and o_in != heads * value_dim:
        findings.append(
            Finding(
                "mismatch",
                path,
                f"o projection input {o_in} != num_heads {heads} x "
                + (f"v_head_dim {value_dim}" if value_dim != head_dim else f"head_dim {head_dim}"),
            )
        )
    if value_dim != head_dim:
        attrs["v_head_dim"] = value_dim
    bias_roles = {
        b.leaf.removesuffix("_bias") if b.module_path == path else _role(b, path)[0] for b in biases
    }
    bias_on = {
        "q": bool(bias_roles & (_Q | _QKV)),
        "k": bool(bias_roles & (_K | _QKV)),
        "v": bool(bias_roles & (_V | _QKV)),
        "o": bool(bias_roles & _O),
    }
    sliding = layer_type == "sliding_attention"
    # A gated q projection (Qwen3-Next) emits the query and an output gate of the same width.
    gate_width = q_out - d_q if gated else 0
    attrs.update(
        variant="gated"
        if gated
        else ("mqa" if kv_heads == 1 and heads > 1 else ("mha" if kv_heads == heads else "gqa")),
        hidden_size=hidden,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        d_q=d_q,
        d_kv=kv_heads * head_dim,
        sliding_window=arch.get("sliding_window") if sliding else None,
        chunked=layer_type == "chunked_attention",
        bias=bias_on,
        gate_params=gate_width * hidden + sum(r.numel for r in extras["gate"]),
        gates=[r.name for r in extras["gate"]],
        weight_params=sum(w.numel for w in weights.values()) - gate_width * hidden,
        bias_params=sum(b.numel for b in biases) - (gate_width if bias_on["q"] else 0),
        sinks=[r.name for r in extras["sinks"]],
        qk_norms=[r.name for r in extras["qk_norm"]],
        sink_params=sum(r.numel for r in extras["sinks"]),
        qk_norm_params=sum(r.numel for r in extras["qk_norm"]),
        qk_norm_width=extras["qk_norm"][0].shape[0] if extras["qk_norm"] else 0,
        other_params=sum(r.numel for r in extras["other"]),
        other_tensors=[r.name for r in extras["other"]],
        differential=[r.name for r in extras["differential"]],
        differential_params=sum(r.numel for r in extras["differential"]),
        relative=[r.name for r in extras["relative"]],
        relative_params=sum(r.numel for r in extras["relative"]),
    )
    gate_weight = next((r for r in extras["gate"] if r.leaf == "weight"), None)
    if gate_weight is not None and _out_features(gate_weight) != d_q:
        attrs["gate_width"] = _out_features(gate_weight)
    return Component("attention", path, index, module_class, tuple(records), attrs)


def _per_head_matrix(record: TensorRecord) -> TensorRecord:
    """A projection kept per head, [H, heads, head_dim] (XLNet's q, k, v, o), as the matrix it
    is: (heads x head_dim) out of H for q/k/v, H out of (heads x head_dim) for o."""
    hidden, heads, width = record.shape
    inner = heads * width
    shape = (hidden, inner) if record.leaf in _O else (inner, hidden)
    return replace(record, shape=shape)


def _mla(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
    hidden: int,
) -> Component:
    attrs = {
        "variant": "mla",
        "layer_type": "full_attention",
        "hidden_size": hidden,
        "num_heads": arch.get("num_heads"),
        "q_lora_rank": arch.get("q_lora_rank"),
        "kv_lora_rank": arch.get("kv_lora_rank"),
        "qk_nope_head_dim": arch.get("qk_nope_head_dim"),
        "qk_rope_head_dim": arch.get("qk_rope_head_dim"),
        "v_head_dim": arch.get("v_head_dim"),
    }
    for record in records:
        sub = _sub(record, path)
        if sub == "kv_a_proj_with_mqa" and record.leaf == "weight":
            attrs["kv_a_out"] = _linear_out_in(record)[0]
        if sub == "kv_a_layernorm":
            attrs["kv_lora_rank"] = record.shape[0]
        if sub == "q_a_layernorm":
            attrs["q_lora_rank"] = record.shape[0]
    return Component("attention", path, index, module_class, tuple(records), attrs)


def _mlp_or_moe(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
    hidden: int,
    findings: list[Finding],
) -> Component:
    if _is_moe(path, records, arch, hidden):
        return _moe(path, index, module_class, records, arch, hidden, findings)
    return Component(
        "mlp", path, index, module_class, tuple(records), _dense_mlp_attrs(path, records, hidden)
    )


def _dense_mlp_attrs(path: str, records: Sequence[TensorRecord], hidden: int) -> dict[str, Any]:
    """Sizes of a dense MLP from its projections' own weights; every other parameter is `other`."""
    known = _GATE | _UP | _DOWN | _GATE_UP
    weights: dict[str, TensorRecord] = {}
    biases: list[TensorRecord] = []
    for record in records:
        parts = record.name[len(path) + 1 :].split(".")
        # the projection is the module holding the tensor, below pass-through modules
        # (CPM-Ant's ffn.w_in.w_0), above an inner wrapper (Gemma 4's gate_proj.linear)
        role = parts[-2] if len(parts) >= 2 else ""
        if role in _INNER_WRAPPERS and len(parts) >= 3:
            role = parts[-3]
        if record.kind != "param" or role not in known:
            continue
        if record.leaf == "weight" and len(record.shape) == 2 and role not in weights:
            weights[role] = record
        elif record.leaf == "bias":
            biases.append(record)
    if not weights:
        weights, biases = _mlp_by_shape(path, records, hidden)
    gate_up = _pick(weights, _GATE_UP)
    up, down = _pick(weights, _UP), _pick(weights, _DOWN)
    down_in = _linear_out_in(down)[1] if down is not None else 0
    # An up projection twice as wide as the down projection's input is a fused gate+up (Moshi).
    fused = gate_up is not None or bool(
        up is not None
        and not _GATE & weights.keys()
        and down_in
        and _out_features(up) == 2 * down_in
    )
    gated = bool(_GATE & weights.keys()) or fused
    if gate_up is not None:
        intermediate = _out_features(gate_up) // 2
    elif fused:
        intermediate = down_in
    else:
        intermediate = _out_features(up)
    params = sum(r.numel for r in records if r.kind == "param")
    weight_params = sum(w.numel for w in weights.values())
    bias_params = sum(b.numel for b in biases)
    activation = [
        r
        for r in records
        if r.kind == "param" and r.name[len(path) + 1 :].split(".")[0] in _ACTIVATIONS
    ]
    activation_params = sum(r.numel for r in activation)
    counted = {id(r) for r in (*weights.values(), *biases, *activation)}
    source = gate_up or up or _pick(weights, _GATE)
    return {
        "hidden_size": _linear_out_in(source)[1] if source is not None else hidden,
        "intermediate_size": intermediate,
        "gated": gated,
        "num_projections": 3 if gated else 2,
        "fused_gate_up": fused,
        "weight_params": weight_params,
        "bias_params": bias_params,
        "other_params": params - weight_params - bias_params - activation_params,
        "other_tensors": [r.name for r in records if r.kind == "param" and id(r) not in counted],
        "activation_tensors": [r.name for r in activation],
        "activation_params": activation_params,
    }


def _mlp_by_shape(
    path: str, records: Sequence[TensorRecord], hidden: int
) -> tuple[dict[str, TensorRecord], list[TensorRecord]]:
    """Projections named otherwise (CTRL's ffn.0 / ffn.2), told apart by their shapes: up [I, H]
    and down [H, I], or gate and up [I, H] and down [H, I]."""
    matrices = [
        r
        for r in records
        if r.kind == "param"
        and r.leaf == "weight"
        and len(r.shape) == 2
        and r.module_path.count(".") == path.count(".") + 1
    ]
    downs = [
        m
        for m in matrices
        if m.shape[0] == hidden and all(m.shape == o.shape[::-1] for o in matrices if o is not m)
    ]
    if len(matrices) not in (2, 3) or len(downs) != 1:
        return {}, []
    down = downs[0]
    ups = [m for m in matrices if m is not down]
    roles = ["up_proj"] if len(ups) == 1 else ["gate_proj", "up_proj"]
    weights = {"down_proj": down, **dict(zip(roles, ups, strict=True))}
    owners = {w.module_path for w in weights.values()}
    biases = [
        r for r in records if r.kind == "param" and r.leaf == "bias" and r.module_path in owners
    ]
    return weights, biases


def _split_mlp(
    prefix: str,
    index: int,
    up_block: str,
    down_block: str,
    up_records: Sequence[TensorRecord],
    down_records: Sequence[TensorRecord],
    hidden: int,
) -> list[Component]:
    """One dense MLP from two layer-level blocks (OPT's fc1/fc2, BERT's intermediate/output)."""
    up_rest, up_norms = _split_norms(f"{prefix}.{up_block}", index, up_records)
    down_rest, down_norms = _split_norms(f"{prefix}.{down_block}", index, down_records)
    matrices = [
        [r for r in rest if r.kind == "param" and r.leaf == "weight" and len(r.shape) == 2]
        for rest in (up_rest, down_rest)
    ]
    records = [*up_rest, *down_rest]
    path = f"{prefix}.{up_block}"
    module_class = _owner_class(up_rest or list(up_records), path)
    if any(len(found) != 1 for found in matrices):
        component = Component("unknown", path, index, module_class, tuple(records), {})
        return [component, *up_norms, *down_norms]
    up, down = matrices[0][0], matrices[1][0]
    owners = {up.module_path, down.module_path}
    bias_params = sum(
        r.numel
        for r in records
        if r.kind == "param" and r.leaf == "bias" and r.module_path in owners
    )
    down_in = _linear_out_in(down)[1]
    fused = _out_features(up) == 2 * down_in
    params = sum(r.numel for r in records if r.kind == "param")
    attrs = {
        "hidden_size": _linear_out_in(up)[1],
        "intermediate_size": down_in if fused else _out_features(up),
        "gated": fused,
        "num_projections": 3 if fused else 2,
        "fused_gate_up": fused,
        "weight_params": up.numel + down.numel,
        "bias_params": bias_params,
        "other_params": params - up.numel - down.numel - bias_params,
        "other_tensors": [],
    }
    component = Component("mlp", path, index, module_class, tuple(records), attrs)
    return [component, *up_norms, *down_norms]


# Module names of a router, at any depth below the block (`gate`, `router.layer`, `router.proj`).
_ROUTER_WORDS = {"gate", "router", "wg", "gating", "classifier"}


def _is_router_name(name: str) -> bool:
    return name in _ROUTER_WORDS or name.startswith("router")


def _below(record: TensorRecord, path: str) -> list[str]:
    """The module names between a block and a tensor (`experts.0.w1` for `path.experts.0.w1.x`).

    A router that sits beside the experts in the layer (merged into their block) is read from
    the layer: `router.proj` for `layer.router.proj.weight` when the block is `layer.experts`.
    """
    if not record.name.startswith(f"{path}."):
        return record.name[len(path.rpartition(".")[0]) + 1 :].split(".")[:-1]
    return record.name[len(path) + 1 :].split(".")[:-1]


def _router_records(path: str, records: Sequence[TensorRecord]) -> list[TensorRecord]:
    """A router's parameters: under a module named like a router, or a routing bias set directly
    on the block (AFMoE's `expert_bias`)."""
    found = []
    for record in records:
        if record.kind != "param":
            continue
        below = _below(record, path)
        routing_bias = not below and record.leaf.endswith("_bias") and len(record.shape) == 1
        if routing_bias or any(_is_router_name(name) for name in below):
            found.append(record)
    return found


def _expert_tensors(
    path: str, records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> list[TensorRecord]:
    """Routed experts found by their shapes, whatever they are called: stacked 3-D weights
    [E, a, b]; 2-D weights [E*I, H] stacked in an `experts` module (DBRX); a list of experts
    (`experts.0.w1`). Empty when the block has no experts."""
    router = {id(r) for r in _router_records(path, records)}
    params = [r for r in records if r.kind == "param" and id(r) not in router]
    stacked = [
        r
        for r in params
        if len(r.shape) == 3
        and (r.shape[0] > 1 or "experts" in _below(r, path))
        and not r.module_class.startswith("Conv")
    ]
    count = _expert_count(path, records, arch)
    found = list(stacked)
    for record in params:
        if record in stacked:
            continue
        below = _below(record, path)
        if "experts" not in below:
            continue
        position = below.index("experts")
        listed = len(below) > position + 1 and below[position + 1].isdigit()
        stacked_2d = (
            len(record.shape) == 2
            and count > 1
            and record.shape[0] % count == 0
            and record.shape[0] > count
        )
        biases = record.leaf.endswith("bias") and len(record.shape) == 2 and bool(stacked)
        if listed or stacked_2d or biases:
            found.append(record)
    return found if stacked or found else []


def _is_moe(path: str, records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int) -> bool:
    """Routed experts: expert tensors, and a router or a module named `experts` holding them
    (3-D weights alone may be a Mamba mixer's per-head projections)."""
    experts = _expert_tensors(path, records, arch, hidden)
    if not experts:
        return False
    return bool(_router_records(path, records)) or any(
        "experts" in _below(r, path) for r in experts
    )


def _expert_count(path: str, records: Sequence[TensorRecord], arch: dict[str, Any]) -> int:
    """Experts per MoE block: the leading dim of stacked weights, else the router's rows, else
    the number of listed experts, else the config's count."""
    router_rows = [
        r.shape[0]
        for r in _router_records(path, records)
        if len(r.shape) == 2 and r.leaf == "weight"
    ]
    leading = [
        r.shape[0]
        for r in records
        if r.kind == "param" and len(r.shape) == 3 and not r.module_class.startswith("Conv")
    ]
    if len(set(leading)) == 1:
        return leading[0]
    routed = [rows for rows in router_rows if rows in leading or not leading]
    if routed:
        return routed[-1]  # a router that is itself an MLP ends in its [E, x] layer (ZAYA)
    if leading:
        return max(set(leading), key=leading.count)
    listed = {
        below[below.index("experts") + 1]
        for below in (_below(r, path) for r in records)
        if "experts" in below[:-1] and below[below.index("experts") + 1].isdigit()
    }
    if listed:
        return len(listed)
    configured = arch.get("num_experts")
    return int(configured) if isinstance(configured, int) else 0


def _per_expert_matrices(
    path: str, experts: Sequence[TensorRecord], count: int
) -> list[tuple[int, int]]:
    """The weight matrices of one expert (out, in), from stacked, 2-D stacked or listed experts."""
    matrices = []
    for record in experts:
        if "bias" in record.leaf:
            continue
        if len(record.shape) == 3:
            matrices.append((record.shape[1], record.shape[2]))
            continue
        below = _below(record, path)
        position = below.index("experts") if "experts" in below else -1
        if 0 <= position < len(below) - 1 and below[position + 1].isdigit():
            if below[position + 1] == "0" and len(record.shape) == 2:
                matrices.append(_linear_out_in(record))
        elif len(record.shape) == 2 and count:
            matrices.append((record.shape[0] // count, record.shape[1]))
    return matrices


@dataclass(frozen=True)
class _ExpertGroup:
    """A block's routed experts: their tensors, count, router and one expert's matrices."""

    experts: tuple[TensorRecord, ...]
    count: int
    router: tuple[TensorRecord, ...]
    matrices: tuple[tuple[int, int], ...]


def _expert_group(
    path: str, records: Sequence[TensorRecord], arch: dict[str, Any], hidden: int
) -> _ExpertGroup:
    experts = _expert_tensors(path, records, arch, hidden)
    count = _expert_count(path, records, arch)
    return _ExpertGroup(
        tuple(experts),
        count,
        tuple(_router_records(path, records)),
        tuple(_per_expert_matrices(path, experts, count)),
    )


def _expert_widths(matrices: Sequence[tuple[int, int]], hidden: int) -> tuple[int, int, int]:
    """(model width D, expert width I, projections p) of one expert's matrices: D is the size
    every matrix shares (the hidden size when it does), I the narrowest other size, and p the
    other sizes added up in units of I (3 for a gated expert, 2 for a plain one)."""
    if not matrices:
        return hidden, 0, 0
    common = set(matrices[0])
    for matrix in matrices[1:]:
        common &= set(matrix)
    if not common:
        return hidden, 0, 0
    model = hidden if hidden in common else max(common)
    inner = [matrix[1] if matrix[0] == model else matrix[0] for matrix in matrices]
    width = min(inner)
    total = sum(inner)
    projections = total // width if width and total % width == 0 else 0
    return model, width, projections


def _moe(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
    hidden: int,
    findings: list[Finding],
) -> Component:
    """A mixture of experts read from shapes: expert count, expert width and projections from the
    expert tensors, the router by its name and its [E, H] weight, shared experts beside them."""
    group = _expert_group(path, records, arch, hidden)
    experts, count, router = list(group.experts), group.count, list(group.router)
    taken = {id(r) for r in experts + router}
    shared = [
        r
        for r in records
        if r.kind == "param"
        and id(r) not in taken
        and (_sub(r, path) in _SHARED or _sub(r, path).startswith("shared_expert"))
        and _sub(r, path) != "shared_expert_gate"
    ]
    shared_gate = [
        r for r in records if _sub(r, path) == "shared_expert_gate" and r.kind == "param"
    ]
    # An output bias set directly on the block is added to every token's expert mix (JetMoE).
    experts += [
        r
        for r in records
        if r.kind == "param" and not _below(r, path) and r.leaf == "bias" and id(r) not in taken
    ]
    known = {id(r) for r in experts + router + shared + shared_gate}
    other = [r for r in records if r.kind == "param" and id(r) not in known]
    model, width, projections = _expert_widths(group.matrices, hidden)
    expert_bias = sum(r.numel for r in experts if "bias" in r.leaf)
    router_weight = next(
        (r for r in router if r.leaf == "weight" and len(r.shape) == 2 and r.shape[0] == count),
        None,
    )
    router_bias = sum(
        r.numel
        for r in router
        if (r.leaf == "bias" or r.leaf.endswith("_bias")) and r.shape == (count,)
    )
    router_weight_params = router_weight.numel if router_weight is not None else 0
    configured = arch.get("num_experts")
    if isinstance(configured, int) and count and configured != count:
        findings.append(
            Finding("mismatch", path, f"num_experts: config {configured}, tensors {count}")
        )
    shared_sub = _sub(shared[0], path) if shared else ""
    shared_attrs = _dense_mlp_attrs(f"{path}.{shared_sub}", shared, model) if shared else None
    attrs = {
        "hidden_size": model,
        "intermediate_size": width,
        "num_experts": count,
        "top_k": arch.get("experts_per_token"),
        "num_projections": projections,
        "router_input_size": _linear_out_in(router_weight)[1] if router_weight else 0,
        "expert_params": sum(r.numel for r in experts) - expert_bias,
        "expert_bias_params": expert_bias,
        "router_params": router_weight_params,
        "router_bias_params": router_bias,
        "router_extra_params": sum(r.numel for r in router) - router_weight_params - router_bias,
        "router_extra_tensors": [
            r.name
            for r in router
            if r is not router_weight
            and not ((r.leaf == "bias" or r.leaf.endswith("_bias")) and r.shape == (count,))
        ],
        "shared": shared_attrs,
        "shared_params": sum(r.numel for r in shared),
        "shared_gate_params": sum(r.numel for r in shared_gate),
        "other_params": sum(r.numel for r in other),
        "other_tensors": [r.name for r in other],
        "router_buffers": [r.name for r in records if r.kind == "buffer"],
    }
    return Component("moe", path, index, module_class, tuple(records), attrs)


def _mixture_of_attention(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
    hidden: int,
) -> Component:
    """Attention whose query and output projections are routed experts (JetMoE's mixture of
    attention heads): expert count and widths from the stacked expert weights, the shared
    key/value projection beside them."""
    group = _expert_group(path, records, arch, hidden)
    taken = {id(r) for r in group.experts + group.router}
    shared = [r for r in records if r.kind == "param" and id(r) not in taken]
    kv = next((r for r in shared if r.leaf == "weight" and len(r.shape) == 2), None)
    attrs = {
        "hidden_size": hidden,
        "num_experts": group.count,
        "top_k": arch.get("experts_per_token"),
        "expert_matrices": [list(m) for m in group.matrices],
        "kv_width": _out_features(kv),
        "num_kv_heads": arch.get("num_kv_heads"),
        "head_dim": arch.get("head_dim"),
        "router_params": sum(r.numel for r in group.router),
    }
    return Component("mixture_of_attention", path, index, module_class, tuple(records), attrs)


def _linear_attention(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
) -> Component:
    """An attention-named block in a layer the config declares `linear_attention` (Kimi Linear's
    KDA, Ling's hybrid layers, MiniMax's lightning attention): its own mixer kind."""
    roles = {_role(r, path)[0] for r in records if r.kind == "param"}
    leaves = {r.leaf for r in records if r.kind == "param"}
    conv = next((r for r in records if r.kind == "param" and "conv" in _sub(r, path)), None)
    attrs = {
        "hidden_size": next(
            (_linear_out_in(r)[1] for r in records if _role(r, path)[0] in _Q | _QKV), 0
        ),
        "num_heads": arch.get("num_heads"),
        "head_dim": arch.get("head_dim")
        or (arch["hidden_size"] // arch["num_heads"] if arch.get("num_heads") else None),
        "conv_kernel": conv.shape[-1] if conv is not None and len(conv.shape) == 3 else 0,
        "delta_rule": "b_proj" in roles,
        "decay_gate": "A_log" in leaves or "forget_gate" in roles,
        "output_gate": bool(roles & {"g_proj", "g_a_proj", "g_b_proj", "output_gate"}),
    }
    return Component("linear_attention", path, index, module_class, tuple(records), attrs)


def _mixer(
    kind: str,
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
) -> Component:
    attrs: dict[str, Any] = {
        "state_size": arch.get("state_size"),
        "conv_kernel": arch.get("conv_kernel"),
    }
    for record in records:
        sub = _sub(record, path)
        if sub == "in_proj" and record.leaf == "weight":
            out, inp = _linear_out_in(record)
            attrs.update(hidden_size=inp, in_proj_out=out)
        if sub == "in_proj_qkvz" and record.leaf == "weight":
            out, inp = _linear_out_in(record)
            attrs.update(hidden_size=inp, in_proj_out=out)
        if sub == "conv1d" and record.leaf == "weight":
            attrs.update(conv_channels=record.shape[0], conv_kernel=record.shape[-1])
        if sub == "A_log" or record.leaf == "A_log":
            attrs["num_state_heads_or_channels"] = record.shape[0]
        if sub == "dt_proj" and record.leaf == "weight":
            attrs["time_step_rank"] = _linear_out_in(record)[1]
    if "conv_channels" in attrs and kind == "mamba_mixer":
        attrs["intermediate_size"] = attrs["conv_channels"]
    return Component(kind, path, index, module_class, tuple(records), attrs)


# --------------------------------------------------------------------------- encoder parts

# Words in a module name (split at "_") that put it, outside the text stack, in another part.
_MODALITY_WORDS = {
    "vision": "vision",
    "visual": "vision",
    "image": "vision",
    "img": "vision",
    "vit": "vision",
    "video": "vision",
    "pixel": "vision",
    "vqmodel": "vision",
    "audio": "audio",
    "speech": "audio",
    "sound": "audio",
    "protein": "protein",
}
# Modules that carry an encoder's output into the text stack, named for no modality.
_BRIDGES = {
    "multi_modal_projector",
    "mm_projector",
    "connector",
    "perceiver_resampler",
    "resampler",
    "qformer",
    "query_tokens",
    "language_projection",
    "embed_tokens_extend",
}


def _is_stack_name(name: str) -> bool:
    """A list of layers: `layers`, `h`, `blocks`, `layer`, `block`, `gated_cross_attn_layers`."""
    return name in {"h", "layer", "block"} or name.endswith(("layers", "blocks"))


_BRIDGE = "bridge"
# Sub-config keys that describe each part, first match wins.
_PART_CONFIG_WORDS = {
    "vision": ("vision", "visual", "image", "vit"),
    "audio": ("audio", "speech", "encoder"),
    "protein": ("protein",),
}


def _part_of(name: str) -> tuple[str, str]:
    """The part a tensor belongs to and the module that roots it (`('vision', 'model.visual')`);
    only names above the text stack's layers count, so a layer's own `vision_moe` stays text.
    A parameter set directly on the model counts by its own name (BLIP-2's `query_tokens`)."""
    pieces = name.split(".")[:-1] or name.split(".")
    for position, piece in enumerate(pieces):
        if piece.isdigit() and position and _is_stack_name(pieces[position - 1]):
            break
        words = piece.lower().split("_")
        found = next((_MODALITY_WORDS[w] for w in words if w in _MODALITY_WORDS), None)
        if found is None and piece in _BRIDGES:
            found = _BRIDGE
        if found is not None:
            return found, ".".join(pieces[: position + 1])
    return TEXT, ""


def _split_parts(
    tensors: Sequence[TensorRecord], config: dict[str, Any]
) -> tuple[list[TensorRecord], dict[str, list[TensorRecord]]]:
    """The text stack's tensors, and every other part's (a projector joins the encoder it
    serves: the only one there is, else vision). An encoder-decoder whose encoder reads images
    (Pix2Struct, VisionEncoderDecoder: a vision sub-config, modules `encoder` and `decoder`)
    has its `encoder` as the vision part."""
    text: list[TensorRecord] = []
    parts: dict[str, list[TensorRecord]] = {}
    image_encoder = _image_encoder_root(tensors, config)
    for record in tensors:
        part = _part_of(record.name)[0]
        if image_encoder and record.name.startswith(f"{image_encoder}."):
            part = "vision"
        if part == TEXT:
            text.append(record)
        else:
            parts.setdefault(part, []).append(record)
    bridges = parts.pop(_BRIDGE, [])
    if bridges:
        encoders = [part for part in parts if part != "vision"]
        owner = encoders[0] if len(encoders) == 1 and "vision" not in parts else "vision"
        parts.setdefault(owner, []).extend(bridges)
    return text, parts


def _image_encoder_root(tensors: Sequence[TensorRecord], config: dict[str, Any]) -> str:
    """`encoder` (or `<root>.encoder`) when the model is an encoder-decoder whose encoder reads
    images, else ''."""
    if not (_part_config(config, "vision") or _is_vision_config(config.get("encoder"))):
        return ""
    roots = {".".join(t.name.split(".")[:depth]) for t in tensors for depth in (1, 2)}
    for root in sorted(roots, key=len):
        if root.rpartition(".")[2] == "encoder" and f"{root[: -len('encoder')]}decoder" in roots:
            return root
    return ""


def _is_vision_config(value: Any) -> bool:
    """A sub-config of an image encoder: it states an image or patch size."""
    return isinstance(value, dict) and any(
        key in value for key in ("image_size", "patch_size", "num_channels")
    )


def _part_config(config: dict[str, Any], part: str) -> dict[str, Any]:
    """The sub-config describing one part (`vision_config`, `audio_config` ..., or an
    encoder-decoder's image `encoder`), else {}."""
    words = _PART_CONFIG_WORDS.get(part, (part,))
    for word in words:
        for key in sorted(config):
            value = config[key]
            if key.endswith("_config") and word in key and isinstance(value, dict):
                return value
    encoder = config.get("encoder")
    if part == "vision" and _is_vision_config(encoder):
        return dict(encoder)
    return {}


def _part_arch(config: dict[str, Any], part: str) -> dict[str, Any]:
    """An encoder's sizes from its sub-config, in the keys `_arch` gives the text stack."""
    c = {
        key: value
        for key, value in _part_config(config, part).items()
        if not isinstance(value, list)  # sizes per stage (DaViT): read from the shapes instead
    }
    return {
        "hidden_size": arch_value(c, "hidden_size", "embed_dim", "width", "hidden_dim", "d_model"),
        "num_layers": arch_value(c, "num_hidden_layers", "depth", "num_layers", "encoder_layers"),
        "num_heads": arch_value(
            c, "num_attention_heads", "num_heads", "heads", "encoder_attention_heads"
        ),
        "num_kv_heads": arch_value(c, "num_key_value_heads", "num_kv_heads"),
        "head_dim": c.get("head_dim"),
        "intermediate_size": arch_value(c, "intermediate_size", "mlp_dim", "encoder_ffn_dim"),
        "num_experts": None,
        "experts_per_token": None,
        "sliding_window": None,
        "layer_types": None,
    }


def _modality_components(
    part: str, records: Sequence[TensorRecord], config: dict[str, Any], findings: list[Finding]
) -> list[Component]:
    """An encoder part: its layers by the same block rules as the text stack (sizes checked
    against its own sub-config), and its embeddings, norms and projector outside the layers."""
    arch = _part_arch(config, part)
    top_level: dict[str, list[TensorRecord]] = {}
    blocks = _layer_blocks(records, top_level)
    hidden = int(arch.get("hidden_size") or _common_norm_width(records))
    depth = max((index for _, index, _ in blocks), default=-1) + 1
    layer_types = ("full_attention",) * depth
    components = _layer_components(blocks, arch, hidden, layer_types, findings, part)
    groups: dict[str, list[TensorRecord]] = {}
    for path, group in top_level.items():
        root = _part_of(group[0].name)[1] or path
        below = path[len(root) + 1 :].split(".")[0] if path != root else ""
        key = f"{root}.{below}" if below and root.rpartition(".")[2] not in _BRIDGES else root
        groups.setdefault(key, []).extend(group)
    for path, group in groups.items():
        found = _encoder_module(path, group, arch, hidden, findings)
        components.extend(replace(c, part=part) for c in _merged_projectors(path, found))
    return sorted(components, key=_component_order)


def _common_norm_width(records: Sequence[TensorRecord]) -> int:
    widths = [r.shape[0] for r in records if r.kind == "param" and "Norm" in r.module_class]
    return max(set(widths), key=widths.count) if widths else 0


def _encoder_module(
    path: str,
    records: Sequence[TensorRecord],
    arch: dict[str, Any],
    hidden: int,
    findings: list[Finding],
) -> list[Component]:
    """One module of an encoder outside its layers, split until each piece has a kind."""
    params = [r for r in records if r.kind == "param"]
    module_class = _owner_class(records, path)
    leaf = path.rpartition(".")[2]
    if not params:
        return [Component("buffers", path, None, module_class, tuple(records), {})]
    if _is_norm(records) and len({r.module_path for r in params}) == 1:
        return [_norm_component(path, None, records)]
    below = [r for r in records if r.module_path.startswith(f"{path}.")]
    if leaf in ATTENTION_BLOCKS | MLP_BLOCKS and below:
        found = _classify_block(path, 0, leaf, list(records), arch, hidden, (), findings)
        return [_projector_unless_mlp(replace(c, layer_index=None)) for c in found]
    if not below:
        return _encoder_leaf(path, records, module_class)
    own = [r for r in records if not r.module_path.startswith(f"{path}.")]
    subs: dict[str, list[TensorRecord]] = {}
    for record in below:
        sub = record.module_path[len(path) + 1 :].split(".")[0]
        subs.setdefault(f"{path}.{sub}", []).append(record)
    found = _encoder_leaf(path, own, module_class) if own else []
    for sub_path, group in subs.items():
        found.extend(_encoder_module(sub_path, group, arch, hidden, findings))
    return found


def _encoder_leaf(path: str, records: Sequence[TensorRecord], module_class: str) -> list[Component]:
    """Tensors of one module: a patch embedding, a position table, learned tokens or a linear."""
    found = []
    lone = [r for r in records if r.kind == "param" and r.leaf not in {"weight", "bias"}]
    layered = [r for r in records if r not in lone]
    for record in lone:  # parameters set directly on a module: class token, queries, positions
        kind = "position_embedding" if "pos" in record.leaf.lower() else "learned_embedding"
        found.append(
            Component(kind, record.name, None, module_class, (record,), _table_attrs([record]))
        )
    params = [r for r in layered if r.kind == "param"]
    if not params:
        if layered:
            found.append(Component("buffers", path, None, module_class, tuple(layered), {}))
        return found
    leaf = ".".join(path.split(".")[-2:]).lower()  # the module and its parent (patch_embedder)
    weight = next((r for r in params if r.leaf == "weight"), params[0])
    if module_class.startswith("Conv") or "patch" in leaf:
        kind, attrs = "patch_embedding", _patch_attrs(weight, params)
    elif module_class.endswith("Embedding") or "pos" in leaf:
        kind, attrs = "position_embedding", _table_attrs([weight])
        if len(params) > 1:
            kind, attrs = "projector", _projector_attrs(params)
    elif len(weight.shape) == 2:
        kind, attrs = "projector", _projector_attrs(params)
    else:
        kind, attrs = "unknown", {}
    found.append(Component(kind, path, None, module_class, tuple(layered), attrs))
    return found


def _projector_unless_mlp(component: Component) -> Component:
    """An encoder's MLP outside its layers that maps one width to another (a merger's
    Sequential of linears, 4H -> H_text) is its projector, not an MLP."""
    if component.kind != "mlp":
        return component
    params = [t for t in component.tensors if t.kind == "param"]
    attrs = _projector_attrs(params)
    if component.attrs.get("intermediate_size") and attrs["in_features"] == attrs["out_features"]:
        return component
    return replace(component, kind="projector", attrs=attrs)


def _table_attrs(records: Sequence[TensorRecord]) -> dict[str, Any]:
    """A learned table as rows x width: a [N, D] embedding, a [1, N, D] parameter, a [D] token."""
    total = sum(r.numel for r in records if r.kind == "param")
    width = records[0].shape[-1] if records[0].shape else 1
    return {"vocab_size": total // max(width, 1), "hidden_size": width, "tied": False}


def _patch_attrs(weight: TensorRecord, params: Sequence[TensorRecord]) -> dict[str, Any]:
    kernel = list(weight.shape[2:])
    return {
        "hidden_size": weight.shape[0],
        "in_features": weight.numel // weight.shape[0],
        "kernel": kernel,
        "has_bias": any(r.leaf == "bias" for r in params),
    }


def _projector_attrs(params: Sequence[TensorRecord]) -> dict[str, Any]:
    matrices = [r for r in params if r.leaf.endswith("weight") and len(r.shape) == 2]
    shapes = [list(_linear_out_in(m)) for m in matrices]
    return {
        "in_features": shapes[0][1] if shapes else 0,
        "out_features": shapes[-1][0] if shapes else 0,
        "linear_shapes": shapes,
        "has_bias": any(r.leaf.endswith("bias") for r in params),
    }


def _merged_projectors(path: str, components: Sequence[Component]) -> list[Component]:
    """The linear pieces of one module outside the layers are one projector (a merger's fc1
    and fc2, a projector's linear_1 and linear_2), one per item of a module list; norms and
    embeddings stay their own."""
    groups: dict[str, list[Component]] = {}
    rest: list[Component] = []
    for component in components:
        if component.kind != "projector":
            rest.append(component)
            continue
        below = component.path[len(path) + 1 :].split(".")
        item = below[0] if below and below[0].isdigit() else ""
        groups.setdefault(f"{path}.{item}" if item else path, []).append(component)
    for key, projectors in groups.items():
        if len(projectors) == 1:
            rest.append(projectors[0])
            continue
        tensors = tuple(t for c in projectors for t in c.tensors)
        params = [t for t in tensors if t.kind == "param"]
        attrs = _projector_attrs(params)
        rest.append(Component("projector", key, None, projectors[0].module_class, tensors, attrs))
    return rest
