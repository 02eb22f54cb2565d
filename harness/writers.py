"""Writers at the edge: atomic, deterministic files (JSON, CSV, Markdown), the tensor inventory."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dtypes import declared_dtype
from .errors import HarnessError, OutputWriteError
from .inspection import Inspection, TensorRecord

if TYPE_CHECKING:
    from .build import BuildResult

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "checkpoint_dtype",
    "dump_json",
    "save_tensor_inspection",
    "tensors_csv",
    "tensors_json",
    "write_build",
]


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` as UTF-8 to `path` atomically (see `atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` via a temp file and a rename, so readers never see half a file."""
    target = Path(path)
    try:
        return _replace_atomically(target, data)
    except OSError as exc:
        where = Path(exc.filename) if isinstance(exc.filename, str) else target
        blocker = "" if where.parent == target.parent else f" ({where})"
        raise OutputWriteError(
            f"cannot write {target}: {exc.strerror or type(exc).__name__}{blocker}; "
            "choose another output path, or remove what is in the way"
        ) from None


def _replace_atomically(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        # mkstemp creates the file as 0600; give it the usual mode of a file meant to be shared.
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


_SCALAR_LIST = re.compile(r"\[\s*\n(?:\s*(?:-?\d+|true|false|null|\"[^\"\n]*\"),?\s*\n)+\s*\]")


def _one_line(match: re.Match[str]) -> str:
    items = [item.strip().rstrip(",") for item in match.group(0)[1:-1].split("\n") if item.strip()]
    return "[" + ", ".join(items) + "]"


def dump_json(data: Any) -> str:
    """Deterministic JSON: insertion order, indent 2, scalar lists on one line, final newline."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    return _SCALAR_LIST.sub(_one_line, text) + "\n"


def write_build(result: BuildResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write `<model_id>.json` and `<model_id>.tensors.csv` into `out_dir`, atomically."""
    folder = Path(out_dir)
    config_text = dump_json(result.config)
    csv_text = tensors_csv(result.inspection.tensors, checkpoint_dtype(result.inspection))
    return [
        atomic_write_text(folder / f"{result.model_id}.json", config_text),
        atomic_write_text(folder / f"{result.model_id}.tensors.csv", csv_text),
    ]


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
    if record.kind != "param" or checkpoint is None:
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
