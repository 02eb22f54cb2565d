"""Reading a hand-written Mantile config: parse and bound it, find its model, check its schema.

The schema (handwritten.schema.json) holds only what Mantile's loader reads, so Mantile's shipped
configs and the goldens are both checkable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ..catalog.loader import duplicate_names
from ..errors import ConfigNotFoundError, InvalidConfigError
from ..files import NotARegularFileError, read_regular_file
from ..limits import MAX_LAYERS
from ..pipeline.resolve import (
    MAX_CONFIG_BYTES,
    find_snapshots_dir,
    is_hf_id,
    model_slug,
    parse_config_text,
)
from .report import CONFIG, ERROR, WARNING, AuditFinding, _finding

__all__ = [
    "HANDWRITTEN_SCHEMA",
    "MAX_ENTRIES",
    "SCHEMA_FILE",
    "infer_model",
    "load_mantile_config",
    "parse_mantile_config",
]

SCHEMA_FILE = "handwritten.schema.json"
# What Mantile's loader reads of a config (reference/mantile.md section 4), as JSON Schema.
HANDWRITTEN_SCHEMA: dict[str, Any] = json.loads(
    resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
)
MAX_ENTRIES = 16 * MAX_LAYERS  # bounds the time `check` spends on a hostile file


def parse_mantile_config(text: str, where: str) -> dict[str, Any]:
    """Parse config text; InvalidConfigError (with line and column) unless it is an object with
    a `layer_types` list."""
    parsed = parse_config_text(
        text.encode("utf-8", "surrogatepass"),
        where,
        fix="fix the file (a Mantile config is one JSON object with a layer_types list)",
        sizes_only=True,
    )
    if not isinstance(parsed, dict):
        raise InvalidConfigError(
            f"{where} holds a JSON {type(parsed).__name__}, not an object; a Mantile config is "
            "one JSON object with a layer_types list"
        )
    if "layer_types" not in parsed:
        raise InvalidConfigError(
            f'{where} has no "layer_types" field, the one field Mantile\'s loader requires '
            '(KeyError, HTTP 500); add "layer_types": [{"name": ..., "class": ..., '
            '"count": ..., "specs": {...}}, ...]'
        )
    if not isinstance(parsed["layer_types"], list):
        raise InvalidConfigError(
            f'{where}: "layer_types" is a JSON {type(parsed["layer_types"]).__name__}, not a '
            "list; make it a list of layer entries"
        )
    if len(parsed["layer_types"]) > MAX_ENTRIES:
        raise InvalidConfigError(
            f'{where}: "layer_types" has {len(parsed["layer_types"]):,} entries, more than '
            f"{MAX_ENTRIES:,} (one per layer type, or per layer of a {MAX_LAYERS:,}-layer model "
            "with 16 per layer); this is not a model config: pass the config file itself"
        )
    return parsed


def load_mantile_config(path: str | Path) -> dict[str, Any]:
    """Read a Mantile config file; ConfigNotFoundError or InvalidConfigError naming the file."""
    file = Path(path)
    try:
        data = read_regular_file(file, MAX_CONFIG_BYTES)
    except NotARegularFileError as exc:
        raise InvalidConfigError(
            f"{file} {exc.strerror}; pass the Mantile config JSON file itself"
        ) from None
    except OSError as exc:
        raise ConfigNotFoundError(
            f"cannot read Mantile config {file}: {exc.strerror or exc}; check the path"
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidConfigError(
            f"{file} is larger than {MAX_CONFIG_BYTES // 2**20} MiB; a Mantile config is a few KB "
            "of layer entries, so this is not one: pass the config file itself"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidConfigError(
            f"{file} is not UTF-8 text (byte {exc.start}); a Mantile config is JSON text"
        ) from None
    return parse_mantile_config(text, str(file))


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _vendored_ids(snapshots_dir: Path | None) -> list[str]:
    if snapshots_dir is None or not snapshots_dir.is_dir():
        return []
    return sorted(
        f"{config.parent.parent.name}/{config.parent.name}"
        for config in snapshots_dir.glob("*/*/config.json")
    )


def infer_model(
    config: Mapping[str, Any], path: str | Path, snapshots_dir: Path | None = None
) -> str:
    """The model a config describes: `hf_model_id`, else its model_id, file stem or name matched
    against the vendored snapshots (`org_name`, case and punctuation ignored)."""
    hf_id = config.get("hf_model_id")
    if isinstance(hf_id, str) and is_hf_id(hf_id):
        return hf_id
    model_id = config.get("model_id")
    if isinstance(model_id, str) and is_hf_id(model_id):
        return model_id
    snapshots = snapshots_dir if snapshots_dir is not None else find_snapshots_dir()
    known = _vendored_ids(snapshots)
    keys = {hf: {_normalise(model_slug(hf)), _normalise(hf.split("/", 1)[1])} for hf in known}
    tried = []
    for label, value in (
        ("model_id", model_id),
        ("file name", Path(path).stem),
        ("name", config.get("name")),
    ):
        if not isinstance(value, str) or not _normalise(value):
            continue
        tried.append(f"{label} {value!r}")
        matches = [hf for hf, names in keys.items() if _normalise(value) in names]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidConfigError(
                f"{path}: its {label} {value!r} matches several vendored models "
                f"({', '.join(matches)}); pass the one you mean with --model HF_ID"
            )
    where = snapshots if snapshots is not None else "cases/configs (not found)"
    raise InvalidConfigError(
        f'{path}: cannot tell which model this config describes: it has no "hf_model_id" '
        f"(org/name), and {', '.join(tried) or 'no model_id or name'} match none of the "
        f"{len(known)} vendored models in {where}; pass the model with --model HF_ID (e.g. "
        f"`harness check {path} --model meta-llama/Llama-3.3-70B-Instruct`) or add "
        '"hf_model_id": "org/name" to the config'
    )


# Entry fields Mantile's loader never reads: a malformed value is noted, the entry still audited.
_IGNORED_BY_LOADER = frozenset({"supported", "gap_report", "layer_indices"})
_LISTS = ("layer_types", "unsupported_layer_types")


def _schema_findings(
    config: Mapping[str, Any],
) -> tuple[list[AuditFinding], dict[str, set[int]]]:
    """Schema problems, and per entry list the indices of entries too malformed to audit."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(HANDWRITTEN_SCHEMA)
    findings = []
    bad_entries: dict[str, set[int]] = {key: set() for key in _LISTS}
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        entry = CONFIG
        listed = len(path) >= 2 and path[0] in _LISTS and isinstance(path[1], int)
        ignored = listed and len(path) >= 3 and path[2] in _IGNORED_BY_LOADER
        if listed:
            if not ignored:
                bad_entries[path[0]].add(path[1])
            raw_entries = config.get(path[0])
            raw = raw_entries[path[1]] if isinstance(raw_entries, list) else None
            named = raw.get("name") if isinstance(raw, dict) else None
            entry = named if isinstance(named, str) and named else f"{path[0]}[{path[1]}]"
        elif path:
            entry = str(path[0])
        if ignored:
            findings.append(
                _finding(
                    WARNING,
                    "schema",
                    entry,
                    f"{where}: {error.message}; Mantile's loader never reads {path[2]}, so the "
                    "value is ignored here too (the entry is still checked)",
                )
            )
            continue
        findings.append(
            _finding(
                ERROR,
                "schema",
                entry,
                f"{where or '<root>'}: {error.message} (Mantile's loader needs this field "
                f"in this form; see its config schema)",
            )
        )
    findings += [
        _finding(ERROR, "duplicate-name", problem.entry, f"{problem.problem}: {problem.effect}")
        for problem in duplicate_names(config)
    ]
    return findings, bad_entries
