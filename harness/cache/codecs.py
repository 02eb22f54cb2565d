"""Payloads: values encoded losslessly as JSON, inspections by column, FLOP reports."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..pipeline.inventory import Inspection, TensorKind, TensorRecord
from ..pipeline.resolve import ResolvedConfig

if TYPE_CHECKING:
    from ..pipeline.flops import FlopsReport


__all__ = [
    "UncacheableError",
    "decode_value",
    "encode_value",
    "flops_payload",
    "inspection_from_payload",
    "inspection_payload",
]


_TAG = "$type"
_SCALARS = (str, int, float, bool, type(None))


class UncacheableError(TypeError):
    """A value holds something JSON cannot carry losslessly; it is computed, not cached."""


def encode_value(value: Any) -> Any:
    """JSON-ready form of nested dicts, lists, tuples and scalars that decodes to an equal value."""
    kind = type(value)
    if kind is float and not math.isfinite(value):
        return {_TAG: "float", "value": repr(value)}
    if kind in _SCALARS:
        return value
    if kind is list:
        return [encode_value(item) for item in value]
    if kind is tuple:
        return {_TAG: "tuple", "items": [encode_value(item) for item in value]}
    if kind is dict:
        if all(type(k) is str for k in value) and _TAG not in value:
            return {k: encode_value(v) for k, v in value.items()}
        items = [[encode_value(k), encode_value(v)] for k, v in value.items()]
        return {_TAG: "dict", "items": items}
    raise UncacheableError(f"cannot cache a {kind.__name__} value losslessly")


def decode_value(data: Any) -> Any:
    """Inverse of encode_value; raises ValueError on a tag it does not know."""
    if isinstance(data, list):
        return [decode_value(item) for item in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(_TAG)
    if tag is None:
        return {k: decode_value(v) for k, v in data.items()}
    if tag == "tuple":
        return tuple(decode_value(item) for item in data["items"])
    if tag == "dict":
        return {decode_value(k): decode_value(v) for k, v in data["items"]}
    if tag == "float" and data["value"] in {"nan", "inf", "-inf"}:
        return float(data["value"])
    raise ValueError(f"unknown cache tag {tag!r}")


def inspection_payload(inspection: Inspection) -> dict[str, Any]:
    """What an entry stores of an inspection (the resolved config is resolved again on load).

    Tensors are stored by field, one list per TensorRecord field: a third of the size of one
    object per tensor, and as much faster to parse.
    """
    tensors = inspection.tensors
    return {
        "model_class": inspection.model_class,
        "model_type": inspection.model_type,
        "versions": {name: str(version) for name, version in inspection.versions.items()},
        "notes": list(inspection.notes),
        "config": encode_value(inspection.config),
        "tensors": {
            "kind": [t.kind.value for t in tensors],
            "name": [t.name for t in tensors],
            "shape": [list(t.shape) for t in tensors],
            "dtype": [t.dtype for t in tensors],
            "module_class": [t.module_class for t in tensors],
            "aliases": [list(t.aliases) for t in tensors],
        },
    }


def _typed(value: Any, kind: type, what: str) -> Any:
    if type(value) is not kind:
        raise ValueError(f"cache entry field {what} is {type(value).__name__}, not {kind.__name__}")
    return value


def _strings(values: Any, what: str) -> list[str]:
    if type(values) is not list or not all(type(item) is str for item in values):
        raise ValueError(f"cache entry field {what} is not a list of strings")
    return values


def _lists_of(kind: type, values: Any, what: str) -> list[tuple[Any, ...]]:
    if type(values) is not list or not all(
        type(row) is list and all(type(item) is kind for item in row) for row in values
    ):
        raise ValueError(f"cache entry field {what} is not a list of lists of {kind.__name__}")
    return [tuple(row) for row in values]


def _tensors_from(data: Any) -> tuple[TensorRecord, ...]:
    if type(data) is not dict or data.keys() != _TENSOR_FIELDS:
        raise ValueError("cache entry tensors are not the TensorRecord fields")
    kinds = _strings(data["kind"], "tensor kind")
    columns = (
        kinds,
        _strings(data["name"], "tensor name"),
        _lists_of(int, data["shape"], "tensor shape"),
        _strings(data["dtype"], "tensor dtype"),
        _strings(data["module_class"], "tensor module_class"),
        _lists_of(str, data["aliases"], "tensor aliases"),
    )
    if len({len(column) for column in columns}) != 1 or not _TENSOR_KINDS.issuperset(kinds):
        raise ValueError("cache entry tensor fields differ in length or hold an unknown kind")
    return tuple(map(TensorRecord, *columns))


_TENSOR_FIELDS = frozenset(("kind", "name", "shape", "dtype", "module_class", "aliases"))
_TENSOR_KINDS = frozenset(kind.value for kind in TensorKind)


def inspection_from_payload(payload: dict[str, Any], resolved: ResolvedConfig) -> Inspection:
    """Rebuild an inspection from an entry's payload; raises ValueError/KeyError if malformed."""
    versions = decode_value(payload["versions"])
    config = decode_value(payload["config"])
    if not isinstance(config, dict) or not isinstance(versions, dict):
        raise ValueError("cache entry config and versions must be objects")
    if not all(type(version) is str for version in versions.values()):
        raise ValueError("cache entry versions must be strings")
    return Inspection(
        model=resolved.model,
        model_class=_typed(payload["model_class"], str, "model_class"),
        model_type=_typed(payload["model_type"], str, "model_type"),
        tensors=_tensors_from(payload["tensors"]),
        config=config,
        resolved=resolved,
        versions=versions,
        notes=tuple(_strings(payload["notes"], "notes")),
    )


def flops_payload(report: FlopsReport) -> dict[str, Any]:
    """What an entry stores of a FLOPs report: its JSON form, versions as strings."""
    versions = {name: str(version) for name, version in report.versions.items()}
    return encode_value({**report.as_dict(), "versions": versions})
