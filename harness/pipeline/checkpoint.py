"""The checkpoint's own count: a compact summary of a model's safetensors files, vendored offline.

`harness add` (or `harness checkpoint ORG/NAME`) reads the Hub's safetensors metadata for a pinned
revision through huggingface_hub (the headers only, by range requests; never the weights) and
writes `cases/configs/<org>/<name>/checkpoint.json` beside the config snapshot. Every later run
reads that file offline. A summary can also come from a recorded public scrape of the Hub API
(totals and per-dtype counts, no tensor names); the file says which (`obtained`).

The file is JSON with sorted keys. Tensor headers are stored grouped: every run of digits that is
a path segment becomes `{}` in a name template, and each (template, dtype, shape) group lists the
index values it covers as ranges ("0-60"), one range list per placeholder (their product), or as
explicit index tuples when the set is not a product. DeepSeek-V3's ~91,000 tensors fit in a few
dozen lines, and a changed shape or a missing expert shows as a one-line diff.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import HarnessError, InvalidConfigError
from .resolve import (
    ConfigSource,
    ResolvedConfig,
    is_hf_id,
    is_pinned_revision,
    load_config_file,
    snapshot_dir_for,
)

__all__ = [
    "CHECKPOINT_FILE",
    "CheckpointSummary",
    "CheckpointUnavailableError",
    "StoredTensor",
    "checkpoint_path",
    "expand_tensors",
    "group_tensors",
    "load_checkpoint_summary",
    "read_hub_checkpoint",
    "refresh_hint",
    "summary_from_headers",
    "summary_json",
    "vendored_summary",
]

CHECKPOINT_FILE = "checkpoint.json"
FORMAT_VERSION = 1
# How a summary was obtained: read from the headers, read from the Hub's model info, or copied
# from a recorded scrape of the Hub API (totals only, no headers read).
OBTAINED = ("safetensors-headers", "hub-model-info", "recorded-scrape")
_NUMBER_SEGMENT = re.compile(r"(?<=\.)\d+(?=\.|$)")


class CheckpointUnavailableError(HarnessError):
    """The Hub's safetensors metadata could not be read (offline, gated, no safetensors)."""


@dataclass(frozen=True)
class StoredTensor:
    """One tensor as a safetensors header lists it: name, dtype (`BF16`, `F8_E4M3` ...), shape."""

    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        """Elements, as the Hub counts them (a 0-d tensor counts 0, as huggingface.js does)."""
        if not self.shape:
            return 0
        total = 1
        for size in self.shape:
            total *= size
        return total


@dataclass(frozen=True)
class CheckpointSummary:
    """What a checkpoint stores: total and per-dtype counts; tensors when headers were read."""

    hf_id: str
    revision: str | None
    total: int
    parameters: dict[str, int]  # elements per safetensors dtype; empty when the source lacks them
    obtained: str
    source: str
    tensors: tuple[StoredTensor, ...] = ()
    note: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def has_headers(self) -> bool:
        """True when tensor names and shapes were read (not a recorded total)."""
        return bool(self.tensors)

    def as_json(self) -> dict[str, Any]:
        """The vendored file's content, without its sha256."""
        data: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "hf_id": self.hf_id,
            "revision": self.revision,
            "total": self.total,
            "parameters": dict(sorted(self.parameters.items())),
            "obtained": self.obtained,
            "source": self.source,
        }
        if self.note:
            data["note"] = self.note
        if self.tensors:
            data["tensors"] = group_tensors(self.tensors)
        return data


def checkpoint_path(hf_id: str, snapshots_dir: Path) -> Path:
    """Where a model's summary is vendored: `<snapshots_dir>/<org>/<name>/checkpoint.json`."""
    return snapshot_dir_for(hf_id, snapshots_dir) / CHECKPOINT_FILE


def refresh_hint(hf_id: str) -> str:
    """The command that vendors (or refreshes) the summary once the Hub is reachable."""
    return f"`harness checkpoint {hf_id}` (online) reads it from the Hub's safetensors metadata"


def _digest(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def summary_json(summary: CheckpointSummary) -> str:
    """The vendored file's text: sorted keys, 2-space indent, its own sha256, a final newline."""
    data = summary.as_json()
    data["sha256"] = _digest(data)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=True) + "\n"


