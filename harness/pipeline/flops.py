"""Cross-check the catalog's FLOPs against PyTorch's FlopCounterMode, on the meta device.

The catalog's convention (harness/catalog/catalog.py): only matmuls count, 2·M·K·N per GEMM, as
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
"""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any

from ..catalog import Phase, instantiate
from ..catalog.formulas import Step, formula_for
from ..errors import HarnessError
from .inventory import DECODER_LAYERS, layer_index_of

if TYPE_CHECKING:
    from .mapping import LayerEntry
    from .resolve import ResolvedConfig

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

BATCH_SIZE = 1
SEQ_LEN = 8
ATTN_IMPLEMENTATION = "eager"
EXPERTS_IMPLEMENTATION = "batched_mm"
UNATTRIBUTED = "unattributed"
_LAYER = re.compile(rf"(\.{DECODER_LAYERS}\.)(\d+)(?=\.|$)")
_NO_MATMUL_GAPS = ("bias", "sinks", "norm")
_LAYER_COUNT_KEYS = ("num_hidden_layers", "n_layer", "num_layers")
READING_HINT = (
    "How to read it: catalog = the entry's class formula flops(B, S) (decode: flops(B, 1, "
    "context_len)); pytorch = FlopCounterMode's count for the module at the entry's first layer, "
    "minus modules of other entries nested in it; diff = pytorch - catalog. A diff of 2·T·H·n is "
    "a GEMM of width n the formula lacks (positive) or adds (negative); a diff in the scores "
    "grows with S_kv. Fix the class's flops() in harness/catalog/catalog.py, or the entry's specs "
    "in harness/pipeline/mapping.py when the class is right and the specs are not."
)


class Status(str, Enum):
    """Outcome of one row: formulas agree, disagree, or could not be compared (with a reason)."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_RUN = "not run"
    FAILED = "failed"  # an entry with a formula the forward pass could not measure


@dataclass(frozen=True)
class ComponentFlops:
    """One entry's FLOPs in one phase: the catalog's formula next to PyTorch's count."""

    name: str
    class_name: str
    phase: str
    module: str
    catalog: int | None
    pytorch: int | None
    status: Status
    reason: str = ""

    @property
    def difference(self) -> int | None:
        """PyTorch minus catalog, when both are known."""
        if self.catalog is None or self.pytorch is None:
            return None
        return self.pytorch - self.catalog

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "class": self.class_name,
            "phase": self.phase,
            "module": self.module,
            "catalog": self.catalog,
            "pytorch": self.pytorch,
            "status": self.status.value,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComponentFlops:
        """The inverse of `as_dict`."""
        return cls(
            name=data["name"],
            class_name=data["class"],
            phase=data["phase"],
            module=data["module"],
            catalog=data["catalog"],
            pytorch=data["pytorch"],
            status=Status(data["status"]),
            reason=data.get("reason", ""),
        )


