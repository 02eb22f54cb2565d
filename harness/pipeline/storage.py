"""How a checkpoint stores each tensor: the dtype its config declares and its quantization.

The storage plan is read from config.json alone (`torch_dtype` / `dtype`, `quantization_config`)
and the tensor records of the inventory; the config step writes each entry's `checkpoint_dtype`
from it, and the reconciliation of a checkpoint's stored count uses it for every term.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..dtypes import declared_dtype
from .inventory import Inspection, TensorKind, TensorRecord

__all__ = [
    "StoragePlan",
    "component_dtype",
    "is_quantized",
    "mantile_dtype",
    "raw_config_value",
    "storage_plan",
    "stored_dtype",
]

# torch dtype names in config.json -> safetensors dtype names
_TORCH_TO_SAFETENSORS = {
    "bfloat16": "BF16",
    "float16": "F16",
    "float32": "F32",
    "float8_e4m3fn": "F8_E4M3",
}
# safetensors dtype -> the dtype names Mantile's estimator uses for weight bytes (harness.dtypes)
_MANTILE_DTYPES = {
    "BF16": "bf16",
    "F16": "fp16",
    "F32": "fp32",
    "F8_E4M3": "fp8",
    "I8": "int8",
    "MXFP4": "mxfp4",
}
_EMBEDDING_LEAVES = frozenset({"embed_tokens", "wte", "word_embeddings", "embed_in", "lm_head"})
_EXPERT_LEAVES = frozenset({"gate_up_proj", "down_proj", "w1", "w2", "w3"})
# Linears the FP8 checkpoints keep in BF16 although quantization_config does not list them: the
# DSA indexer's per-head weight projection (DeepSeek-V3.2 and GLM-5 reference inference code
# create it with the default dtype). Checked against the recorded Hub totals (tests/data).
_FP8_KEPT_LEAVES = frozenset({"weights_proj"})


@dataclass(frozen=True)
class StoragePlan:
    """How a config says its weights are stored: base dtype and the quantization method."""

    base_dtype: str  # safetensors dtype of unquantized tensors ("BF16", "F32" ...)
    method: str | None = None  # quantization_config.quant_method
    block: tuple[int, int] | None = None  # FP8 weight_block_size
    not_converted: tuple[str, ...] = ()  # modules_to_not_convert / ignored layers

    @property
    def quantized_dtype(self) -> str:
        """The safetensors dtype of a quantized weight."""
        return {"fp8": "F8_E4M3", "mxfp4": "MXFP4"}.get(self.method or "", self.base_dtype)


def raw_config_value(inspection: Inspection, key: str) -> Any:
    """A raw config.json value, at the top level or in text_config."""
    config = inspection.resolved.config
    if key in config:
        return config[key]
    text = config.get("text_config")
    return text.get(key) if isinstance(text, dict) else None


def storage_plan(inspection: Inspection) -> StoragePlan:
    """The base dtype (`torch_dtype` / `dtype`) and `quantization_config`."""
    quant = raw_config_value(inspection, "quantization_config")
    # No dtype in the config: transformers saved float32 by default; a quantized checkpoint
    # (gpt-oss names none) keeps its unquantized tensors in bfloat16.
    default = "bfloat16" if isinstance(quant, dict) else "float32"
    # The dtype the tensor files name too (dtypes.declared_dtype): the two never differ.
    torch_dtype = declared_dtype(inspection.resolved.config) or default
    base = _TORCH_TO_SAFETENSORS.get(torch_dtype, "F32")
    if not isinstance(quant, dict):
        return StoragePlan(base)
    block = quant.get("weight_block_size")
    skip = quant.get("modules_to_not_convert") or quant.get("ignored_layers") or ()
    return StoragePlan(
        base_dtype=base,
        method=str(quant.get("quant_method") or "") or None,
        block=tuple(block) if isinstance(block, list) and len(block) == 2 else None,
        not_converted=tuple(str(s) for s in skip if isinstance(s, str)),
    )


def is_quantized(record: TensorRecord, plan: StoragePlan) -> bool:
    """True for a weight the quantization method stores quantized (see each method's rule)."""
    if record.kind is not TensorKind.PARAM or len(record.shape) < 2 or record.leaf.endswith("bias"):
        return False
    module = record.module_path
    if any(skip and skip in module for skip in plan.not_converted):
        return False
    is_experts = record.module_class.endswith("Experts") and record.leaf in _EXPERT_LEAVES
    if plan.method == "mxfp4":  # gpt-oss quantizes the routed experts only
        return is_experts
    if plan.method == "fp8" and plan.block is not None:
        # transformers' FP8 quantizer converts nn.Linear modules (not routers, not the head)
        leaf_module = module.rpartition(".")[2]
        kept = _EMBEDDING_LEAVES | _FP8_KEPT_LEAVES
        linear = record.module_class == "Linear" and leaf_module not in kept
        return linear or is_experts
    return False


def stored_dtype(record: TensorRecord, plan: StoragePlan) -> str:
    """The safetensors dtype a tensor is stored in, predicted from the config."""
    if record.kind is TensorKind.BUFFER:
        return "F32"
    return plan.quantized_dtype if is_quantized(record, plan) else plan.base_dtype


def mantile_dtype(dtype: str) -> str:
    """Mantile's dtype name for a safetensors dtype (`F8_E4M3` -> `fp8`)."""
    return _MANTILE_DTYPES.get(dtype, dtype.lower())


def component_dtype(records: Iterable[TensorRecord], plan: StoragePlan) -> str:
    """Mantile's dtype for a component's weight bytes: the stored dtype holding most elements."""
    counts: dict[str, int] = {}
    for record in records:
        if record.kind is TensorKind.PARAM:
            dtype = stored_dtype(record, plan)
            counts[dtype] = counts.get(dtype, 0) + record.numel
    dominant = max(sorted(counts), key=counts.__getitem__) if counts else plan.base_dtype
    return mantile_dtype(dominant)
