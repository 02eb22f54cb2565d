"""Step 3, structure: group all tensors into components per decoder layer, sizes from shapes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .inspection import Inspection, TensorRecord

__all__ = [
    "Component",
    "Finding",
    "Structure",
    "analyze_layer_structure",
    "arch_value",
]

ATTENTION_BLOCKS = {"self_attn", "attention", "attn", "self_attention", "multi_head_attention"}
MLP_BLOCKS = {"mlp", "feed_forward", "block_sparse_moe", "ffn", "shared_mlp"}
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

_Q = {"q_proj", "query", "wq", "query_proj", "Wq"}
_K = {"k_proj", "key", "wk", "key_proj", "Wk"}
_V = {"v_proj", "value", "wv", "value_proj", "Wv"}
_O = {"o_proj", "dense", "c_proj", "out_proj", "wo", "output"}
_QKV = {"qkv_proj", "query_key_value", "c_attn", "Wqkv", "qkv"}
_MLA = {"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj"}
_QK_NORMS = {"q_norm", "k_norm", "q_layernorm", "k_layernorm"}
_GATE = {"gate_proj", "w1"}
_UP = {"up_proj", "w3", "c_fc", "dense_h_to_4h", "fc1", "fc_in", "intermediate"}
_DOWN = {"down_proj", "w2", "c_proj", "dense_4h_to_h", "fc2", "fc_out", "output", "output_linear"}
_GATE_UP = {"gate_up_proj", "input_linear"}
# Separate output-gate projections of gated attention (elementwise [n*d, H] or headwise [n, H]).
_ATTENTION_GATES = {"gate_proj", "g_proj", "output_gate"}
# Pass-through modules between a block and its projections (BERT's attention.self.query).
_WRAPPERS = {"self", "attention", "output"}
# Two layer-level blocks that together are one dense MLP: (up projection, down projection).
_SPLIT_MLPS = (("fc1", "fc2"), ("intermediate", "output"))
_NORM_NAME = re.compile(r"norm|(^|_)ln(_|\d|$)", re.IGNORECASE)
# Pass-through modules between a projection and its weight (Moshi's q_proj.linear.weight).
_INNER_WRAPPERS = {"linear"}
# Hyper-connection mixers around a sublayer or before the head (DeepSeek-V4's attn_hc, hc_head).
_HYPER_CONNECTION = re.compile(r"(^|_)hc($|_)")
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

    def of_kind(self, kind: str) -> list[Component]:
        """Components of one kind, in model order."""
        return [c for c in self.components if c.kind == kind]


def arch_value(config: dict[str, Any], *names: str, default: Any = None) -> Any:
    """First non-None value among config keys `names` (models spell the same size differently)."""
    for name in names:
        value = config.get(name)
        if value is not None:
            return value
    return default


def _text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config whose sizes describe the text stack: a nested `text_config` wins when present."""
    text = config.get("text_config")
    return {**config, **text} if isinstance(text, dict) else config


