"""Reconcile what a checkpoint stores with what the model builds, term by term.

The dry run counts the logical parameters the model class builds. A checkpoint on the Hub stores
other things too, each exactly computable from the config and the dry run:

- `mtp_layers`: multi-token-prediction layers the model class does not build
  (`num_nextn_predict_layers`, `mtp_num_hidden_layers`), sized from a normal decoder layer of the
  dry run plus the MTP block's own tensors;
- `quantization_scales`: FP8 block scales (`weight_block_size`), MXFP4 block scales;
- `mxfp4_packing`: MXFP4 blocks hold two 4-bit values per byte (headers count bytes);
- `saved_buffers`: buffers the model saves with its weights (DeepSeek's e_score_correction_bias);

and two storage choices the config cannot show, which the reconciliation reads from the tensor
headers when they are vendored, and otherwise picks when (and only when) they make the total exact:

- `tied_head_stored`: a tied LM head saved a second time as `lm_head.weight`;
- `legacy_buffers`: causal masks and rotary tables old checkpoints saved (GPT-2, GPT-NeoX).

Only earlier steps are used: the inspection (tensors, raw config) and the structure.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .checkpoint import CheckpointSummary, StoredTensor
from .inventory import DECODER_LAYERS, Inspection, TensorKind, TensorRecord
from .storage import (
    StoragePlan,
    is_quantized,
    raw_config_value,
    storage_plan,
    stored_dtype,
)
from .structure import Structure

__all__ = [
    "Reconciliation",
    "Term",
    "reconcile",
]

# Buffers a model registers as persistent and save_pretrained writes (rotary tables are not).
_SAVED_BUFFERS = frozenset({"e_score_correction_bias"})
# Model types whose MTP layers store their own copies of embed_tokens and shared_head.head
# (DeepSeek-V3 README_WEIGHTS.md); GLM-5's MTP layer shares them (recorded Hub totals).
_MTP_OWN_EMBEDDINGS = frozenset({"deepseek_v3", "deepseek_v32"})
_MXFP4_BLOCK = 32  # values per E8M0 scale
_DECODER_LAYER = re.compile(rf"^(.*\.{DECODER_LAYERS})\.(\d+)\.")


@dataclass(frozen=True)
class Term:
    """One explained difference between the stored and the built count."""

    kind: str
    params: int  # stored elements this term adds (negative: fewer stored than built)
    detail: str  # how it was computed, with its numbers
    by_dtype: dict[str, int] = field(default_factory=dict)
    choice: bool = False  # a storage choice: read from headers, or picked to make the total exact

    def as_json(self) -> dict[str, Any]:
        """The term as a row of the validation report."""
        return {"term": self.kind, "params": self.params, "detail": self.detail}


@dataclass(frozen=True)
class Reconciliation:
    """Stored vs built: the terms between them and what stays unexplained."""

    built_total: int
    terms: tuple[Term, ...]
    stored_total: int | None
    predicted_by_dtype: dict[str, int]
    stored_by_dtype: dict[str, int]
    only_in_checkpoint: tuple[str, ...] = ()  # tensor names (headers vendored) the model lacks
    only_in_model: tuple[str, ...] = ()  # model tensors no stored tensor converts to
    notes: tuple[str, ...] = ()

    @property
    def explained(self) -> int:
        """The sum of the terms: predicted stored total minus built total."""
        return sum(term.params for term in self.terms)

    @property
    def predicted_total(self) -> int:
        """What the checkpoint should store."""
        return self.built_total + self.explained

    @property
    def unexplained(self) -> int | None:
        """Stored minus predicted; None without a stored total."""
        return None if self.stored_total is None else self.stored_total - self.predicted_total

    @property
    def dtype_mismatches(self) -> dict[str, tuple[int, int]]:
        """dtype -> (stored, predicted) where the recorded per-dtype counts disagree."""
        if not self.stored_by_dtype:
            return {}
        keys = sorted(set(self.stored_by_dtype) | set(self.predicted_by_dtype))
        return {
            k: (self.stored_by_dtype.get(k, 0), self.predicted_by_dtype.get(k, 0))
            for k in keys
            if self.stored_by_dtype.get(k, 0) != self.predicted_by_dtype.get(k, 0)
        }

    def lines(self) -> list[str]:
        """Human-readable: built, each term, predicted, stored, remainder."""
        out = [f"built (dry run)        {self.built_total:>20,}"]
        out += [f"  {t.kind:<20} {t.params:>+20,}  {t.detail}" for t in self.terms]
        out.append(f"predicted stored       {self.predicted_total:>20,}")
        if self.stored_total is not None:
            out.append(f"stored (checkpoint)    {self.stored_total:>20,}")
            out.append(f"unexplained            {self.unexplained:>+20,}")
        for dtype, (stored, predicted) in self.dtype_mismatches.items():
            out.append(f"  dtype {dtype}: stored {stored:,}, predicted {predicted:,}")
        out += [f"  only in checkpoint: {name}" for name in self.only_in_checkpoint[:20]]
        out += [f"  only in model: {name}" for name in self.only_in_model[:20]]
        out += [f"  note: {note}" for note in self.notes]
        return out


def _matrices(record: TensorRecord) -> list[tuple[int, int]]:
    """The 2-D matrices a (possibly fused, 3-D) weight is stored as in a checkpoint."""
    if len(record.shape) == 2:
        return [(record.shape[0], record.shape[1])]
    experts, rows, cols = record.shape[0], record.shape[-2], record.shape[-1]
    if record.leaf == "gate_up_proj":  # stored as separate gate and up matrices per expert
        if rows >= cols and rows % 2 == 0:
            return [(rows // 2, cols)] * (2 * experts)
        return [(rows, cols // 2)] * (2 * experts)
    return [(rows, cols)] * experts


def _scales(record: TensorRecord, plan: StoragePlan) -> int:
    """Scale elements stored beside one quantized weight."""
    if plan.method == "mxfp4":
        return record.numel // _MXFP4_BLOCK
    assert plan.block is not None
    b0, b1 = plan.block
    return sum(math.ceil(r / b0) * math.ceil(c / b1) for r, c in _matrices(record))


def _decoder_layers(inspection: Inspection, num_layers: int) -> dict[int, list[TensorRecord]]:
    """The text decoder's layers: the layer container with `num_layers` indices (not a tower's)."""
    containers: dict[str, dict[int, list[TensorRecord]]] = {}
    for record in inspection.tensors:
        match = _DECODER_LAYER.match(record.name)
        if match:
            layers = containers.setdefault(match.group(1), {})
            layers.setdefault(int(match.group(2)), []).append(record)
    candidates = [
        (not re.search(r"visual|vision|audio", prefix), len(layers) == num_layers, prefix)
        for prefix, layers in containers.items()
    ]
    if not candidates:
        return {}
    return containers[max(candidates)[2]]


def _template_layer(inspection: Inspection, structure: Structure) -> tuple[int, list[TensorRecord]]:
    """The decoder layer an MTP layer repeats: the last full-attention layer (else the last)."""
    layers = _decoder_layers(inspection, structure.num_layers)
    types = structure.layer_types
    full = [i for i in layers if i < len(types) and types[i] == "full_attention"]
    index = max(full) if full else max(layers)
    return index, layers[index]


@dataclass(frozen=True)
class _Part:
    """Stored elements by dtype, with the quantization scales they carry."""

    by_dtype: dict[str, int]

    @classmethod
    def of(cls, records: Iterable[TensorRecord], plan: StoragePlan) -> _Part:
        counts: dict[str, int] = {}
        for record in records:
            if record.kind is TensorKind.BUFFER and record.leaf not in _SAVED_BUFFERS:
                continue
            dtype = stored_dtype(record, plan)
            counts[dtype] = counts.get(dtype, 0) + record.numel
        return cls(counts)

    @property
    def total(self) -> int:
        return sum(self.by_dtype.values())


def _add(*parts: Mapping[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return {k: v for k, v in sorted(total.items()) if v}


def _mtp_term(inspection: Inspection, structure: Structure, plan: StoragePlan) -> Term | None:
    """MTP layers the config declares and the model class does not build."""
    hidden, vocab = structure.hidden_size, structure.vocab_size
    deepseek_style = raw_config_value(inspection, "num_nextn_predict_layers")
    qwen_style = raw_config_value(inspection, "mtp_num_hidden_layers")
    count = int(deepseek_style or qwen_style or 0)
    if count <= 0 or any(".mtp." in f".{t.name}" for t in inspection.tensors):
        return None
    index, template = _template_layer(inspection, structure)
    layer = _Part.of(template, plan)
    scale_count = sum(_scales(r, plan) for r in template if is_quantized(r, plan))
    base = plan.base_dtype
    if deepseek_style:
        # DeepSeek-V3 `model.layers.{L}`: a full decoder layer + enorm, hnorm, eh_proj [H, 2H]
        # (kept in BF16), shared_head.norm, and (DeepSeek only) its own copies of embed_tokens
        # and shared_head.head [V, H] (DeepSeek-V3 README_WEIGHTS.md; vLLM deepseek_mtp.py).
        own = inspection.model_type in _MTP_OWN_EMBEDDINGS
        copies = 2 * vocab * hidden if own else 0
        extra = 3 * hidden + 2 * hidden * hidden + copies
        what = "enorm, hnorm, shared_head.norm, eh_proj" + (
            ", embed_tokens and shared_head.head copies" if own else ""
        )
        per_layer = _add(layer.by_dtype, {base: extra}, {"F32": scale_count})
        by_dtype = {k: v * count for k, v in per_layer.items()}
    else:
        # Qwen3-Next / Qwen3.5 `mtp.*`: fc [H, 2H], pre_fc_norm_embedding, pre_fc_norm_hidden,
        # `count` decoder layers, one final norm (vLLM qwen3_next_mtp.py; transformers' converter).
        extra = 2 * hidden * hidden + 3 * hidden
        what = "fc, pre_fc_norm_embedding, pre_fc_norm_hidden, norm"
        by_dtype = _add(
            {k: v * count for k, v in layer.by_dtype.items()},
            {base: extra},
            {"F32": scale_count * count},
        )
    total = sum(by_dtype.values())
    return Term(
        "mtp_layers",
        total,
        f"{count} MTP layer(s) = {count} x decoder layer {index} ({layer.total:,}) + {what} "
        f"({extra:,})" + (f" + block scales ({scale_count:,}/layer)" if scale_count else ""),
        by_dtype,
    )


def _quantization_terms(inspection: Inspection, plan: StoragePlan, counting: str) -> list[Term]:
    quantized = [r for r in inspection.params if is_quantized(r, plan)]
    if not quantized:
        return []
    elements = sum(r.numel for r in quantized)
    scales = sum(_scales(r, plan) for r in quantized)
    if plan.method == "mxfp4":
        terms = [
            Term(
                "quantization_scales",
                scales,
                f"MXFP4 E8M0 scales, one per {_MXFP4_BLOCK} of {elements:,} expert weights (U8)",
                {"MXFP4": scales},
            )
        ]
        if counting == "headers":  # the headers count U8 bytes: two 4-bit values per byte
            terms.append(
                Term(
                    "mxfp4_packing",
                    -elements // 2,
                    f"MXFP4 blocks store 2 values per byte: {elements:,} weights in "
                    f"{elements // 2:,} U8 elements",
                    {"MXFP4": -elements // 2},
                )
            )
        return terms
    assert plan.block is not None
    b0, b1 = plan.block
    return [
        Term(
            "quantization_scales",
            scales,
            f"FP8 block scales ({b0}x{b1} blocks) of {len(quantized):,} quantized weights "
            f"({elements:,} elements), F32",
            {"F32": scales},
        )
    ]


# Old checkpoints saved causal masks and rotary tables as tensors (no longer built by
# transformers 5): model_type -> per-layer (template, shape from the config).
_LEGACY_BUFFERS: dict[str, tuple[tuple[str, Callable[[dict[str, Any]], tuple[int, ...]]], ...]] = {
    "gpt2": (("h.{}.attn.bias", lambda c: (1, 1, c["n_positions"], c["n_positions"])),),
    "openai-gpt": (("h.{}.attn.bias", lambda c: (1, 1, c["n_positions"], c["n_positions"])),),
    "gpt_neox": (
        (
            "gpt_neox.layers.{}.attention.bias",
            lambda c: (1, 1, c["max_position_embeddings"], c["max_position_embeddings"]),
        ),
        (
            "gpt_neox.layers.{}.attention.rotary_emb.inv_freq",
            lambda c: (
                int(c["hidden_size"] // c["num_attention_heads"] * c.get("rotary_pct", 1.0)) // 2,
            ),
        ),
    ),
}


def _legacy_term(inspection: Inspection, structure: Structure) -> Term | None:
    table = _LEGACY_BUFFERS.get(inspection.model_type)
    if not table:
        return None
    config = {**inspection.config, **inspection.resolved.config}
    tensors = [
        StoredTensor(template.format(i), "F32", shape(config))
        for i in range(structure.num_layers)
        for template, shape in table
    ]
    total = sum(t.numel for t in tensors)
    names = ", ".join(template for template, _ in table)
    return Term(
        "legacy_buffers",
        total,
        f"{structure.num_layers} x ({names}) saved by an old checkpoint",
        {"F32": total},
        choice=True,
    )


def _tied_head_term(structure: Structure, plan: StoragePlan) -> Term | None:
    if not structure.tied_embeddings:
        return None
    size = structure.vocab_size * structure.hidden_size
    return Term(
        "tied_head_stored",
        size,
        f"the tied LM head saved a second time as lm_head.weight "
        f"({structure.vocab_size:,} x {structure.hidden_size:,})",
        {plan.base_dtype: size},
        choice=True,
    )


def _saved_buffers_term(inspection: Inspection) -> Term | None:
    saved = [t for t in inspection.buffers if t.leaf in _SAVED_BUFFERS]
    if not saved:
        return None
    total = sum(t.numel for t in saved)
    leaves = ", ".join(sorted({t.leaf for t in saved}))
    return Term(
        "saved_buffers",
        total,
        f"{len(saved)} persistent buffers saved with the weights ({leaves}), F32",
        {"F32": total},
    )


def _checkpoint_names(summary: CheckpointSummary, inspection: Inspection) -> set[str]:
    """Stored tensor names renamed the way transformers loads them (its conversion mapping)."""
    from transformers.conversion_mapping import get_checkpoint_conversion_mapping
    from transformers.core_model_loading import WeightConverter, WeightRenaming, rename_source_key

    transforms = [
        *(get_checkpoint_conversion_mapping(inspection.model_type) or []),
        *(get_checkpoint_conversion_mapping("legacy") or []),
    ]
    renamings = [t for t in transforms if isinstance(t, WeightRenaming)]
    converters = [t for t in transforms if isinstance(t, WeightConverter)]
    model_names = {t.name for t in inspection.tensors} | {
        alias for t in inspection.tensors for alias in t.aliases
    }
    prefix = _base_prefix(model_names)
    meta = dict.fromkeys(model_names, True)
    return {
        rename_source_key(t.name, renamings, converters, prefix, meta)[0] for t in summary.tensors
    }


def _base_prefix(names: set[str]) -> str | None:
    """The base-model prefix (`model`) most model names start with."""
    heads = [name.split(".", 1)[0] for name in names if "." in name]
    return max(set(heads), key=heads.count) if heads else None


def _compare_names(
    summary: CheckpointSummary, inspection: Inspection, terms: list[Term]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    stored = _checkpoint_names(summary, inspection)
    built = {
        t.name for t in inspection.tensors if t.kind is TensorKind.PARAM or t.leaf in _SAVED_BUFFERS
    }
    aliases = {alias for t in inspection.tensors for alias in t.aliases}
    only_in_checkpoint = sorted(stored - built - aliases)
    only_in_model = sorted(built - stored)
    return tuple(only_in_checkpoint), tuple(only_in_model)


def _pick_choices(optional: list[Term], remainder: int) -> list[Term]:
    """The smallest subset of storage choices that makes the total exact, else none."""
    for size in range(1, len(optional) + 1):
        for subset in itertools.combinations(optional, size):
            if sum(t.params for t in subset) == remainder:
                return list(subset)
    return []


def _choices_from_headers(optional: list[Term], summary: CheckpointSummary) -> list[Term]:
    names = {t.name for t in summary.tensors}
    chosen = []
    for term in optional:
        if term.kind == "tied_head_stored" and any(n.endswith("lm_head.weight") for n in names):
            chosen.append(term)
        if term.kind == "legacy_buffers" and any(
            n.endswith((".attn.bias", ".attention.bias", "rotary_emb.inv_freq")) for n in names
        ):
            chosen.append(term)
    return chosen


def reconcile(
    inspection: Inspection,
    structure: Structure,
    summary: CheckpointSummary | None = None,
    *,
    stored_total: int | None = None,
) -> Reconciliation:
    """Predict the stored total from the dry run and the config, and compare it with the record.

    `summary` is the vendored checkpoint.json (tensor headers or a recorded total); without one,
    `stored_total` (a claim's value) decides the storage choices. The Hub's model-info total counts
    an MXFP4 block's 4-bit values, the headers count its bytes: the summary says which it is.
    """
    plan = storage_plan(inspection)
    stored = summary.total if summary is not None else stored_total
    counting = "headers" if summary is not None and summary.has_headers else "hub"
    certain = [
        term
        for term in (
            _mtp_term(inspection, structure, plan),
            *_quantization_terms(inspection, plan, counting),
            _saved_buffers_term(inspection),
        )
        if term is not None
    ]
    optional = [
        term
        for term in (_tied_head_term(structure, plan), _legacy_term(inspection, structure))
        if term is not None
    ]
    built = inspection.total_params
    notes: list[str] = []
    if summary is not None and summary.has_headers:
        chosen = _choices_from_headers(optional, summary)
    elif stored is not None:
        chosen = _pick_choices(optional, stored - built - sum(t.params for t in certain))
        if chosen:
            notes.append(
                "storage choices picked to match the recorded total (no headers vendored): "
                + ", ".join(t.kind for t in chosen)
            )
    else:
        chosen = []
    terms = certain + chosen
    base = _Part.of((t for t in inspection.params), plan).by_dtype
    predicted = _add(base, *(t.by_dtype for t in terms))
    if "MXFP4" in predicted:  # blocks and E8M0 scales are both stored as U8
        predicted["U8"] = predicted.get("U8", 0) + predicted.pop("MXFP4")
    only_ckpt: tuple[str, ...] = ()
    only_model: tuple[str, ...] = ()
    if summary is not None and summary.has_headers:
        only_ckpt, only_model = _compare_names(summary, inspection, terms)
    return Reconciliation(
        built_total=built,
        terms=tuple(terms),
        stored_total=stored,
        predicted_by_dtype=dict(sorted(predicted.items())),
        stored_by_dtype=dict(summary.parameters) if summary is not None else {},
        only_in_checkpoint=only_ckpt,
        only_in_model=only_model,
        notes=tuple(notes),
    )
