"""Tensors grouped per decoder layer and block, then classified block by block."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from ..inventory import LAYER_STACKS, TensorRecord
from .blocks import _classify_block
from .mlp import _split_mlp
from .moe import _expert_tensors, _is_router_name, _router_records
from .names import _SPLIT_MLPS
from .records import Component, ComponentKind, Finding, Part
from .sizes import ConfigSizes

__all__: list[str] = []


def _decoder_prefix(name: str) -> tuple[str, int, str] | None:
    """Split `model.layers.3.self_attn.q_proj.weight` into ('model.layers.3', 3, 'self_attn...')."""
    match = re.search(rf"^(.*?\.{LAYER_STACKS}\.(\d+))\.(.+)$", name)
    if match is None:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


# One list per layer part (XLM's `attentions.3`, `ffns.3`, `layer_norm1.3`): item 3 of each
# list belongs to layer 3, and the item is the block.
_PART_LIST = re.compile(r"^(.*?)\.(attentions|ffns|layer_norm\d*|norms\d*)\.(\d+)\.(.+)$")


def _layer_blocks(
    records: Sequence[TensorRecord], top_level: dict[str, list[TensorRecord]]
) -> dict[tuple[str, int, str], list[TensorRecord]]:
    """Records grouped by (layer prefix, layer index, block); the rest go to `top_level`."""
    blocks: dict[tuple[str, int, str], list[TensorRecord]] = {}
    for record in records:
        split = _decoder_prefix(record.name)
        listed = _PART_LIST.search(record.name) if split is None else None
        if listed is not None:
            head, part, number = listed.group(1), listed.group(2), listed.group(3)
            blocks.setdefault((head, int(number), f"{part}.{number}"), []).append(record)
            continue
        if split is None:
            top_level.setdefault(record.module_path, []).append(record)
            continue
        prefix, index, rest = split
        block = rest.split(".")[0] if "." in rest else rest
        blocks.setdefault((prefix, index, block), []).append(record)
    return blocks


def _with_layer_level_moe(
    blocks: dict[tuple[str, int, str], list[TensorRecord]], arch: ConfigSizes, hidden: int
) -> dict[tuple[str, int, str], list[TensorRecord]]:
    """Experts and their router set directly in the decoder layer, outside an MLP block (Gemma
    4's `layers.N.router` and `layers.N.experts`), become one MoE block under the experts' name."""
    merged = dict(blocks)
    for (prefix, index, block), records in blocks.items():
        if _is_router_name(block):
            continue
        path = f"{prefix}.{block}"
        if not _expert_tensors(path, records, arch, hidden) or _router_records(path, records):
            continue
        routers = [key for key in blocks if key[:2] == (prefix, index) and _is_router_name(key[2])]
        if len(routers) == 1 and routers[0] in merged:
            merged[(prefix, index, block)] = records + merged.pop(routers[0])
    return merged


def _layer_components(
    blocks: dict[tuple[str, int, str], list[TensorRecord]],
    arch: ConfigSizes,
    hidden: int,
    layer_types: Sequence[str],
    findings: list[Finding],
    part: Part = Part.TEXT,
) -> list[Component]:
    """The components of every layer: split MLP halves, then each block by name or shape."""
    blocks = _with_layer_level_moe(blocks, arch, hidden)
    pairs = {
        (prefix, index, up): (prefix, index, down)
        for (prefix, index, up) in blocks
        for first, down in _SPLIT_MLPS
        if up == first and (prefix, index, down) in blocks
    }
    halves = set(pairs.values())
    components: list[Component] = []
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
    return [replace(c, part=part) for c in components] if part is not Part.TEXT else components


# Model-level components that come first, in this order.
_INPUT_EMBEDDINGS = (
    ComponentKind.EMBEDDING,
    ComponentKind.POSITION_EMBEDDING,
    ComponentKind.TOKEN_TYPE_EMBEDDING,
)


def _component_order(component: Component) -> tuple[int, int, int]:
    if component.part is not Part.TEXT:
        return (3, component.layer_index if component.layer_index is not None else -1, 0)
    if component.kind in _INPUT_EMBEDDINGS:
        return (0, _INPUT_EMBEDDINGS.index(component.kind), 0)
    if component.layer_index is not None:
        return (1, component.layer_index, 0)
    return (2, 1 if component.kind is ComponentKind.LM_HEAD else 0, 0)
