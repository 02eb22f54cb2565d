"""Reading tensor records: projection shapes, roles below a block, norms."""

from __future__ import annotations

from collections.abc import Sequence

from ..inventory import TensorKind, TensorRecord
from .names import _INNER_WRAPPERS, _K, _O, _Q, _V, _WRAPPERS

__all__: list[str] = []


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


def _matrix(records: Sequence[TensorRecord]) -> TensorRecord | None:
    return next(
        (
            r
            for r in records
            if r.kind is TensorKind.PARAM and r.leaf == "weight" and len(r.shape) == 2
        ),
        None,
    )


def _is_norm(records: Sequence[TensorRecord]) -> bool:
    """A norm module holds a 1-D weight and at most a 1-D bias."""
    params = [r for r in records if r.kind is TensorKind.PARAM]
    return (
        bool(params)
        and any(r.leaf == "weight" for r in params)
        and all(r.leaf in {"weight", "bias"} and len(r.shape) == 1 for r in params)
    )


def _named_like(block: str, words: Sequence[str]) -> bool:
    lowered = block.lower()
    return any(word in lowered for word in words)


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


def _below(record: TensorRecord, path: str) -> list[str]:
    """The module names between a block and a tensor (`experts.0.w1` for `path.experts.0.w1.x`).

    A router that sits beside the experts in the layer (merged into their block) is read from
    the layer: `router.proj` for `layer.router.proj.weight` when the block is `layer.experts`.
    """
    if not record.name.startswith(f"{path}."):
        return record.name[len(path.rpartition(".")[0]) + 1 :].split(".")[:-1]
    return record.name[len(path) + 1 :].split(".")[:-1]
