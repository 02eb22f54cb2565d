"""Parts inside a block split off as their own components: norms, adapters, a sparse indexer."""

from __future__ import annotations

from collections.abc import Sequence

from ..inventory import TensorKind, TensorRecord
from .attrs import AdapterAttrs, IndexerAttrs, NormAttrs
from .names import _NORM_NAME, _QK_NORMS, _WRAPPERS
from .records import Component, ComponentKind
from .sizes import ConfigSizes
from .tensors import _is_norm, _linear_out_in, _sub

__all__: list[str] = []


def _norm_component(path: str, index: int | None, records: Sequence[TensorRecord]) -> Component:
    params = [r for r in records if r.kind is TensorKind.PARAM]
    weight = next(r for r in params if r.leaf == "weight")
    attrs = NormAttrs(hidden_size=weight.shape[0], has_bias=any(r.leaf == "bias" for r in params))
    return Component(ComponentKind.NORM, path, index, weight.module_class, tuple(records), attrs)


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
    path: str, index: int, records: list[TensorRecord], arch: ConfigSizes
) -> tuple[list[TensorRecord], list[Component]]:
    """A sparse-attention indexer inside an attention block (DeepSeek-V3.2's DSA `indexer`:
    its own small query/key projections that pick the top-k keys the attention reads) as a
    component of its own, apart from the attention it selects for."""
    found = [r for r in records if _sub(r, path) == "indexer"]
    if not found:
        return records, []
    indexer_path = f"{path}.indexer"
    matrices = [
        r for r in found if r.kind is TensorKind.PARAM and r.leaf == "weight" and len(r.shape) == 2
    ]
    attrs = IndexerAttrs(
        num_heads=arch.index_n_heads,
        head_dim=arch.index_head_dim,
        top_k=arch.index_topk,
        # one entry per module, the last tensor of a path winning (as a dict keyed by it)
        linear_shapes=tuple(
            {r.module_path[len(indexer_path) + 1 :]: _linear_out_in(r) for r in matrices}.items()
        ),
    )
    kind = ComponentKind.SPARSE_ATTENTION_INDEXER
    component = Component(kind, indexer_path, index, found[0].module_class, tuple(found), attrs)
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
        if marked is None or record.kind is not TensorKind.PARAM:
            rest.append(record)
            continue
        owners.setdefault(".".join([path, *relative[: marked + 1]]), []).append(record)
    found = []
    for module, group in owners.items():
        matrices = [r for r in group if r.leaf == "weight" and len(r.shape) == 2]
        attrs = AdapterAttrs(
            linear_shapes=tuple(_linear_out_in(m) for m in matrices),
            has_bias=any(r.leaf == "bias" for r in group),
        )
        found.append(
            Component(
                ComponentKind.ADAPTER, module, index, group[0].module_class, tuple(group), attrs
            )
        )
    return rest, found
