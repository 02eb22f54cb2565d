"""Target layer sets: the catalog, or a folder's classes; specs bound as Mantile's loader does.

`LayerSet` is the target a config is generated for and checked against: the catalog, or the
classes read from a `--layers-dir`; `LayerSignature.bind` replays how Mantile's loader binds an
entry's specs to a constructor (unknown keys dropped, layer_idx injected, dtype and parallelism
passed by the loader itself).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import CatalogError
from .base import (
    _LAYER_IDX_DEFAULT,
    _METADATA_SPEC_KEYS,
    _RESERVED_SPEC_KEYS,
    Layer,
    _signature_parameters,
)
from .catalog import CATALOG
from .discovery import LayerClassInfo, get_supported_layers

__all__ = ["Binding", "LayerSet", "LayerSignature", "layer_set"]


@dataclass(frozen=True)
class Binding:
    """A config entry's specs bound to a constructor the way Mantile's loader binds them."""

    kwargs: dict[str, object]  # what the loader passes besides dtype= and parallelism=
    dropped: tuple[str, ...]  # spec keys the constructor lacks: dropped silently
    missing: tuple[str, ...]  # required parameters no spec gives: the call fails (TypeError)
    reserved: tuple[str, ...]  # dtype/parallelism inside specs: given twice (TypeError)

    @property
    def loads(self) -> bool:
        """True when the constructor call the loader makes has every argument exactly once."""
        return not self.missing and not self.reserved

    @property
    def meaningful_drops(self) -> tuple[str, ...]:
        """Dropped keys other than metadata (`parameter_count`): information the class loses."""
        return tuple(key for key in self.dropped if key not in _METADATA_SPEC_KEYS)

    @property
    def exact(self) -> bool:
        """Loads, and the class takes every spec key but metadata."""
        return self.loads and not self.meaningful_drops


@dataclass(frozen=True)
class LayerSignature:
    """One class of a target layer set: its constructor, and the catalog formula if one applies."""

    name: str
    parameters: tuple[str, ...]  # constructor parameters in order, self excluded
    required: tuple[str, ...]  # the parameters without a default
    # The catalog class with this name and constructor: None for a class only its source knows.
    formula: type[Layer] | None = None

    def bind(self, specs: Mapping[str, object]) -> Binding:
        """Keep the keys the constructor takes, inject layer_idx=0, find what fails the call."""
        kept = {key: value for key, value in specs.items() if key in self.parameters}
        reserved = tuple(key for key in _RESERVED_SPEC_KEYS if key in kept)
        if "layer_idx" in self.parameters and "layer_idx" not in kept:
            kept["layer_idx"] = _LAYER_IDX_DEFAULT
        missing = tuple(
            name for name in self.required if name not in kept and name not in _RESERVED_SPEC_KEYS
        )
        dropped = tuple(str(key) for key in specs if key not in self.parameters)
        kwargs = {key: value for key, value in kept.items() if key not in _RESERVED_SPEC_KEYS}
        return Binding(kwargs, dropped, missing, reserved)

    def build(
        self,
        specs: Mapping[str, object],
        *,
        dtype: str = "bf16",
        parallelism: Mapping[str, int] | None = None,
    ) -> Layer | None:
        """The catalog layer the loader's call would make, or None without a formula.

        Raises CatalogError when the call fails (missing or reserved keys, invalid values).
        """
        if self.formula is None:
            return None
        binding = self.bind(specs)
        if not binding.loads:
            problems = [f"missing {', '.join(binding.missing)}"] if binding.missing else []
            if binding.reserved:
                problems.append(f"{', '.join(binding.reserved)} inside specs")
            raise CatalogError(
                f"{self.name}: the loader's constructor call fails ({'; '.join(problems)}); "
                f"give every required spec and leave dtype and parallelism out of specs"
            )
        return self.formula(**binding.kwargs, dtype=dtype, parallelism=parallelism)


@dataclass(frozen=True)
class LayerSet:
    """The classes a config is generated for: the catalog, or those read from a layers folder."""

    label: str
    classes: Mapping[str, LayerSignature]

    def get(self, class_name: str) -> LayerSignature | None:
        """The class the loader resolves for `class_name`, or None (Mantile: HTTP 500)."""
        return self.classes.get(class_name)

    def names(self) -> list[str]:
        """The class names, sorted."""
        return sorted(self.classes)

    def layer(self, class_name: str, specs: Mapping[str, object]) -> Layer | None:
        """The catalog layer computing this entry exactly in this target, else None.

        None when the target lacks the class, the specs do not bind exactly (a required key
        missing, a reserved key, or a key the constructor would drop), no catalog formula
        applies, or the values are invalid.
        """
        signature = self.get(class_name)
        if signature is None or signature.formula is None or not signature.bind(specs).exact:
            return None
        try:
            return signature.build(specs)
        except CatalogError:
            return None


def _catalog_signature(cls: type[Layer]) -> LayerSignature:
    required, optional = _signature_parameters(cls)
    return LayerSignature(cls.__name__, (*required, *optional), required, cls)


def _folder_signature(info: LayerClassInfo) -> LayerSignature:
    parameters = (*info.required, *info.optional)
    catalog = CATALOG.get(info.name)
    same = catalog is not None and (
        set(_signature_parameters(catalog)[0]) == set(info.required)
        and set(_signature_parameters(catalog)[1]) == set(info.optional)
    )
    # The catalog's formula applies only to a class with the same name and constructor.
    return LayerSignature(info.name, parameters, info.required, catalog if same else None)


@functools.cache
def _catalog_set() -> LayerSet:
    return LayerSet(
        "the built-in catalog", {name: _catalog_signature(cls) for name, cls in CATALOG.items()}
    )


def layer_set(layers_dir: str | Path | None = None) -> LayerSet:
    """The target layer set: the catalog, or the concrete classes of `layers_dir` (not imported)."""
    if layers_dir is None:
        return _catalog_set()
    found = get_supported_layers(layers_dir)
    return LayerSet(
        str(layers_dir),
        {name: _folder_signature(info) for name, info in found.items() if not info.abstract},
    )
