"""Cross-check the catalog's FLOPs against PyTorch's FlopCounterMode, on the meta device.

The catalog's convention (harness/catalog/base.py): only matmuls count, 2·M·K·N per GEMM, as
`torch.utils.flop_counter.FlopCounterMode` counts them. `cross_check` proves it per model: it builds
the model on the meta device (harness.pipeline.inventory.build_meta_model, no weights), runs one
prefill forward pass of B=1 sequence of S tokens under `FlopCounterMode(display=False)`, reads the
count of each entry's module at the entry's first decoder layer (`get_flop_counts()` is keyed by
module path), and compares it with the entry's class formula `flops(B, S)`. Every entry of the
config gets a row: `match`, `mismatch`, or `not run` with the reason; nothing is skipped silently.

Choices, and why:

* Eager attention (`set_attn_implementation("eager")`). Every architecture has it (gpt-oss sinks
  and Gemma-2 soft-capping have nothing else); its QKᵀ and PV are plain matmuls, counted
  2·B·h·S·S_kv·d_h each; and it does not depend on the SDPA backend torch picks (on meta SDPA
  runs its math decomposition, on a GPU a fused kernel with its own formula: the same numbers
  here, but one fewer moving part). GQA: K and V are expanded to the h query heads before the
  matmul (repeat_kv, or broadcasting), so PyTorch counts h heads for the scores, as the catalog
  does; h_kv only enters the K and V projections. Falcon keeps its own SDPA code (it ignores the
  switch); the report records the implementation each model really used.
* Experts `batched_mm`. transformers' eager experts loop over the experts that received tokens
  (`nonzero` on the routing mask: data-dependent, impossible on meta), and the default
  `grouped_mm` has no FlopCounterMode formula (it would count 0). `batched_mm` gathers each
  token's top-k experts and runs the same GEMMs as one bmm, 2·T·k·p·H·I, with fixed shapes.
  Stacked 2-D experts (DBRX's [E·I, H] matrices), which have no batched_mm, are given a forward
  that gathers the same way. A model whose experts cannot switch and whose routing fails on meta
  gets `failed` rows for the modules the pass did not finish, with the exception.
* S. 8 tokens, or S = W when an entry has a sliding window W (the smallest one), followed by a
  second pass: one decode token at context W + 1, checked against the classes' decode FLOPs.
  The catalog caps a query's keys at W (a window-honouring kernel, Mantile's model); PyTorch's
  dense prefill scores the whole masked S x S block, so the two agree in prefill up to S = W
  and no further, while in decode the cache keeps W - 1 keys and PyTorch attends exactly
  min(context, W), as the catalog. S = W is the longest prefill where they must agree (a cap
  off by one shows there) and the decode token is where the cap binds.
* Depth. The model is built with only its first K decoder layers, K = 1 + the deepest first
  layer of any entry (1 for Llama, 6 for Gemma-3, whose first full-attention layer is 5): the
  same config with the layer count (and `layer_types`) cut. A layer's FLOPs depend only on its
  own config and S, and the whole forward still runs (embedding, rotary, final norm, head), so no
  compared number changes while a 126-layer model costs what a 1-layer one does. A guard checks
  every entry tensor of those layers against the cut build and builds the full depth instead on
  any difference, or when the cut config does not build.
* Biases: addmm counts the matmul only, as the catalog. Rotary embeddings, norms, softmax,
  routing top-k, sink logits: elementwise, 0 on both sides. The LM head, a stand-in class where
  one is exact and otherwise a gap, is compared with a plain GEMM over every position's logits,
  2·T·H·V.
* What PyTorch counts outside every entry's modules (a matmul in a decoder layer's own forward or
  in a rotary embedding) is one more row, `unattributed`, whose catalog value is 0.

A supported entry that shares its module with a gap doing matmuls of its own (Qwen3-Next's
q projection also computes the output gate) cannot be split and is `not run`; so is a gap with no
class formula (MLA, Mamba mixer, gated delta-net ...), with PyTorch's count shown when the module
is its own. The report is JSON (`as_dict` / `from_dict`), so it can be cached by config sha256.

The sub-modules: `report` (the rows and the report), `targets` (what to compare, how deep to
build), `forward` (the pass on meta under FlopCounterMode) and `compare` (formula against count).
"""

from __future__ import annotations

from .compare import cross_check
from .report import (
    ATTN_IMPLEMENTATION,
    BATCH_SIZE,
    EXPERTS_IMPLEMENTATION,
    READING_HINT,
    SEQ_LEN,
    UNATTRIBUTED,
    ComponentFlops,
    FlopsReport,
    Status,
)

__all__ = [
    "ATTN_IMPLEMENTATION",
    "BATCH_SIZE",
    "EXPERTS_IMPLEMENTATION",
    "READING_HINT",
    "SEQ_LEN",
    "UNATTRIBUTED",
    "ComponentFlops",
    "FlopsReport",
    "Status",
    "cross_check",
]
