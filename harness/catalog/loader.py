"""The loader contract: replay how Mantile's loader reads a config, against a target layer set.

Mantile (reference/mantile.md sections 3 and 4) rejects a file whose `layer_types` names repeat
(ValueError), resolves each class by name on its layers package (an unknown one is None and the
endpoints answer HTTP 500 with an AttributeError), keeps only the spec keys the constructor takes,
injects `layer_idx`, and passes `dtype` and `parallelism` itself (a spec key of either name, or a
missing required spec, is a TypeError). The harness's own contract adds: names unique over both
entry lists, no spec key the constructor would drop silently, the class builds from the specs,
and its weight bytes at bf16 equal `parameter_count` x 2. `loader_problems` lists every breach;
no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CatalogError
from .targets import LayerSet, layer_set

__all__ = ["CONTRACT_DTYPE", "LoaderProblem", "duplicate_names", "loader_problems"]

CONTRACT_DTYPE = "bf16"
_BYTES = 2  # bf16


@dataclass(frozen=True)
class LoaderProblem:
    """One breach of the loader contract: the entry, what is wrong, what the estimator does."""

    entry: str
    problem: str
    effect: str

    def line(self) -> str:
        """`entry: problem: effect`."""
        return f"{self.entry}: {self.problem}: {self.effect}"


def _entries(config: Mapping[str, Any], key: str) -> list[Any]:
    value = config.get(key, [])
    return value if isinstance(value, list) else []


def _names(entries: list[Any]) -> list[str]:
    named = [entry.get("name") for entry in entries if isinstance(entry, dict)]
    return [name for name in named if isinstance(name, str)]


def _repeated(names: list[str]) -> list[str]:
    # One pass: names.count per name was quadratic (20,000 duplicates took minutes in `check`).
    return sorted(name for name, count in Counter(names).items() if count > 1)


def duplicate_names(config: Mapping[str, Any]) -> list[LoaderProblem]:
    """Names repeated in layer_types (the loader refuses the file) or over both lists."""
    loaded = _names(_entries(config, "layer_types"))
    both = loaded + _names(_entries(config, "unsupported_layer_types"))
    within = _repeated(loaded)
    counts = Counter(loaded)
    problems = [
        LoaderProblem(
            name,
            f"{counts[name]} layer_types entries share this name",
            "Mantile's loader rejects the file (ValueError, HTTP 500)",
        )
        for name in within
    ]
    problems += [
        LoaderProblem(
            name,
            "the name is used in layer_types and unsupported_layer_types together",
            "names must be unique over both lists (gap reports and coverage name entries)",
        )
        for name in _repeated(both)
        if name not in counts or counts[name] < 2  # a dict lookup: `in within` was quadratic
    ]
    return problems


def _entry_problems(raw: Any, index: int, target: LayerSet) -> list[LoaderProblem]:
    if not isinstance(raw, dict):
        return [LoaderProblem(f"layer_types[{index}]", "not an object", "KeyError, HTTP 500")]
    name = raw.get("name") if isinstance(raw.get("name"), str) else f"layer_types[{index}]"
    class_name, specs = raw.get("class"), raw.get("specs")
    if not isinstance(class_name, str) or not isinstance(specs, dict):
        return [LoaderProblem(name, "no class name or no specs object", "KeyError, HTTP 500")]
    signature = target.get(class_name)
    if signature is None:
        return [
            LoaderProblem(
                name,
                f"class {class_name} is not in {target.label}",
                "Mantile resolves it to None and /api/layers and the metrics endpoints answer "
                "HTTP 500 (AttributeError), whatever `supported` says; move the entry to "
                "unsupported_layer_types or use an exact stand-in",
            )
        ]
    binding = signature.bind(specs)
    problems = []
    if binding.reserved:
        problems.append(
            LoaderProblem(
                name,
                f"specs hold {', '.join(binding.reserved)}",
                "the loader passes them itself: TypeError (multiple values for a keyword), "
                "HTTP 500",
            )
        )
    if binding.missing:
        problems.append(
            LoaderProblem(
                name,
                f"required spec(s) {', '.join(binding.missing)} of {class_name} missing",
                "the constructor call fails: TypeError, HTTP 500",
            )
        )
    if binding.meaningful_drops:
        problems.append(
            LoaderProblem(
                name,
                f"{class_name} takes no {', '.join(binding.meaningful_drops)}",
                "the loader drops the key(s) silently and computes without them",
            )
        )
    if problems:
        return problems
    try:
        layer = signature.build(specs, dtype=CONTRACT_DTYPE)
    except CatalogError as exc:
        return [LoaderProblem(name, f"{class_name} rejects these specs ({exc})", "no estimate")]
    if layer is None:
        return []  # a class read from source: it binds, but only Mantile can run it
    declared = specs.get("parameter_count")
    if not isinstance(declared, int) or isinstance(declared, bool):
        return [LoaderProblem(name, "specs have no parameter_count", "nothing to compare with")]
    weight = layer.compute_weight_memory()
    if weight != declared * _BYTES:
        return [
            LoaderProblem(
                name,
                f"{class_name} holds {weight:,} weight bytes at {CONTRACT_DTYPE}, "
                f"parameter_count x {_BYTES} is {declared * _BYTES:,}",
                "the estimate's weight memory is not the model's",
            )
        ]
    return []


def loader_problems(
    config: Mapping[str, Any], target: LayerSet | None = None
) -> list[LoaderProblem]:
    """Every way the config breaks the loader contract for `target` (default: the catalog)."""
    chosen = target if target is not None else layer_set()
    if not isinstance(config.get("layer_types"), list):
        return [LoaderProblem("<config>", "no layer_types list", "KeyError, HTTP 500")]
    problems = duplicate_names(config)
    for index, raw in enumerate(config["layer_types"]):
        problems.extend(_entry_problems(raw, index, chosen))
    return problems
