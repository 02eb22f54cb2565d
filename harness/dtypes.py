"""Bytes per element of the dtypes Mantile knows, shared by memory estimates and layer catalog."""

from __future__ import annotations

from .errors import HarnessError

__all__ = ["DTYPE_BYTES", "bytes_per_element"]

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
