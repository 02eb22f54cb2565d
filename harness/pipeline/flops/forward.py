"""Running PyTorch: one forward pass on meta under FlopCounterMode, per-module counts."""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass
from functools import partial
from typing import Any

from .report import ATTN_IMPLEMENTATION, BATCH_SIZE, EXPERTS_IMPLEMENTATION

__all__: list[str] = []


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

    from ..inventory import quiet_transformers

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
    from ..inventory import quiet_transformers

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
