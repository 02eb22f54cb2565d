"""Step 3, structure: group all tensors into components per decoder layer, sizes from shapes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .inspection import Inspection, TensorRecord

__all__ = [
    "Component",
    "Finding",
    "Structure",
    "analyze_layer_structure",
    "arch_value",
]

ATTENTION_BLOCKS = {"self_attn", "attention", "attn", "self_attention"}
MLP_BLOCKS = {"mlp", "feed_forward", "block_sparse_moe", "ffn"}
MAMBA_BLOCKS = {"mamba", "mixer"}
LINEAR_ATTENTION_BLOCKS = {"linear_attn"}
EMBEDDING_NAMES = {
    "embed_tokens",
    "embed_in",
    "wte",
    "word_embeddings",
    "embeddings",
    "tok_embeddings",
}
POSITION_EMBEDDING_NAMES = {"wpe", "embed_positions", "position_embeddings"}
LM_HEAD_NAMES = {"lm_head", "embed_out", "output"}

_Q = {"q_proj", "query", "wq"}
_K = {"k_proj", "key", "wk"}
_V = {"v_proj", "value", "wv"}
_O = {"o_proj", "dense", "c_proj", "out_proj", "wo"}
_QKV = {"qkv_proj", "query_key_value", "c_attn", "Wqkv", "qkv"}
_MLA = {"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj"}
_QK_NORMS = {"q_norm", "k_norm", "q_layernorm", "k_layernorm"}
_GATE = {"gate_proj", "w1"}
_UP = {"up_proj", "w3", "c_fc", "dense_h_to_4h", "fc1"}
_DOWN = {"down_proj", "w2", "c_proj", "dense_4h_to_h", "fc2"}
_GATE_UP = {"gate_up_proj"}
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


def _arch(inspection: Inspection) -> dict[str, Any]:
    c = inspection.config
    heads = arch_value(c, "num_attention_heads", "n_head", "num_heads")
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
        "experts_per_token": arch_value(c, "num_experts_per_tok", "moe_top_k", "top_k"),
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
        if leaf in POSITION_EMBEDDING_NAMES:
            kind = "position_embedding"
        elif leaf in EMBEDDING_NAMES and not embedding_seen:
            kind = "embedding"
            embedding_seen = True
        elif leaf in LM_HEAD_NAMES:
            kind = "lm_head"
        elif "Norm" in module_class or "norm" in leaf or leaf.startswith("ln"):
            kind = "norm"
        elif all(r.kind == "buffer" for r in records):
            kind = "buffers"
        else:
            kind = "unknown"
        components.append(
            Component(kind, path, None, module_class, tuple(records), _top_attrs(kind, records))
        )
    for (prefix, index, block), records in blocks.items():
        path = f"{prefix}.{block}"
        components.extend(
            _classify_block(path, index, block, records, arch, hidden, layer_types, findings)
        )
    components.sort(key=_component_order)
    tied = _tied(components)
    if not any(c.kind == "lm_head" for c in components) and tied:
        components.append(_tied_head(components))
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
    rank = {"embedding": 0, "position_embedding": 1}.get(component.kind)
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
    if kind in {"embedding", "position_embedding", "lm_head"} and params:
        rows, cols = params[0].shape[0], params[0].shape[1]
        return {"vocab_size": rows, "hidden_size": cols, "tied": False}
    if kind == "norm" and params:
        return {
            "hidden_size": params[0].shape[0],
            "has_bias": any(r.leaf == "bias" for r in params),
        }
    return {}


def _tied(components: Sequence[Component]) -> bool:
    for component in components:
        if component.kind == "embedding":
            return any(
                alias.rpartition(".")[0].rpartition(".")[2] in LM_HEAD_NAMES
                for record in component.tensors
                for alias in record.aliases
            )
    return False


def _tied_head(components: Sequence[Component]) -> Component:
    embedding = next(c for c in components if c.kind == "embedding")
    alias = next(a for r in embedding.tensors for a in r.aliases)
    attrs = dict(embedding.attrs, tied=True, tied_to=embedding.tensors[0].name)
    return Component("lm_head", alias.rpartition(".")[0], None, "tied", (), attrs)


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
    if block in ATTENTION_BLOCKS:
        return [_attention(path, index, module_class, records, arch, hidden, layer_type, findings)]
    if block in MLP_BLOCKS:
        return [_mlp_or_moe(path, index, module_class, records, arch, hidden, findings)]
    if block in MAMBA_BLOCKS:
        return [_mixer("mamba_mixer", path, index, module_class, records, arch)]
    if block in LINEAR_ATTENTION_BLOCKS:
        return [_mixer("gated_delta_net", path, index, module_class, records, arch)]
    params = [r for r in records if r.kind == "param"]
    if ("Norm" in module_class or "norm" in block or block.startswith("ln")) and params:
        attrs = {
            "hidden_size": params[0].shape[0],
            "has_bias": any(r.leaf == "bias" for r in params),
        }
        return [Component("norm", path, index, module_class, tuple(records), attrs)]
    if params:
        return [Component("unknown", path, index, module_class, tuple(records), {})]
    return [Component("buffers", path, index, module_class, tuple(records), {})]


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
    extras: dict[str, list[TensorRecord]] = {"sinks": [], "qk_norm": [], "other": []}
    for record in records:
        sub = _sub(record, path)
        if record.kind != "param":
            continue
        if record.leaf == "sinks" and record.module_path == path:
            extras["sinks"].append(record)
        elif sub in _QK_NORMS:
            extras["qk_norm"].append(record)
        elif record.leaf == "bias" and sub in _Q | _K | _V | _O | _QKV:
            biases.append(record)
        elif record.leaf == "weight" and sub in _Q | _K | _V | _O | _QKV:
            weights[sub] = record
        else:
            extras["other"].append(record)
    q_out = k_out = o_in = 0
    fused = _pick(weights, _QKV)
    o_weight = _pick(weights, _O)
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
    bias_on = {
        "q": any(_sub(b, path) in _Q | _QKV for b in biases),
        "k": any(_sub(b, path) in _K | _QKV for b in biases),
        "v": any(_sub(b, path) in _V | _QKV for b in biases),
        "o": any(_sub(b, path) in _O for b in biases),
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
        gate_params=gate_width * hidden,
        weight_params=sum(w.numel for w in weights.values()) - gate_width * hidden,
        bias_params=sum(b.numel for b in biases) - (gate_width if bias_on["q"] else 0),
        sinks=[r.name for r in extras["sinks"]],
        qk_norms=[r.name for r in extras["qk_norm"]],
        sink_params=sum(r.numel for r in extras["sinks"]),
        qk_norm_params=sum(r.numel for r in extras["qk_norm"]),
        qk_norm_width=extras["qk_norm"][0].shape[0] if extras["qk_norm"] else 0,
        other_params=sum(r.numel for r in extras["other"]),
    )
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
    weights = {_sub(r, path): r for r in records if r.leaf == "weight" and r.kind == "param"}
    biases = [r for r in records if r.leaf == "bias" and r.kind == "param"]
    gated = bool(_GATE & weights.keys() or _GATE_UP & weights.keys())
    gate_up = _pick(weights, _GATE_UP)
    if gate_up is not None:
        intermediate = _out_features(gate_up) // 2
    else:
        intermediate = _out_features(_pick(weights, _UP))
    known = _GATE | _UP | _DOWN | _GATE_UP
    return {
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "gated": gated,
        "num_projections": 3 if gated else 2,
        "fused_gate_up": gate_up is not None,
        "weight_params": sum(w.numel for s, w in weights.items() if s in known),
        "bias_params": sum(b.numel for b in biases),
        "other_params": sum(w.numel for s, w in weights.items() if s not in known),
    }


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
    router = [r for r in records if _sub(r, path) in _ROUTERS and r.kind == "param"]
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
    router_bias = sum(r.numel for r in router if r.leaf == "bias")
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
        "router_buffers": [r.name for r in records if r.kind == "buffer"],
    }
    return Component("moe", path, index, module_class, tuple(records), attrs)


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
