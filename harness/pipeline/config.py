"""Step 5, config: assemble the Mantile config JSON from the mapped entries and validate it.

The config holds two entry lists: `layer_types`, what the target estimator loads and computes
(Mantile's loader resolves every class there and crashes on one it lacks), and
`unsupported_layer_types`, every other component in the same entry shape, so the parameter
accounting closes over both. `estimate_coverage` says what share of the model the first list
covers (harness.pipeline.estimate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..catalog import layer_set
from ..errors import InvalidConfigError, SchemaValidationError
from ..limits import check_total_params
from .estimate import estimate_coverage
from .inventory import Inspection, format_count
from .mapping import (
    MISSING_TARGET_CLASS,
    LayerEntry,
    active_parameters,
    entries_parameter_total,
    map_components,
)
from .origin import entry_origins, origin_fields
from .resolve import is_hf_id, model_slug
from .storage import component_dtype, storage_plan
from .structure import Structure, analyze_layer_structure

__all__ = [
    "BuildResult",
    "accounting_problems",
    "build_config",
    "build_from_inspection",
    "config_with_validation",
    "declared_hf_id",
    "display_name",
    "entry_lists",
    "load_schema",
    "model_id_for",
    "target_notes",
    "validate_schema",
]

SCHEMA_FILE = "mantile_config.schema.json"


@dataclass(frozen=True)
class BuildResult:
    """Everything one build produced: the config dict and the records it came from."""

    model_id: str
    config: dict[str, Any]
    inspection: Inspection
    structure: Structure
    entries: tuple[LayerEntry, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def picked_up(self) -> tuple[LayerEntry, ...]:
        """Entries whose gap class the target layer set (`--layers-dir`) now has."""
        return tuple(entry for entry in self.entries if entry.picked_up)

    @property
    def stand_ins(self) -> tuple[LayerEntry, ...]:
        """Entries computed by a target class declared as an exact stand-in."""
        return tuple(entry for entry in self.entries if entry.stand_in_for)

    def coverage_line(self) -> str:
        """The one-line estimate coverage (`Mantile models 100% of parameters and ...`)."""
        return str(self.config["estimate_coverage"]["summary"])


def declared_hf_id(inspection: Inspection) -> str | None:
    """The Hub id a config belongs to: the one it was resolved from, else its `_name_or_path`
    when that is a Hub id (never a local path such as `./` or `/models`)."""
    if inspection.hf_id:
        return inspection.hf_id
    name_or_path = inspection.resolved.config.get("_name_or_path")
    if isinstance(name_or_path, str) and is_hf_id(name_or_path):
        return name_or_path
    return None


def model_id_for(inspection: Inspection, hf_id: str | None = None) -> str:
    """Mantile's id: `org_name` for a Hub id (`hf_id`, else the declared one), else the config's
    folder name (or file stem)."""
    hf_id = hf_id or declared_hf_id(inspection)
    if hf_id:
        return model_slug(hf_id)
    path = Path(inspection.resolved.path or inspection.model)
    stem = path.parent.name if path.name == "config.json" else path.stem
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in stem) or "model"


def display_name(model_id: str, hf_id: str | None) -> str:
    """Human-readable name: the repository part with dashes as spaces."""
    base = hf_id.split("/", 1)[1] if hf_id else model_id
    return base.replace("-", " ").replace("_", " ")


def build_from_inspection(
    inspection: Inspection,
    *,
    layers_dir: str | Path | None = None,
    validation: dict[str, Any] | None = None,
    check_schema: bool = True,
    stand_ins: bool = True,
    hf_id: str | None = None,
) -> BuildResult:
    """Structure, map and build from an inspection already made (`check_schema`: validate it);
    `hf_id` names the Hub model of a config read from a file."""
    check_total_params(inspection.total_params, where=inspection.resolved.display_path)
    if hf_id is not None and not is_hf_id(hf_id):
        raise InvalidConfigError(
            f"hf_id {hf_id!r} (--hf-id) is not a Hub id of the form 'org/name'; pass the id the "
            "config.json belongs to, e.g. meta-llama/Llama-3.2-1B"
        )
    target = layer_set(layers_dir)
    structure = analyze_layer_structure(inspection)
    entries = tuple(map_components(structure, target=target, stand_ins=stand_ins))
    hf_id = hf_id or declared_hf_id(inspection)
    model_id = model_id_for(inspection, hf_id)
    config = build_config(
        inspection, structure, entries, model_id=model_id, validation=validation, hf_id=hf_id
    )
    if check_schema:
        validate_schema(config, where=f"generated config of {inspection.model}")
    warnings = tuple(target_notes(entries, layers_dir)) if layers_dir is not None else ()
    return BuildResult(model_id, config, inspection, structure, entries, warnings)


# The fields a validation block sets; build_config puts them just before `findings`.
VALIDATION_FIELDS = ("validated", "validation_notes", "validation_sources", "validation")


def config_with_validation(config: dict[str, Any], validation: dict[str, Any]) -> dict[str, Any]:
    """The config with `validation` in place of its validation fields, in the same place."""
    unknown = set(validation) - set(VALIDATION_FIELDS)
    if unknown:
        raise ValueError(f"not validation fields: {', '.join(sorted(unknown))}")
    updated: dict[str, Any] = {}
    for key, value in config.items():
        if key in VALIDATION_FIELDS:
            continue
        if key == "findings":
            updated.update(validation)
        updated[key] = value
    return updated


def entry_lists(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Both entry lists of a config: `layer_types`, then `unsupported_layer_types`."""
    return [*config.get("layer_types", []), *config.get("unsupported_layer_types", [])]


