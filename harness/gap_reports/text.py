"""Text helpers of the gap reports: Markdown cells and tables, wrapping, layer ranges."""

from __future__ import annotations

import itertools
import json
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from ..pipeline.inventory import TensorRecord

__all__ = ["summarize_layers"]

# What a report or a skeleton says where the registry records no formula.
_NOT_RECORDED = "not recorded yet"


def _fmt(value: int) -> str:
    return f"{value:,}"


def _cell(text: object) -> str:
    """Markdown table cell text: pipes and asterisks escaped, no line breaks."""
    return str(text).replace("|", "\\|").replace("*", "\\*").replace("\n", " ")


def _prose(text: str) -> str:
    """Markdown paragraph text: asterisks escaped so formulas do not turn into emphasis."""
    return text.replace("*", "\\*")


def _code(text: object) -> str:
    body = str(text)
    fence = "``" if "`" in body else "`"
    return f"{fence}{body}{fence}"


def _json_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Wrap at spaces only, never inside hyphenated words or identifiers."""
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _runs(indices: Sequence[int]) -> list[str]:
    runs: list[str] = []
    start = previous = indices[0]
    for index in [*indices[1:], None]:
        if index is not None and index == previous + 1:
            previous = index
            continue
        runs.append(str(start) if start == previous else f"{start}-{previous}")
        if index is not None:
            start = previous = index
    return runs


def _progression(indices: Sequence[int]) -> str | None:
    if len(indices) < 3:
        return None
    step = indices[1] - indices[0]
    if step < 2 or any(b - a != step for a, b in itertools.pairwise(indices)):
        return None
    return f"{indices[0]}-{indices[-1]} every {step}"


def summarize_layers(indices: Sequence[int], num_layers: int | None = None) -> str:
    """Short text for layer indices: `all 61 (0-60)`, `3-47 every 4 (12)`, `all but ...`."""
    ordered = sorted(set(indices))
    if not ordered:
        return "model level"
    count = len(ordered)
    if num_layers and ordered == list(range(num_layers)):
        return f"all {count} (0-{num_layers - 1})"
    progression = _progression(ordered)
    if progression:
        return f"{progression} ({count})"
    runs = _runs(ordered)
    if len(runs) > 4 and num_layers:
        rest = sorted(set(range(num_layers)) - set(ordered))
        if rest and min(rest) >= 0:
            described = _progression(rest) or (
                ", ".join(_runs(rest)) if len(_runs(rest)) <= 4 else None
            )
            if described:
                return f"all but {described} ({count})"
    return f"{', '.join(runs)} ({count})"


def _shape(record: TensorRecord) -> str:
    return "[" + ", ".join(str(size) for size in record.shape) + "]"
