"""Step 4, map: turn components into Mantile `layer_types` entries whose class formulas are exact.

A catalog class is used only where its own parameter formula reproduces the component's dry-run
count. What it cannot represent is split off into its own unsupported entry with a gap kind
(per-head sinks, biases, an output gate ...); it never stretches a class's meaning.

Then every entry is fitted to the target layer set (the catalog, or the classes of a layers
folder): a supported entry stays only where the target loads its class with these specs exactly;
a gap whose proposed class the target has (same name, constructor taking the proposed specs) is
picked up as supported; a gap that a target class reproduces exactly under the gap kind's
reference formulas (harness.catalog.formulas) becomes a declared stand-in (`stand_in_for`); every
other entry stays unsupported and goes to the config's `unsupported_layer_types`.

The sub-modules: `pieces` (a piece: a class, or a gap kind with the class the registry
proposes), `components` (each kind of component to its pieces), `attention`, `mlp_moe`, and
`entries` (pieces merged into entries and fitted to the target).
"""

from __future__ import annotations

from .entries import (
    MODEL_LEVEL,
    CountedEntry,
    LayerEntry,
    active_parameters,
    entries_parameter_total,
    map_components,
)
from .pieces import MISSING_TARGET_CLASS, Piece

__all__ = [
    "MISSING_TARGET_CLASS",
    "MODEL_LEVEL",
    "CountedEntry",
    "LayerEntry",
    "Piece",
    "active_parameters",
    "entries_parameter_total",
    "map_components",
]
