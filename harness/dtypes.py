"""Bytes per element of the dtypes Mantile knows, shared by memory estimates and layer catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import HarnessError

__all__ = ["CHECKPOINT_DTYPES", "DTYPE_BYTES", "bytes_per_element", "declared_dtype"]

# Block-scaled formats carry one scale per 32 elements, hence the fractional sizes.
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "mxfp8": 8.25 / 8,
    "nvfp8": 8.25 / 8,
    "mxfp4": 4.25 / 8,
    "nvfp4": 4.5 / 8,
}


def bytes_per_element(dtype: str) -> float:
    """Return the storage size of one element of `dtype`, or raise naming the dtypes that exist."""
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        known = ", ".join(DTYPE_BYTES)
        raise HarnessError(f"unknown dtype {dtype!r}: use one of {known}") from None


# torch dtype names a config.json may declare for its weights; anything else ("auto") is ignored.
CHECKPOINT_DTYPES = frozenset(
    {"float32", "float16", "bfloat16", "float64", "float8_e4m3fn", "float8_e5m2", "int8", "uint8"}
)


# torch's alias names, read as the dtype they stand for.
_DTYPE_ALIASES = {"half": "float16", "float": "float32", "double": "float64"}


def declared_dtype(config: Mapping[str, Any]) -> str | None:
    """The weights' dtype config.json declares (`dtype`, or the older `torch_dtype`, at the top or
    in `text_config`), as a torch dtype name; None when it declares none the harness knows."""
    text_config = config.get("text_config")
    for source in (config, text_config if isinstance(text_config, Mapping) else {}):
        for key in ("dtype", "torch_dtype"):
            value = source.get(key)
            if not isinstance(value, str):
                continue
            name = value.removeprefix("torch.")
            name = _DTYPE_ALIASES.get(name, name)
            if name in CHECKPOINT_DTYPES:
                return name
    return None
