"""The catalog: its classes by name, and `instantiate` from a config entry's specs."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping

from ..errors import CatalogError
from .attention import AttentionLayer, GroupedQueryAttentionLayer, SlidingWindowAttentionLayer
from .base import _METADATA_SPEC_KEYS, _RESERVED_SPEC_KEYS, Layer, spec_parameters
from .mlp import GatedMLPLayer, MLPLayer
from .moe import MoELayer
from .no_matmul import EmbeddingLayer, NormLayer

__all__ = ["CATALOG", "LAYER_MODULES", "instantiate"]


def __dir__() -> list[str]:
    return list(__all__)


# The modules holding the catalog's classes, in the order `harness layers` lists them; a class
# in a module of its own needs it here to be described.
LAYER_MODULES: tuple[str, ...] = ("base", "attention", "mlp", "moe", "no_matmul")

CATALOG: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        EmbeddingLayer,
        AttentionLayer,
        GroupedQueryAttentionLayer,
        SlidingWindowAttentionLayer,
        MLPLayer,
        GatedMLPLayer,
        MoELayer,
        NormLayer,
    )
}


@functools.cache
def _spec_parameters_once(cls: type) -> tuple[tuple[str, ...], dict[str, object]]:
    """spec_parameters per class, computed once: instantiate runs thousands of times a build."""
    return spec_parameters(cls)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def instantiate(
    class_name: str,
    specs: Mapping[str, object],
    *,
    dtype: str = "bf16",
    parallelism: Mapping[str, int] | None = None,
    catalog: Mapping[str, type[Layer]] | None = None,
) -> Layer:
    """Build `class_name` from a config entry's specs, refusing keys its constructor lacks."""
    classes = CATALOG if catalog is None else catalog
    cls = classes.get(class_name)
    if cls is None:
        known = sorted(classes)
        raise CatalogError(
            f"unknown layer class {class_name!r}{_suggest(str(class_name), known)}; "
            f"the catalog has: {', '.join(known)}. Use one of them, or move the entry to "
            f"unsupported_layer_types with a gap report"
        )
    if not isinstance(specs, Mapping):
        raise CatalogError(
            f"{class_name}: specs must be a mapping of spec key to value, got "
            f"{type(specs).__name__}; pass a dict"
        )
    reserved = [key for key in _RESERVED_SPEC_KEYS if key in specs]
    if reserved:
        raise CatalogError(
            f"{class_name}: spec key(s) {', '.join(map(repr, reserved))} are not allowed inside "
            f"specs (Mantile passes them separately and would fail with a duplicate keyword); "
            f"remove them from specs and pass dtype=/parallelism= to instantiate instead"
        )
    required, optional = _spec_parameters_once(cls)
    accepted = [*required, *optional]
    given = {key: value for key, value in specs.items() if key not in _METADATA_SPEC_KEYS}
    unexpected = [key for key in given if key not in accepted]
    missing = [key for key in required if key not in given]
    if unexpected or missing:
        problems = []
        if unexpected:
            unused = [key for key in accepted if key not in given]
            named = ", ".join(f"{key!r}{_suggest(str(key), unused)}" for key in unexpected)
            problems.append(
                f"unexpected spec key(s) {named}, which Mantile's loader would silently drop"
            )
        if missing:
            problems.append(f"missing required spec key(s) {', '.join(map(repr, missing))}")
        raise CatalogError(
            f"{class_name}: {'; '.join(problems)}. Accepted keys: required "
            f"{', '.join(required) or 'none'}; optional {', '.join(optional) or 'none'}. "
            f"Fix the specs, or if the class cannot represent the component, move the entry to "
            f"unsupported_layer_types with a gap report"
        )
    if "layer_idx" in optional and "layer_idx" not in given:
        given["layer_idx"] = optional["layer_idx"]
    return cls(**given, dtype=dtype, parallelism=parallelism)