def _ranges(values: Iterable[int]) -> str:
    """`[0, 1, 2, 5]` -> `"0-2,5"`."""
    ordered = sorted(set(values))
    parts = []
    for _, run in itertools.groupby(enumerate(ordered), key=lambda pair: pair[1] - pair[0]):
        items = [value for _, value in run]
        parts.append(str(items[0]) if len(items) == 1 else f"{items[0]}-{items[-1]}")
    return ",".join(parts)


def _expand_ranges(text: str) -> list[int]:
    values: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        values.extend(range(int(low), int(high or low) + 1))
    return values


def group_tensors(tensors: Iterable[StoredTensor]) -> list[dict[str, Any]]:
    """Tensors grouped by name template, dtype and shape; indices as ranges (see the module doc)."""
    groups: dict[tuple[str, str, tuple[int, ...]], list[tuple[int, ...]]] = {}
    for tensor in tensors:
        numbers = tuple(int(m) for m in _NUMBER_SEGMENT.findall(tensor.name))
        template = _NUMBER_SEGMENT.sub("{}", tensor.name)
        groups.setdefault((template, tensor.dtype, tensor.shape), []).append(numbers)
    rows = []
    for (template, dtype, shape), indices in sorted(groups.items()):
        row: dict[str, Any] = {"name": template, "dtype": dtype, "shape": list(shape)}
        if indices[0]:
            axes = [sorted({index[axis] for index in indices}) for axis in range(len(indices[0]))]
            product = 1
            for axis in axes:
                product *= len(axis)
            if product == len(set(indices)):
                row["index"] = [_ranges(axis) for axis in axes]
            else:
                row["index_list"] = [".".join(map(str, index)) for index in sorted(set(indices))]
        rows.append(row)
    return rows


def expand_tensors(rows: Iterable[Mapping[str, Any]]) -> tuple[StoredTensor, ...]:
    """The tensors a grouped list stands for (the inverse of `group_tensors`)."""
    tensors = []
    for row in rows:
        template, dtype, shape = row["name"], row["dtype"], tuple(row["shape"])
        if "index" in row:
            combos: Iterable[tuple[int, ...]] = itertools.product(
                *(_expand_ranges(axis) for axis in row["index"])
            )
        elif "index_list" in row:
            combos = (tuple(int(v) for v in item.split(".")) for item in row["index_list"])
        else:
            combos = [()]
        for combo in combos:
            tensors.append(StoredTensor(template.format(*combo), dtype, shape))
    return tuple(sorted(tensors, key=lambda t: t.name))