def _arch(inspection: Inspection) -> dict[str, Any]:
    c = _text_config(inspection.config)
    heads = arch_value(c, "num_attention_heads", "n_head", "num_heads", "decoder_attention_heads")
    return {
        "hidden_size": arch_value(c, "hidden_size", "n_embd", "d_model"),
        "num_layers": arch_value(c, "num_hidden_layers", "n_layer", "num_layers"),
        "num_heads": heads,
        "num_kv_heads": arch_value(c, "num_key_value_heads", "num_kv_heads", "n_head_kv"),
        "head_dim": c.get("head_dim"),
        "vocab_size": c.get("vocab_size"),
        "intermediate_size": arch_value(c, "intermediate_size", "n_inner", "ffn_hidden_size"),
        "moe_intermediate_size": c.get("moe_intermediate_size"),
        "num_experts": arch_value(c, "num_local_experts", "n_routed_experts", "num_experts"),
        "experts_per_token": arch_value(
            c,
            "num_experts_per_tok",
            "moe_top_k",
            "top_k",
            "moe_topk",
            "num_experts_per_token",
            "moe_k",
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
    }


def _decoder_prefix(name: str) -> tuple[str, int, str] | None:
    """Split `model.layers.3.self_attn.q_proj.weight` into ('model.layers.3', 3, 'self_attn...')."""
    match = re.search(r"^(.*?\.(?:layers|h|blocks|layer)\.(\d+))\.(.+)$", name)
    if match is None:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


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
    """Group all tensors into components (embedding, attention, MLP, MoE, norms, head, mixers)."""
    arch = _arch(inspection)
    findings: list[Finding] = []
    top_level: dict[str, list[TensorRecord]] = {}
    blocks: dict[tuple[str, int, str], list[TensorRecord]] = {}
    for record in inspection.tensors:
        split = _decoder_prefix(record.name)
        if split is None:
            top_level.setdefault(record.module_path, []).append(record)
            continue
        prefix, index, rest = split
        block = rest.split(".")[0] if "." in rest else rest
        blocks.setdefault((prefix, index, block), []).append(record)

    layer_indices = sorted({index for _, index, _ in blocks})
    num_layers = len(layer_indices)
    hidden = _hidden_size(inspection, arch, findings)
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
        attrs = _top_attrs(kind, records)
        if kind in _EXTRA_ATTRS:
            attrs = _EXTRA_ATTRS[kind](records, arch, hidden)
        components.append(Component(kind, path, None, module_class, tuple(records), attrs))
    if not embedding_seen:
        components = _embedding_by_shape(components, arch)
    pairs = {
        (prefix, index, up): (prefix, index, down)
        for (prefix, index, up) in blocks
        for first, down in _SPLIT_MLPS
        if up == first and (prefix, index, down) in blocks
    }
    halves = set(pairs.values())
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
    components.sort(key=_component_order)
    tied = _tied(components)
    if not any(c.kind == "lm_head" for c in components) and tied:
        components = _with_tied_head(components)
    else:
        components = _with_head_biases(components)
    vocab = _vocab_size(components, arch, findings)
    _cross_check_layers(arch, num_layers, findings)
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


def _component_order(component: Component) -> tuple[int, int, int]:
    rank = {"embedding": 0, "position_embedding": 1, "token_type_embedding": 2}.get(component.kind)
    if rank is not None:
        return (0, rank, 0)
    if component.layer_index is not None:
        return (1, component.layer_index, 0)
    return (2, 1 if component.kind == "lm_head" else 0, 0)


def _hidden_size(inspection: Inspection, arch: dict[str, Any], findings: list[Finding]) -> int:
    configured = arch.get("hidden_size")
    embeds = [
        t
        for t in inspection.params
        if t.module_path.rpartition(".")[2] in EMBEDDING_NAMES and len(t.shape) == 2
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
    if kind in {"embedding", "position_embedding", "token_type_embedding", "lm_head"} and params:
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


def _embedding_by_shape(components: list[Component], arch: dict[str, Any]) -> list[Component]:
    """With no embedding found by name, the first nn.Embedding table of [vocab, H] is it (CTRL)."""
    for position, component in enumerate(components):
        weights = [t for t in component.tensors if t.kind == "param" and len(t.shape) == 2]
        if (
            component.kind == "unknown"
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
    if _HYPER_CONNECTION.search(leaf):
        return "hyper_connections"
    if _PER_LAYER_EMBEDDING.match(leaf) and table:
        return "per_layer_embedding"
    if leaf in EMBEDDING_PROJECTION_NAMES and table:
        return "embedding_projection"
    if leaf == "dense" and len(parts) > 1 and parts[-2] in _HEAD_TRANSFORM_PARENTS and table:
        return "lm_head_transform"
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


_EXTRA_ATTRS = {
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
    layer_type = layer_types[index] if index < len(layer_types) else "full_attention"
    if block in ATTENTION_BLOCKS and layer_type == "linear_attention":
        return [_linear_attention(path, index, module_class, records, arch)]
    if block in ATTENTION_BLOCKS | CROSS_ATTENTION_BLOCKS:
        if _MLA & {_sub(r, path) for r in records if r.leaf == "weight"}:
            return [_mla(path, index, module_class, records, arch, hidden)]
        rest, norms = _split_norms(path, index, records)
        kind = "attention" if block in ATTENTION_BLOCKS else "cross_attention"
        component = _attention(path, index, module_class, rest, arch, hidden, layer_type, findings)
        return [replace(component, kind=kind), *norms]
    if block in MLP_BLOCKS:
        rest, norms = _split_norms(path, index, records)
        return [_mlp_or_moe(path, index, module_class, rest, arch, hidden, findings), *norms]
    if block in MAMBA_BLOCKS:
        return [_mixer("mamba_mixer", path, index, module_class, records, arch)]
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
    if params:
        return [Component("unknown", path, index, module_class, tuple(records), {})]
    return [Component("buffers", path, index, module_class, tuple(records), {})]


def _norm_component(path: str, index: int, records: Sequence[TensorRecord]) -> Component:
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
    return rest, [_norm_component(module, index, group) for module, group in norms.items()]


def _role(record: TensorRecord, path: str) -> tuple[str, bool]:
    """The projection a tensor belongs to, skipping pass-through modules, and whether it is the
    projection's own weight or bias (`attention.self.query.bias` -> ('query', True))."""
    parts = record.name[len(path) + 1 :].split(".")
    while len(parts) > 2 and parts[0] in _WRAPPERS:
        parts = parts[1:]
    if len(parts) == 3 and parts[1] in _INNER_WRAPPERS:
        parts = [parts[0], parts[2]]
    return parts[0], len(parts) == 2


def _owner_class(records: Sequence[TensorRecord], path: str) -> str:
    for record in records:
        if record.module_path == path:
            return record.module_class
    return records[0].module_class


def _sub(record: TensorRecord, path: str) -> str:
    """The first module name below the block: `q_proj` for `<block>.q_proj.weight`."""
    rest = record.name[len(path) + 1 :]
    return rest.split(".")[0]


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
        elif (direct and role in _ATTENTION_GATES) or (
            record.module_path == path and record.leaf == "gate_bias"
        ):
            extras["gate"].append(record)
        elif record.module_path == path and _DIFFERENTIAL.match(record.leaf):
            extras["differential"].append(record)
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
    gated = bool(heads and head_dim and q_out == 2 * heads * head_dim and o_in == heads * head_dim)
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
    if o_in and d_q and o_in != d_q:
        findings.append(
            Finding(
                "mismatch",
                path,
                f"o projection input {o_in} != num_heads {heads} x head_dim {head_dim}",
            )
        )
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
    )
    gate_weight = next((r for r in extras["gate"] if r.leaf == "weight"), None)
    if gate_weight is not None and _out_features(gate_weight) != d_q:
        attrs["gate_width"] = _out_features(gate_weight)
    return Component("attention", path, index, module_class, tuple(records), attrs)


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
    subs = {_sub(r, path) for r in records}
    if "experts" in subs:
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
        if record.kind != "param" or len(parts) != 2 or parts[0] not in known:
            continue
        if record.leaf == "weight" and len(record.shape) == 2:
            weights[parts[0]] = record
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


def _moe(
    path: str,
    index: int,
    module_class: str,
    records: list[TensorRecord],
    arch: dict[str, Any],
    hidden: int,
    findings: list[Finding],
) -> Component:
    experts = [r for r in records if _sub(r, path) == "experts" and r.kind == "param"]
    # A routing bias sits in the router or directly on the block (AFMoE's `expert_bias`).
    router = [
        r
        for r in records
        if r.kind == "param"
        and (
            _sub(r, path) in _ROUTERS
            or (r.module_path == path and r.leaf.endswith("_bias") and len(r.shape) == 1)
        )
    ]
    shared = [r for r in records if _sub(r, path) in _SHARED and r.kind == "param"]
    shared_gate = [
        r for r in records if _sub(r, path) == "shared_expert_gate" and r.kind == "param"
    ]
    known = set(id(r) for r in experts + router + shared + shared_gate)
    other = [r for r in records if r.kind == "param" and id(r) not in known]
    num_experts = 0
    intermediate = 0
    projections = 2
    for record in experts:
        leaf = record.leaf
        if len(record.shape) == 3:
            num_experts = record.shape[0]
            dims = [d for d in record.shape[1:]]
            other_dim = dims[0] if dims[1] == hidden else dims[1]
            if leaf == "gate_up_proj":
                intermediate = other_dim // 2
                projections = 3
            elif leaf == "down_proj" and not intermediate:
                intermediate = other_dim
    expert_bias = sum(r.numel for r in experts if r.leaf.endswith("_bias") or r.leaf == "bias")
    router_bias = sum(r.numel for r in router if r.leaf == "bias" or r.leaf.endswith("_bias"))
    configured = arch.get("num_experts")
    if configured is not None and num_experts and configured != num_experts:
        findings.append(
            Finding("mismatch", path, f"num_experts: config {configured}, tensors {num_experts}")
        )
    shared_attrs = (
        _dense_mlp_attrs(f"{path}.{_sub(shared[0], path)}", shared, hidden) if shared else None
    )
    attrs = {
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_experts": num_experts,
        "top_k": arch.get("experts_per_token"),
        "num_projections": projections,
        "expert_params": sum(r.numel for r in experts) - expert_bias,
        "expert_bias_params": expert_bias,
        "router_params": sum(r.numel for r in router) - router_bias,
        "router_bias_params": router_bias,
        "shared": shared_attrs,
        "shared_params": sum(r.numel for r in shared),
        "shared_gate_params": sum(r.numel for r in shared_gate),
        "other_params": sum(r.numel for r in other),
        "other_tensors": [r.name for r in other],
        "router_buffers": [r.name for r in records if r.kind == "buffer"],
    }
    return Component("moe", path, index, module_class, tuple(records), attrs)


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
