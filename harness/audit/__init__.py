"""Audit a hand-written Mantile config: compare it with the harness's own dry run of its model.

`audit_config` takes the config dict and a `BuildResult` and returns `AuditFinding`s; it does no
I/O. `load_mantile_config`, `infer_model` and `audit_file` are the edges (file, snapshots, build).
One module per job: `read` (parse and bound the file, find its model, its schema in
handwritten.schema.json), `binding` (specs bound the way the loader binds them), `roles` (which
dry-run component an entry describes), `rules` (the checks below) and `report` (the findings).

What is checked, in this order (reference/mantile.md sections 3, 4 and 6):

* schema: only what Mantile's loader reads (`layer_types` with `name`, `class`, `specs`; optional
  `count`, `supported`, `total_params`, `name`), entry names unique within `layer_types` (the loader
  rejects the file otherwise) and over both lists. The harness's own extra fields are not
  required, so Mantile's shipped configs and the goldens are both checkable.
* classes: a `layer_types` class the loader cannot resolve crashes it whatever `supported` says:
  an error. A component the estimator cannot compute belongs in `unsupported_layer_types` (the
  harness's list, which Mantile never reads; it keeps the accounting closed) or, where one is
  exact, in `layer_types` as a declared stand-in (`stand_in_for`). `supported: false` on a class
  that exists is a warning: Mantile never reads the flag and computes the entry anyway.
* specs: bound to the constructor the way the loader does it: missing required keys and `dtype` /
  `parallelism` inside specs are errors (TypeError in Mantile); other keys are dropped silently,
  a warning, or an error when the dropped value changes the layer (`has_bias: true` on GQA ...).
* parameters, per entry: its `parameter_count` and its class formula against the dry run's
  matching component (matched by role: embedding, attention full / sliding, MLP, MoE, norm, LM
  head, mixers); per role: counts (norms against 2 per layer + final), missing components; totals:
  `total_params`, the layer sum, and what Mantile's classes compute, against the dry-run total.
* misreadings the dry run proves: per-head sink logits read as `num_sinks` tokens, a
  GroupedQueryAttentionLayer whose heads x head_dim differs from hidden_size (O modelled H x H),
  a sliding window in the model that the config's class ignores (or one it invents).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..api import build_model_config
from ..catalog import LayerClassInfo, get_supported_layers
from ..pipeline.config import BuildResult
from .read import (
    _LISTS,
    HANDWRITTEN_SCHEMA,
    _schema_findings,
    infer_model,
    load_mantile_config,
    parse_mantile_config,
)
from .report import AuditFinding, AuditReport
from .roles import _dry_run_view, _Entry, _read_entries
from .rules import _check_info, _check_roles, _check_totals, _check_width

__all__ = [
    "HANDWRITTEN_SCHEMA",
    "AuditFinding",
    "AuditReport",
    "audit_config",
    "audit_file",
    "infer_model",
    "load_mantile_config",
    "parse_mantile_config",
]


def audit_file(
    path: str | Path,
    model: str | None = None,
    *,
    offline: bool | None = None,
    token: str | None = None,
    layers_dir: str | Path | None = None,
    native_class: bool = False,
) -> AuditReport:
    """Load a config, dry-run its model (given or inferred) and audit the one against the other
    (`native_class`: the model was built natively behind its auto_map, see `harness build`)."""
    config = load_mantile_config(path)
    chosen = model or infer_model(config, path)
    layers = get_supported_layers(layers_dir) if layers_dir is not None else None
    dry_run = build_model_config(chosen, offline=offline, token=token, native_class=native_class)
    findings = audit_config(config, dry_run, layers)
    return AuditReport(str(path), chosen, int(dry_run.config["total_params"]), tuple(findings))


def audit_config(
    config: Mapping[str, Any],
    dry_run: BuildResult,
    layers: Mapping[str, LayerClassInfo] | None = None,
) -> list[AuditFinding]:
    """Every defect of a hand-written Mantile config against the dry run of its model.

    `layers` (from `get_supported_layers(layers_dir)`) replaces the catalog as the set of classes
    the loader knows; parameter formulas always come from the harness catalog.
    """
    findings, bad_entries = _schema_findings(config)
    if not isinstance(config.get("layer_types"), list):
        return findings
    dry = _dry_run_view(dry_run)
    entries: list[_Entry] = []
    for key in _LISTS:
        raw_entries = config.get(key)
        if not isinstance(raw_entries, list):
            continue
        objects = {i for i, raw in enumerate(raw_entries) if isinstance(raw, dict)}
        skip = bad_entries[key] | (set(range(len(raw_entries))) - objects)
        entries += _read_entries(
            raw_entries, skip, layers, dry.layer_variants, findings, loaded=key == "layer_types"
        )
    for entry in entries:
        findings.extend(_check_width(entry))
    findings.extend(_check_roles(entries, dry))
    findings.extend(_check_totals(config, entries, dry))
    findings.extend(_check_info(config, dry_run))
    return findings