def _count_by_dtype(tensors: Iterable[StoredTensor]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for tensor in tensors:
        counts[tensor.dtype] = counts.get(tensor.dtype, 0) + tensor.numel
    return dict(sorted(counts.items()))


def summary_from_headers(
    hf_id: str, revision: str | None, tensors: Iterable[StoredTensor], *, source: str
) -> CheckpointSummary:
    """A summary from tensor headers: the totals are the headers' element counts."""
    stored = tuple(sorted(tensors, key=lambda t: t.name))
    parameters = _count_by_dtype(stored)
    return CheckpointSummary(
        hf_id=hf_id,
        revision=revision,
        total=sum(parameters.values()),
        parameters=parameters,
        obtained="safetensors-headers",
        source=source,
        tensors=stored,
    )


def _positive_int(value: Any, where: str, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidConfigError(f"{where}: `{name}` is {value!r}, not a count; fix the field")
    return value


def load_checkpoint_summary(path: Path) -> CheckpointSummary:
    """Read a vendored checkpoint.json, checking its fields and its sha256."""
    data, _ = load_config_file(path)
    where = str(path)
    recorded = data.pop("sha256", None)
    if recorded != _digest(data):
        raise InvalidConfigError(
            f"{where}: the sha256 field does not match the content (edited by hand?); "
            "vendor it again with `harness checkpoint ORG/NAME`, or restore the file"
        )
    if data.get("format") != FORMAT_VERSION:
        raise InvalidConfigError(
            f"{where}: format {data.get('format')!r} is not {FORMAT_VERSION}; vendor it again"
        )
    hf_id = data.get("hf_id")
    if not isinstance(hf_id, str) or not is_hf_id(hf_id):
        raise InvalidConfigError(f"{where}: `hf_id` is {hf_id!r}, not an org/name Hub id")
    if data.get("obtained") not in OBTAINED:
        raise InvalidConfigError(
            f"{where}: `obtained` is {data.get('obtained')!r}; use one of {', '.join(OBTAINED)}"
        )
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InvalidConfigError(f"{where}: `parameters` must map dtype to count")
    counts = {str(k): _positive_int(v, where, f"parameters.{k}") for k, v in parameters.items()}
    total = _positive_int(data.get("total"), where, "total")
    if counts and sum(counts.values()) != total:
        raise InvalidConfigError(
            f"{where}: the per-dtype counts add up to {sum(counts.values()):,}, "
            f"not the total {total:,}; fix the numbers from the source"
        )
    tensors = expand_tensors(data.get("tensors") or [])
    if tensors and sum(t.numel for t in tensors) != total:
        raise InvalidConfigError(
            f"{where}: the tensors hold {sum(t.numel for t in tensors):,} elements, "
            f"not the total {total:,}; vendor it again"
        )
    revision = data.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise InvalidConfigError(f"{where}: `revision` must be a string or null")
    return CheckpointSummary(
        hf_id=hf_id,
        revision=revision,
        total=total,
        parameters=counts,
        obtained=data["obtained"],
        source=str(data.get("source") or ""),
        tensors=tensors,
        note=str(data.get("note") or ""),
        path=path,
    )


def vendored_summary(resolved: ResolvedConfig) -> CheckpointSummary | None:
    """The checkpoint.json vendored beside a snapshot config, checked against it; else None."""
    if resolved.source is not ConfigSource.SNAPSHOT or resolved.path is None:
        return None
    path = Path(resolved.path).parent / CHECKPOINT_FILE
    if not path.is_file():
        return None
    summary = load_checkpoint_summary(path)
    if summary.hf_id != resolved.hf_id:
        raise InvalidConfigError(
            f"{path} describes {summary.hf_id}, but sits beside the config of {resolved.hf_id}; "
            "move it to the right folder or vendor it again"
        )
    if resolved.revision and summary.revision and summary.revision != resolved.revision:
        raise InvalidConfigError(
            f"{path} was read at revision {summary.revision}, the config at {resolved.revision}; "
            f"vendor both from one commit ({refresh_hint(resolved.hf_id)})"
        )
    return summary


def read_hub_checkpoint(
    hf_id: str, revision: str | None, *, token: str | None = None
) -> CheckpointSummary:
    """The safetensors metadata of `hf_id` at `revision` from the Hub: headers only, no weights.

    Uses `huggingface_hub.get_safetensors_metadata` (range requests on each shard's header); a
    repository whose headers cannot be read but whose model info lists `safetensors` totals falls
    back to `HfApi().model_info(..., expand=["safetensors"])` (per-dtype counts, no names).
    Raises CheckpointUnavailableError without the Hub's text (it may carry a token).
    """
    import huggingface_hub

    if not is_pinned_revision(revision):
        raise CheckpointUnavailableError(
            f"{hf_id}: reading the checkpoint needs the pinned 40-hex commit of the config "
            f"(got {revision!r}), so the summary and the config describe the same files"
        )
    where = f"https://huggingface.co/{hf_id}/tree/{revision}"
    try:
        metadata = huggingface_hub.get_safetensors_metadata(hf_id, revision=revision, token=token)
    except Exception as exc:  # network, gated, not a safetensors repo; the text may hold a token
        first = type(exc).__name__
    else:
        tensors = [
            StoredTensor(name, info.dtype, tuple(int(s) for s in info.shape))
            for file in metadata.files_metadata.values()
            for name, info in file.tensors.items()
        ]
        return summary_from_headers(hf_id, revision, tensors, source=where)
    try:
        info = huggingface_hub.HfApi().model_info(
            hf_id, revision=revision, expand=["safetensors"], token=token
        )
    except Exception as exc:
        raise CheckpointUnavailableError(
            f"{hf_id}: the Hub's safetensors metadata could not be read ({first}, then "
            f"{type(exc).__name__}); check the network and your token, then run "
            f"`harness checkpoint {hf_id}` again"
        ) from None
    safetensors = getattr(info, "safetensors", None)
    if safetensors is None or not getattr(safetensors, "total", None):
        raise CheckpointUnavailableError(
            f"{hf_id}: the Hub lists no safetensors weights at {revision} ({first}); "
            "the checkpoint claim cannot be filled from the Hub"
        )
    return CheckpointSummary(
        hf_id=hf_id,
        revision=revision,
        total=int(safetensors.total),
        parameters={str(k): int(v) for k, v in sorted(safetensors.parameters.items())},
        obtained="hub-model-info",
        source=f"https://huggingface.co/api/models/{hf_id}/revision/{revision}?expand=safetensors",
    )
