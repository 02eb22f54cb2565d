"""What to compare: each entry's module at its first layer, and the depth to build."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ...errors import HarnessError
from ..inventory import DECODER_LAYERS, layer_index_of

if TYPE_CHECKING:
    from ..mapping import LayerEntry
    from ..resolve import ResolvedConfig


__all__: list[str] = []


_LAYER = re.compile(rf"(\.{DECODER_LAYERS}\.)(\d+)(?=\.|$)")
_LAYER_COUNT_KEYS = ("num_hidden_layers", "n_layer", "num_layers")


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
    from ..inventory import build_meta_model

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
