"""Comparing: each entry's class formula against PyTorch's count, row by row."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from ...catalog import Phase, instantiate
from ...catalog.formulas import Step, formula_for
from ...errors import HarnessError
from .forward import _cache_of, _forward, _Pass, _use_implementations
from .report import (
    BATCH_SIZE,
    EXPERTS_IMPLEMENTATION,
    SEQ_LEN,
    UNATTRIBUTED,
    ComponentFlops,
    FlopsReport,
    Status,
)
from .targets import _inside, _narrowest_window, _shallow_model, _Target, _targets

if TYPE_CHECKING:
    from ..mapping import LayerEntry
    from ..resolve import ResolvedConfig

__all__ = ["cross_check"]


_NO_MATMUL_GAPS = ("bias", "sinks", "norm")


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
