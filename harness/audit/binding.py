"""Binding an entry's specs to its class the way Mantile's loader does: missing, reserved and
dropped keys, and whether a dropped value changes the layer.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..catalog import (
    CATALOG,
    Layer,
    LayerClassInfo,
    instantiate,
    spec_parameters,
)
from ..errors import CatalogError
from .report import ERROR, WARNING, AuditFinding, _finding

__all__: list[str] = []

_RESERVED_SPEC_KEYS = ("dtype", "parallelism")
_METADATA_SPEC_KEYS = ("parameter_count",)
# A dropped spec changes the layer when its value differs from what the class implies.
_IMPLIED: dict[str, dict[str, object]] = {
    "AttentionLayer": {"has_bias": False, "sliding_window": None, "num_sinks": 0},
    "GroupedQueryAttentionLayer": {"has_bias": False, "sliding_window": None, "num_sinks": 0},
    "GatedMLPLayer": {"has_bias": False, "num_projections": 3},
    "MLPLayer": {"has_bias": False},
    "EmbeddingLayer": {"has_bias": False},
    "NormLayer": {},
    "MoELayer": {},
    "SlidingWindowAttentionLayer": {},
}


@dataclass(frozen=True)
class _ClassView:
    """What the loader knows about one class: its spec keys, and the harness formula if any."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    formula: bool


def _class_view(class_name: str, layers: Mapping[str, LayerClassInfo] | None) -> _ClassView | None:
    if layers is None:
        cls = CATALOG.get(class_name)
        if cls is None:
            return None
        required, optional = spec_parameters(cls)
        return _ClassView(required, tuple(optional), True)
    info = layers.get(class_name)
    if info is None or info.abstract:
        return None
    return _ClassView(info.spec_required, tuple(info.spec_optional), class_name in CATALOG)


def _known_classes(layers: Mapping[str, LayerClassInfo] | None) -> list[str]:
    if layers is None:
        return sorted(CATALOG)
    return sorted(name for name, info in layers.items() if not info.abstract)


def _dropped_severity(class_name: str, key: str, value: object, specs: Mapping[str, Any]) -> str:
    implied = _IMPLIED.get(class_name, {})
    if class_name == "AttentionLayer" and key == "num_kv_heads":
        return WARNING if value == specs.get("num_heads") else ERROR
    if key in implied:
        return WARNING if value == implied[key] else ERROR
    if key == "num_shared_experts":
        return WARNING if not value else ERROR
    return WARNING


def _dropped_effect(class_name: str, key: str, value: object, specs: Mapping[str, Any]) -> str:
    if key == "has_bias" and class_name in {"AttentionLayer", "GroupedQueryAttentionLayer"}:
        try:
            heads = int(specs["num_heads"])
            kv_heads = int(specs.get("num_kv_heads", heads))
            head_dim, hidden = int(specs["head_dim"]), int(specs["hidden_size"])
        except (KeyError, TypeError, ValueError):
            return f"{class_name} has no biases, so the model's projection biases are not counted"
        biases = heads * head_dim + 2 * kv_heads * head_dim + hidden
        return (
            f"{class_name} has no biases, so the q/k/v/o biases this asks for (d_q + 2·d_kv + H "
            f"= {biases:,} per layer) are not counted; SlidingWindowAttentionLayer "
            f"(sliding_window: null, has_bias: true) counts them"
        )
    if key == "sliding_window":
        return f"{class_name} attends the whole context; use SlidingWindowAttentionLayer"
    if key == "num_sinks":
        return f"{class_name} has no sinks"
    if key == "num_projections":
        return f"{class_name} always uses {_IMPLIED.get(class_name, {}).get(key, 2)} projections"
    if key == "num_kv_heads":
        heads = specs.get("num_heads")
        return f"{class_name} is multi-head attention: K and V use num_heads={heads}"
    if key == "num_shared_experts":
        return f"{class_name} has no shared experts"
    return "the class does not take it"