@dataclass(frozen=True)
class FlopsReport:
    """The cross-check of one model: the run's settings and one row per entry and phase."""

    model: str
    config_sha256: str
    batch_size: int
    seq_len: int
    decode_context: int | None
    attn_implementation: str
    experts_implementation: str | None
    versions: dict[str, str]
    components: tuple[ComponentFlops, ...]
    layers_built: int | None = None  # decoder layers built (the first ones); None: all

    @property
    def mismatches(self) -> tuple[ComponentFlops, ...]:
        """Rows where the catalog and PyTorch disagree."""
        return tuple(c for c in self.components if c.status is Status.MISMATCH)

    @property
    def not_run(self) -> tuple[ComponentFlops, ...]:
        """Rows that could not be compared, each with its reason."""
        return tuple(c for c in self.components if c.status is Status.NOT_RUN)

    @property
    def failed(self) -> tuple[ComponentFlops, ...]:
        """Rows with a class formula that the forward pass on meta could not measure."""
        return tuple(c for c in self.components if c.status is Status.FAILED)

    @property
    def passed(self) -> bool:
        """True when no row disagrees and every row with a formula was measured."""
        return not self.mismatches and not self.failed

    @property
    def settings(self) -> str:
        """One line: batch, sequence, decode context and the implementations used."""
        decode = f", decode at context {self.decode_context}" if self.decode_context else ""
        experts = f", {self.experts_implementation} experts" if self.experts_implementation else ""
        depth = f", first {self.layers_built} decoder layers built" if self.layers_built else ""
        return (
            f"B={self.batch_size}, S={self.seq_len}{decode}, "
            f"{self.attn_implementation} attention{experts}{depth}"
        )

    def table(self, rows: Sequence[ComponentFlops] | None = None) -> str:
        """A fixed-width table of `rows` (all rows by default), reasons below their row."""
        chosen = self.components if rows is None else rows
        header = ("component", "class", "phase", "module", "catalog", "pytorch", "diff", "status")
        cells = [header] + [
            (
                c.name,
                c.class_name,
                c.phase,
                c.module,
                _number(c.catalog),
                _number(c.pytorch),
                _number(c.difference, signed=True),
                c.status.value,
            )
            for c in chosen
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        numeric = {4, 5, 6}
        lines = []
        for index, row in enumerate(cells):
            text = "  ".join(
                cell.rjust(width) if i in numeric else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
            lines.append(text.rstrip())
            if index and chosen[index - 1].reason:
                lines.append(f"    {chosen[index - 1].reason}")
        return "\n".join(lines)

    def failure_message(self) -> str:
        """Why the check fails: every row as a table, then how to read a mismatch."""
        count, failed = len(self.mismatches), len(self.failed)
        problems = []
        if count:
            problems.append(
                f"{count} FLOP count{'s' if count > 1 else ''} of the catalog "
                f"disagree{'' if count > 1 else 's'} with PyTorch's FlopCounterMode"
            )
        if failed:
            problems.append(
                f"{failed} entr{'ies' if failed > 1 else 'y'} with a class formula could not be "
                "measured because the forward pass on meta failed (see the reasons below)"
            )
        return "\n".join(
            [
                f"{self.model}: {' and '.join(problems)} ({self.settings}):",
                self.table(),
                READING_HINT,
            ]
        )

    def not_run_lines(self) -> list[str]:
        """One line per entry not compared (phases merged when the reason is the same)."""
        merged: dict[tuple[str, str, str], list[ComponentFlops]] = {}
        for row in self.not_run:
            merged.setdefault((row.name, row.class_name, row.reason), []).append(row)
        lines = []
        for (name, class_name, reason), rows in merged.items():
            phases = "+".join(row.phase for row in rows)
            counted = [f"{row.pytorch:,} ({row.phase})" for row in rows if row.pytorch is not None]
            where = f"; PyTorch counts {', '.join(counted)} in {rows[0].module}" if counted else ""
            lines.append(f"{name} ({class_name}, {phases}): {reason}{where}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what a cache stores)."""
        return {
            "model": self.model,
            "config_sha256": self.config_sha256,
            "batch_size": self.batch_size,
            "seq_len": self.seq_len,
            "decode_context": self.decode_context,
            "attn_implementation": self.attn_implementation,
            "experts_implementation": self.experts_implementation,
            "versions": dict(self.versions),
            "components": [c.as_dict() for c in self.components],
            "layers_built": self.layers_built,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlopsReport:
        """The inverse of `as_dict`."""
        return cls(
            model=data["model"],
            config_sha256=data["config_sha256"],
            batch_size=data["batch_size"],
            seq_len=data["seq_len"],
            decode_context=data["decode_context"],
            attn_implementation=data["attn_implementation"],
            experts_implementation=data["experts_implementation"],
            versions=dict(data["versions"]),
            components=tuple(ComponentFlops.from_dict(c) for c in data["components"]),
            layers_built=data.get("layers_built"),
        )


def _number(value: int | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+,}" if signed and value else f"{value:,}"


# --------------------------------------------------------------------------- what to compare


@dataclass(frozen=True)
class _Target:
    """An entry and where its FLOPs live: its module at its first layer and at every layer."""

    entry: LayerEntry
    module: str | None
    layer: int | None
    owns_matmul: bool

    def at(self, layer: int) -> str | None:
        """The entry's module path at another decoder layer."""
        if self.module is None or self.layer is None:
            return self.module
        return _LAYER.sub(lambda m: f"{m.group(1)}{layer}", self.module, count=1)

    def paths(self) -> list[str]:
        """The entry's module at every layer it occurs in."""
        if self.module is None:
            return []
        if self.layer is None or not self.entry.layers:
            return [self.module]
        return [p for p in (self.at(i) for i in self.entry.layers) if p is not None]


def _common_module(names: Sequence[str]) -> str | None:
    if not names:
        return None
    parts = [name.split(".") for name in names]
    common: list[str] = []
    for pieces in zip(*parts, strict=False):
        if len(set(pieces)) != 1:
            break
        common.append(pieces[0])
    return ".".join(common)


def _head_path(model: Any) -> str | None:
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is None:
        return None
    return next((name for name, sub in model.named_modules() if sub is head), None)


def _targets(entries: Sequence[LayerEntry], model: Any) -> list[_Target]:
    targets = []
    for entry in entries:
        module = _common_module([t.module_path for t in entry.example_tensors])
        if entry.gap_kind == "lm_head":
            module = _head_path(model) or module
        match = _LAYER.search(module) if module else None
        targets.append(
            _Target(
                entry=entry,
                module=module,
                layer=int(match.group(2)) if match else None,
                owns_matmul=any(
                    len(t.shape) >= 2 and not t.leaf.endswith("bias") for t in entry.example_tensors
                ),
            )
        )
    return targets


def _first_layer(entry: LayerEntry) -> int | None:
    match = _LAYER.search(_common_module([t.module_path for t in entry.example_tensors]) or "")
    return int(match.group(2)) if match else None


def _shallow_config(
    resolved: ResolvedConfig, entries: Sequence[LayerEntry]
) -> tuple[ResolvedConfig, int] | None:
    """The config cut to the decoder layers compared (through each entry's first), if fewer."""
    firsts = [layer for layer in map(_first_layer, entries) if layer is not None]
    raw = dict(resolved.config)
    key = next((k for k in _LAYER_COUNT_KEYS if isinstance(raw.get(k), int)), None)
    if not firsts or key is None or max(firsts) + 1 >= raw[key]:
        return None
    depth = max(firsts) + 1
    raw[key] = depth
    if isinstance(raw.get("layer_types"), list):
        raw["layer_types"] = raw["layer_types"][:depth]
    return replace(resolved, config=raw), depth


def _same_tensors(model: Any, entries: Sequence[LayerEntry], depth: int) -> bool:
    """True when the cut model holds every entry tensor of its layers, with the same shape."""
    shapes = {
        name: tuple(tensor.shape)
        for named in (model.named_parameters, model.named_buffers)
        for name, tensor in named(remove_duplicate=False)
    }
    for entry in entries:
        for record in entry.example_tensors:
            layer = layer_index_of(record.name)
            if (layer is None or layer < depth) and shapes.get(record.name) != record.shape:
                return False
    return True


def _shallow_model(
    resolved: ResolvedConfig, entries: Sequence[LayerEntry], trust_remote_code: bool
) -> tuple[Any, int | None]:
    """The model built with only the layers compared, else (cut refused or different) in full."""
    from .inventory import build_meta_model

    cut = _shallow_config(resolved, entries)
    if cut is not None:
        shallow, depth = cut
        with contextlib.suppress(HarnessError):
            model = build_meta_model(shallow, trust_remote_code=trust_remote_code)
            if _same_tensors(model, entries, depth):
                return model, depth
    return build_meta_model(resolved, trust_remote_code=trust_remote_code), None


def _inside(path: str, parent: str) -> bool:
    return parent == "" or path.startswith(f"{parent}.")


def _narrowest_window(entries: Sequence[LayerEntry]) -> int | None:
    windows = [
        int(e.specs["sliding_window"])
        for e in entries
        if e.supported and isinstance(e.specs.get("sliding_window"), int)
    ]
    return min(windows) if windows else None


# --------------------------------------------------------------------------- running PyTorch


@dataclass(frozen=True)
class _Pass:
    """One forward pass: FLOPs per module path ("" is the model), finished modules, failure."""

    counts: dict[str, int]
    total: int
    done: frozenset[str]
    failed_in: str | None
    failure: str | None
    output: Any

    def count(self, path: str) -> int:
        """FLOPs PyTorch counted inside a module (0 when it ran no matmul)."""
        return self.counts.get(path, 0)


def _enter(stack: list[str], name: str, module: Any, args: Any) -> None:
    stack.append(name)


def _leave(stack: list[str], done: set[str], name: str, module: Any, args: Any, out: Any) -> None:
    stack.pop()
    done.add(name)


def _forward(model: Any, seq_len: int, cache: Any = None) -> _Pass:
    """Run the model under FlopCounterMode; record what finished and where a failure happened.

    A prefill that fails without an attention mask is run again with an all-ones one: some
    models then look for packed sequences in the position ids, which needs a value (`.item()`)
    the meta device does not have (Gemma 4), while others (Jamba's Mamba layers) need no mask.
    """
    run = _forward_once(model, seq_len, cache)
    if run.failure is not None and cache is None:
        masked = _forward_once(model, seq_len, cache, attention_mask=True)
        if masked.failure is None:
            return masked
    return run


def _forward_once(
    model: Any, seq_len: int, cache: Any = None, *, attention_mask: bool = False
) -> _Pass:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from .inventory import quiet_transformers

    stack: list[str] = []
    done: set[str] = set()
    handles = []
    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(partial(_enter, stack, name)))
        handles.append(module.register_forward_hook(partial(_leave, stack, done, name)))
    ids = torch.zeros((BATCH_SIZE, seq_len), dtype=torch.long, device="meta")
    kwargs: dict[str, Any] = {"input_ids": ids, "use_cache": True}
    if cache is not None:
        kwargs[_cache_argument(model)] = cache
    if attention_mask:
        kwargs["attention_mask"] = torch.ones_like(ids)
    counter = FlopCounterMode(display=False)
    output = failed_in = failure = None
    try:
        with quiet_transformers(), torch.no_grad(), counter:
            output = model(**kwargs)
    except Exception as exc:  # any op may refuse meta tensors; the rows say which and why
        failure = f"{type(exc).__name__}: {_first_sentence(exc)}".rstrip(": ")
        failed_in = stack[-1] if stack else ""
    finally:
        for handle in handles:
            handle.remove()
    counts: dict[str, int] = {}
    total = 0
    for name, ops in counter.get_flop_counts().items():
        if name == "Global":
            total = sum(ops.values())
        else:
            counts[name.partition(".")[2]] = sum(ops.values())
    return _Pass(counts, total, frozenset(done), failed_in, failure, output)


def _first_sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    end = text.find(". ")
    text = text[: end + 1] if 0 < end < 160 else text
    return text if len(text) <= 160 else f"{text[:157]}..."


def _cache_argument(model: Any) -> str:
    """`cache` in transformers 5 forwards, `past_key_values` in models not yet renamed."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _cache_of(output: Any) -> Any:
    return getattr(output, "cache", None) or getattr(output, "past_key_values", None)


def _use_implementations(model: Any, experts: str | None) -> tuple[str, str | None]:
    from .inventory import quiet_transformers

    # A model that cannot switch keeps its own implementation; the report records which ran.
    with quiet_transformers(), contextlib.suppress(Exception):
        model.set_attn_implementation(ATTN_IMPLEMENTATION)
    has_experts = any(name.endswith(".experts") for name, _ in model.named_modules())
    if has_experts and experts is not None:
        with quiet_transformers(), contextlib.suppress(Exception):
            model.set_experts_implementation(experts)
    attn = str(getattr(model.config, "_attn_implementation", None))
    used = getattr(model.config, "_experts_implementation", None) if has_experts else None
    if experts == EXPERTS_IMPLEMENTATION and _gather_stacked_experts(model):
        used = "gathered (stacked 2-D experts)"
    return attn, None if used is None else str(used)


def _gather_stacked_experts(model: Any) -> int:
    """Run stacked 2-D experts (DBRX) as fixed-shape GEMMs; how many modules were switched.

    Their own forward loops over the experts that received tokens (`nonzero`, impossible on meta)
    and transformers offers them no batched_mm; this forward runs what batched_mm runs: each
    token times its k chosen experts' matrices, 2·T·k·H·I per projection, with fixed shapes.
    """
    import types

    count = 0
    for _, module in model.named_modules():
        mlp = getattr(module, "mlp", None)
        weights = [getattr(mlp, name, None) for name in ("w1", "v1", "w2")]
        if all(getattr(w, "ndim", 0) == 2 for w in weights) and hasattr(module, "num_experts"):
            module.forward = types.MethodType(_gathered_experts_forward, module)
            count += 1
    return count


def _gathered_experts_forward(self: Any, hidden_states: Any, top_k_index: Any, weights: Any) -> Any:
    shape = (self.num_experts, self.ffn_hidden_size, self.hidden_size)
    w1, v1, w2 = (getattr(self.mlp, n).view(shape)[top_k_index] for n in ("w1", "v1", "w2"))
    tokens = hidden_states.reshape(-1, 1, 1, self.hidden_size)  # [T, 1, 1, H] against [T, k, I, H]
    inner = self.mlp.activation_fn(tokens @ w1.transpose(-1, -2)) * (tokens @ v1.transpose(-1, -2))
    out = ((inner @ w2).squeeze(-2) * weights[..., None]).sum(dim=1)
    return out.view(hidden_states.shape[0], -1, self.hidden_size)


# --------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class _Phase:
    name: Phase
    batch: int
    new_tokens: int
    context: int | None

    @property
    def tokens(self) -> int:
        return self.batch * self.new_tokens


def _catalog_flops(entry: LayerEntry, phase: _Phase) -> int:
    if not entry.supported and entry.gap_kind == "lm_head":  # a stand-in has a class: below
        formula = formula_for("lm_head")
        step = Step(phase.name, phase.batch, phase.new_tokens, phase.context or phase.new_tokens)
        count = formula.flops(entry.specs, step) if formula and formula.flops else None
        if count is None:
            raise HarnessError(f"{entry.name}: lm_head specs lack hidden_size or vocab_size")
        return count
    layer = instantiate(entry.class_name, entry.specs)
    return layer.flops(phase.batch, phase.new_tokens, phase=phase.name, context_len=phase.context)


def _row(
    target: _Target,
    phase: _Phase,
    status: Status,
    *,
    catalog: int | None = None,
    pytorch: int | None = None,
    reason: str = "",
) -> ComponentFlops:
    entry = target.entry
    return ComponentFlops(
        name=entry.name,
        class_name=entry.class_name,
        phase=phase.name,
        module=target.module or "-",
        catalog=catalog,
        pytorch=pytorch,
        status=status,
        reason=reason,
    )


def _neighbours(target: _Target, targets: Sequence[_Target]) -> tuple[list[_Target], list[str]]:
    """Other entries with matmuls in the same module, and modules of other entries nested in it."""
    layer, module = target.layer, target.module
    sharing: list[_Target] = []
    nested: list[str] = []
    if module is None:
        return sharing, nested
    for other in targets:
        if other is target:
            continue
        if layer is not None and other.layer is not None:
            if layer not in other.entry.layers:
                continue
            path = other.at(layer)
        elif layer is None and other.layer is None:
            path = other.module
        else:
            continue
        if path is None:
            continue
        if path == module and other.owns_matmul:
            sharing.append(other)
        elif path != module and _inside(path, module) and other.owns_matmul:
            # an entry of vectors only (a router's scales) does no matmul of its own: its
            # module may run the entry's matmuls (the router's projection), so it stays in
            nested.append(path)
    outermost = [p for p in set(nested) if not any(_inside(p, q) for q in nested if q != p)]
    return sharing, sorted(outermost)


def _measured(
    target: _Target, run: _Pass, targets: Sequence[_Target]
) -> tuple[int | None, str, bool]:
    """PyTorch's FLOPs of the entry's own module, or None, why, and whether the pass failed."""
    module = target.module
    if module is None:
        return None, "no module: the entry has no tensors to locate it", False
    if module not in run.done:
        if run.failure is None:
            return (
                None,
                f"{module} was never called in the forward pass (weights used elsewhere?)",
                False,
            )
        if run.failed_in is not None and (
            _inside(run.failed_in, module) or run.failed_in == module
        ):
            failure = f"the forward pass on meta failed inside {run.failed_in}: {run.failure}"
            return None, failure, True
        return None, f"the forward pass on meta stopped before {module} ran: {run.failure}", True
    sharing, nested = _neighbours(target, targets)
    if sharing:
        names = ", ".join(f"{o.entry.name} ({o.entry.class_name})" for o in sharing)
        return (
            None,
            f"{module} also runs the matmuls of {names}; PyTorch counts "
            f"{run.count(module):,} for the module and that count cannot be split",
            False,
        )
    return run.count(module) - sum(run.count(path) for path in nested), "", False


def _gap_reason(target: _Target) -> str:
    entry = target.entry
    kind = entry.gap_kind or "unknown"
    if not target.owns_matmul or any(word in kind for word in _NO_MATMUL_GAPS):
        return f"gap {kind}, no class formula; elementwise only (0 matmul FLOPs by convention)"
    return f"gap {kind}, no class formula to compare with"


def _compare(
    target: _Target, phase: _Phase, run: _Pass, targets: Sequence[_Target]
) -> ComponentFlops:
    entry = target.entry
    pytorch, why, pass_failed = _measured(target, run, targets)
    if not entry.supported and entry.gap_kind != "lm_head":
        reason = _gap_reason(target) + (f"; {why}" if why and target.owns_matmul else "")
        return _row(target, phase, Status.NOT_RUN, pytorch=pytorch, reason=reason)
    try:
        catalog = _catalog_flops(entry, phase)
    except HarnessError as exc:
        return _row(
            target, phase, Status.MISMATCH, pytorch=pytorch, reason=f"catalog formula fails: {exc}"
        )
    if pytorch is None:
        status = Status.FAILED if pass_failed else Status.NOT_RUN
        return _row(target, phase, status, catalog=catalog, reason=why)
    status = Status.MATCH if pytorch == catalog else Status.MISMATCH
    reason = "" if status is Status.MATCH else _mismatch_hint(entry, phase, pytorch - catalog)
    if entry.gap_kind == "lm_head" and not entry.supported:
        reason = "LM head gap compared as a plain GEMM 2·T·H·V" + (f"; {reason}" if reason else "")
    return _row(target, phase, status, catalog=catalog, pytorch=pytorch, reason=reason)


def _mismatch_hint(entry: LayerEntry, phase: _Phase, difference: int) -> str:
    hidden = entry.specs.get("hidden_size")
    text = f"PyTorch - catalog = {difference:+,}"
    if isinstance(hidden, int) and hidden and difference % (2 * phase.tokens * hidden) == 0:
        width = difference // (2 * phase.tokens * hidden)
        side = "lacks a" if width > 0 else "has an extra"
        text += f" = 2·T·H x {width:+,}: the formula {side} GEMM of width {abs(width):,}?"
    return text


def _unattributed(targets: Sequence[_Target], phase: _Phase, run: _Pass) -> ComponentFlops:
    paths = {p for t in targets for p in t.paths()}
    outer = sorted(p for p in paths if not any(_inside(p, q) for q in paths if q != p))
    row = partial(
        ComponentFlops, name=UNATTRIBUTED, class_name="-", phase=phase.name, module="-", catalog=0
    )
    if run.failure is not None:
        return row(
            pytorch=None,
            status=Status.FAILED,
            reason=f"the forward pass did not finish: {run.failure}",
        )
    residual = run.total - sum(run.count(p) for p in outer)
    if residual == 0:
        return row(pytorch=0, status=Status.MATCH)
    strays = sorted(
        (path, count)
        for path, count in run.counts.items()
        if count and not any(_inside(path, p) or path == p or _inside(p, path) for p in outer)
    )
    places = [
        (path, count) for path, count in strays if not any(_inside(path, q) for q, _ in strays)
    ]
    where = ", ".join(f"{path or '<model>'} {count:,}" for path, count in places)
    return row(
        pytorch=residual,
        status=Status.MISMATCH,
        reason=(
            f"PyTorch counts {residual:,} FLOPs outside every entry's modules"
            + (f" (in {where})" if where else " (in a parent module's own forward code)")
            + "; the catalog has no entry for them"
        ),
    )


def _rows(targets: Sequence[_Target], phase: _Phase, run: _Pass) -> Iterator[ComponentFlops]:
    for target in targets:
        yield _compare(target, phase, run, targets)
    yield _unattributed(targets, phase, run)


def _not_run(targets: Sequence[_Target], phase: _Phase, reason: str) -> Iterator[ComponentFlops]:
    """Rows of a phase that could not run: failed where the entry has a formula to compare."""
    for target in targets:
        entry = target.entry
        if entry.supported or entry.gap_kind == "lm_head":
            yield _row(target, phase, Status.FAILED, reason=reason)
        else:
            yield _row(target, phase, Status.NOT_RUN, reason=_gap_reason(target))


def cross_check(
    resolved: ResolvedConfig,
    entries: Sequence[LayerEntry],
    *,
    trust_remote_code: bool = False,
    seq_len: int | None = None,
    experts_implementation: str | None = EXPERTS_IMPLEMENTATION,
) -> FlopsReport:
    """Run the model on meta under FlopCounterMode and compare every entry with its class formula.

    `seq_len` defaults to 8, or W with a sliding window W (then one decode token follows).
    `experts_implementation` None keeps the model's own (a test uses it to make routing fail).
    """
    import torch
    import transformers

    model, depth = _shallow_model(resolved, entries, trust_remote_code)
    attn, experts = _use_implementations(model, experts_implementation)
    targets = _targets(entries, model)
    window = _narrowest_window(entries)
    length = seq_len or window or SEQ_LEN
    prefill = _Phase("prefill", BATCH_SIZE, length, None)
    first = _forward(model, length)
    rows = list(_rows(targets, prefill, first))
    decode_context = None
    if window:
        decode_context = length + 1
        decode = _Phase("decode", BATCH_SIZE, 1, decode_context)
        cache = _cache_of(first.output)
        if first.failure is not None or cache is None:
            why = (
                f"the prefill pass failed: {first.failure}"
                if first.failure is not None
                else "the prefill pass returned no KV cache to decode from"
            )
            rows += _not_run(targets, decode, why)
        else:
            rows += _rows(targets, decode, _forward(model, 1, cache))
    return FlopsReport(
        model=resolved.hf_id or resolved.model,
        config_sha256=resolved.sha256,
        batch_size=BATCH_SIZE,
        seq_len=length,
        decode_context=decode_context,
        attn_implementation=attn,
        experts_implementation=experts,
        versions={"torch": torch.__version__, "transformers": transformers.__version__},
        components=tuple(rows),
        layers_built=depth,
    )
