"""The pipeline's records as files: the tensor inventory (CSV or JSON) and a build's outputs."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path

from .dtypes import declared_dtype
from .errors import HarnessError
from .pipeline.config import BuildResult
from .pipeline.inventory import Inspection, TensorKind, TensorRecord
from .writers import atomic_write_text, dump_json, write_files

__all__ = [
    "checkpoint_dtype",
    "save_tensor_inspection",
    "tensors_csv",
    "tensors_json",
    "write_build",
]


def write_build(result: BuildResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write `<model_id>.json` and `<model_id>.tensors.csv` into `out_dir` as one output: both
    new, or (after any failure) both as they were (see `write_files`)."""
    folder = Path(out_dir)
    csv_text = tensors_csv(result.inspection.tensors, checkpoint_dtype(result.inspection))
    return write_files(
        {
            folder / f"{result.model_id}.json": dump_json(result.config),
            folder / f"{result.model_id}.tensors.csv": csv_text,
        }
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def checkpoint_dtype(inspection: Inspection) -> str | None:
    """The dtype the model's config.json declares for its weights, if any."""
    return declared_dtype(inspection.resolved.config)


def _dtypes(record: TensorRecord, checkpoint: str | None) -> tuple[str, str | None]:
    """(dtype, meta_dtype): a parameter is stored at the checkpoint's dtype; a buffer, or any tensor
    of a config that declares none, at the dtype the model code gave it on the meta device.
    meta_dtype is the meta build's dtype where it differs from dtype, else None."""
    built = record.dtype.removeprefix("torch.")
    if record.kind is not TensorKind.PARAM or checkpoint is None:
        return built, None
    return checkpoint, None if built == checkpoint else built


def tensors_csv(tensors: Iterable[TensorRecord], checkpoint: str | None = None) -> str:
    """The seed's columns kind,name,shape,dtype, then elements and meta_dtype; one row per tensor
    (tied aliases once). `checkpoint` is the weights' dtype declared by config.json."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["kind", "name", "shape", "dtype", "elements", "meta_dtype"])
    for record in tensors:
        dtype, meta = _dtypes(record, checkpoint)
        shape = _shape_text(record.shape)
        writer.writerow([record.kind, record.name, shape, dtype, record.numel, meta or ""])
    return buffer.getvalue()


def tensors_json(tensors: Iterable[TensorRecord], checkpoint: str | None = None) -> str:
    """The inventory as a JSON list: the CSV's fields, with module class and tied aliases."""
    rows = []
    for record in tensors:
        dtype, meta = _dtypes(record, checkpoint)
        rows.append(
            {
                "kind": record.kind,
                "name": record.name,
                "shape": list(record.shape),
                "dtype": dtype,
                "elements": record.numel,
                "meta_dtype": meta,
                "module_class": record.module_class,
                "aliases": list(record.aliases),
            }
        )
    return dump_json(rows)


def save_tensor_inspection(
    tensors: Inspection | Iterable[TensorRecord],
    path: str | os.PathLike[str],
    format: str | None = None,
) -> Path:
    """Write the tensor inventory as CSV or JSON (format from the argument or the file suffix)."""
    records = tensors.tensors if isinstance(tensors, Inspection) else tuple(tensors)
    checkpoint = checkpoint_dtype(tensors) if isinstance(tensors, Inspection) else None
    chosen = (format or Path(path).suffix.lstrip(".") or "csv").lower()
    if chosen == "csv":
        return atomic_write_text(path, tensors_csv(records, checkpoint))
    if chosen == "json":
        return atomic_write_text(path, tensors_json(records, checkpoint))
    raise HarnessError(
        f"cannot write tensors to {path}: format {chosen!r} is not csv or json; "
        "name the file .csv or .json"
    )