def _bind(
    raw: Mapping[str, Any],
    view: _ClassView,
    findings: list[AuditFinding],
) -> Layer | None:
    """Filter specs as Mantile's loader does, report drops and gaps, build the catalog layer."""
    name, class_name, specs = raw["name"], raw["class"], raw["specs"]
    reserved = [key for key in _RESERVED_SPEC_KEYS if key in specs]
    if reserved:
        findings.append(
            _finding(
                ERROR,
                "reserved-spec",
                name,
                f"specs contain {', '.join(map(repr, reserved))}, which Mantile's loader passes "
                f"itself: the constructor call fails (TypeError: multiple values for keyword); "
                f"remove them from specs (dtype and parallelism are chosen per request)",
            )
        )
    accepted = set(view.required) | set(view.optional)
    dropped = [
        key
        for key in specs
        if key not in accepted and key not in _METADATA_SPEC_KEYS and key not in reserved
    ]
    for severity in (ERROR, WARNING):
        keys = [k for k in dropped if _dropped_severity(class_name, k, specs[k], specs) == severity]
        if not keys:
            continue
        if severity == ERROR:
            for key in keys:
                findings.append(
                    _finding(
                        ERROR,
                        "dropped-spec",
                        name,
                        f"{key}={json.dumps(specs[key])} is silently dropped by Mantile's loader "
                        f"({class_name} has no such parameter): "
                        f"{_dropped_effect(class_name, key, specs[key], specs)}",
                    )
                )
        else:
            listed = ", ".join(f"{key}={json.dumps(specs[key])}" for key in keys)
            findings.append(
                _finding(
                    WARNING,
                    "ignored-spec",
                    name,
                    f"{listed} {'is' if len(keys) == 1 else 'are'} ignored: {class_name} takes "
                    f"no such spec, so Mantile's loader drops {'it' if len(keys) == 1 else 'them'} "
                    f"silently{_did_you_mean(keys, accepted - set(specs))}",
                )
            )
    missing = [key for key in view.required if key not in specs]
    if missing:
        findings.append(
            _finding(
                ERROR,
                "missing-spec",
                name,
                f"required spec(s) {', '.join(map(repr, missing))} of {class_name} missing: "
                f"Mantile's constructor call fails (TypeError, HTTP 500); required: "
                f"{', '.join(view.required)}",
            )
        )
    if missing or reserved or not view.formula:
        return None
    cls = CATALOG[class_name]
    required, optional = spec_parameters(cls)
    catalog_keys = set(required) | set(optional)
    try:
        return instantiate(class_name, {k: v for k, v in specs.items() if k in catalog_keys})
    except CatalogError as exc:
        findings.append(_finding(ERROR, "invalid-spec", name, f"{exc}"))
        return None


def _did_you_mean(keys: Iterable[str], unused: Iterable[str]) -> str:
    hints = []
    choices = sorted(unused)
    for key in keys:
        close = difflib.get_close_matches(key, choices, n=1)
        if close:
            hints.append(f"{key!r} -> {close[0]!r}")
    return f" (did you mean {', '.join(hints)}?)" if hints else ""


def _unknown_class(
    name: str, class_name: str, layers: Mapping[str, LayerClassInfo] | None
) -> AuditFinding:
    known = _known_classes(layers)
    close = difflib.get_close_matches(class_name, known, n=1, cutoff=0.8)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return _finding(
        ERROR,
        "unknown-class",
        name,
        f"class {class_name!r} is not a Mantile layer class{hint}: Mantile's loader resolves it "
        f"to None and /api/layers and the metrics endpoints fail (AttributeError, HTTP 500), "
        f"whatever `supported` says. Use one of {', '.join(known)}; if none computes this "
        f"component, move the entry to unsupported_layer_types (the list Mantile never reads, "
        f"which keeps the parameter accounting closed), or declare an exact stand-in "
        f"(`stand_in_for`) where one exists",
    )