def build_config(
    inspection: Inspection,
    structure: Structure,
    entries: tuple[LayerEntry, ...] | list[LayerEntry],
    *,
    model_id: str,
    validation: dict[str, Any] | None = None,
    hf_id: str | None = None,
) -> dict[str, Any]:
    """The config dict in the seed's field order, plus provenance, findings and validation."""
    from ..version import __version__

    total = entries_parameter_total(entries)
    hf_id = hf_id or inspection.hf_id
    config: dict[str, Any] = {
        "model_id": model_id,
        "hf_model_id": hf_id,
        "name": display_name(model_id, hf_id),
        "hidden_size": structure.hidden_size,
        "num_layers": structure.num_layers,
        "vocab_size": structure.vocab_size,
        "total_params": total,
        "total_params_formatted": format_count(total),
    }
    active = active_parameters(structure, list(entries))
    if active is not None:
        config["active_params"] = active
        config["active_params_formatted"] = format_count(active)
    plan = storage_plan(inspection)
    origins = entry_origins(list(entries), structure)

    def entry_json(entry: LayerEntry) -> dict[str, Any]:
        # Entry-level (never in specs: Mantile's loader passes dtype separately): the dtype the
        # checkpoint stores this layer's weights in, for the estimator's weight bytes; then the
        # part and component `harness check` cannot read from the class or gap kind (origin.py).
        return {
            **entry.as_json(),
            "checkpoint_dtype": component_dtype(entry.example_tensors, plan),
            **origin_fields(entry, origins.get(entry.name)),
        }

    config["layer_types"] = [entry_json(e) for e in entries if e.supported]
    config["unsupported_layer_types"] = [entry_json(e) for e in entries if not e.supported]
    config["estimate_coverage"] = estimate_coverage(entries).as_json()
    validation = validation or {
        "validated": False,
        "validation_notes": (
            "no public facts checked: this model has no case file (see `harness add`)"
        ),
        "validation_sources": [],
    }
    config.update(validation)
    config["findings"] = [f"{f.level}: {f.where}: {f.message}" for f in structure.findings]
    config["provenance"] = {
        "config_source": inspection.resolved.source.value,
        "config_sha256": inspection.resolved.sha256,
        "revision": inspection.resolved.revision,
        "model_class": inspection.model_class,
        "transformers": inspection.versions.get("transformers"),
        "torch": inspection.versions.get("torch"),
        "harness": __version__,
        "notes": list(inspection.notes),
    }
    return config


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The project's JSON Schema for Mantile configs."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _schema_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema())


def validate_schema(config: Any, *, where: str) -> None:
    """Raise SchemaValidationError listing every schema violation of `config`."""
    problems = sorted(_schema_validator().iter_errors(config), key=lambda e: list(e.absolute_path))
    if problems:
        lines = "; ".join(
            f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
            for error in problems[:10]
        )
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise SchemaValidationError(
            f"{where} fails the Mantile config schema: {lines}{more}; fix these fields"
        )


def accounting_problems(config: dict[str, Any], meta_total: int | None = None) -> list[str]:
    """Reasons the accounting does not close, if any: sum(count x parameter_count) differs from
    total_params (or the meta-device total), or an entry's layer_indices miss an instance."""
    problems = []
    layer_sum = sum(
        int(entry.get("count", 1)) * int(entry.get("specs", {}).get("parameter_count", 0))
        for entry in entry_lists(config)
    )
    total = config.get("total_params")
    if layer_sum != total:
        problems.append(
            f"sum of count x parameter_count is {layer_sum:,}, total_params is {total:,}"
        )
    if meta_total is not None and total != meta_total:
        problems.append(f"total_params is {total:,}, the meta-device total is {meta_total:,}")
    for entry in entry_lists(config):
        indices = entry.get("layer_indices")
        if indices is not None and len(indices) != entry.get("count", 1):
            problems.append(
                f"{entry.get('name')}: count is {entry.get('count', 1)}, layer_indices list "
                f"{len(indices)} instances (one index per instance, -1 at model level)"
            )
    return problems


def target_notes(entries: tuple[LayerEntry, ...], layers_dir: str | Path) -> list[str]:
    """Warnings for catalog-exact entries `layers_dir` cannot load (they went unsupported)."""
    return [
        f"{entry.name}: {layers_dir} has no {entry.class_name} that loads these specs exactly; "
        f"the entry is in unsupported_layer_types"
        for entry in entries
        if entry.gap_kind == MISSING_TARGET_CLASS
    ]
