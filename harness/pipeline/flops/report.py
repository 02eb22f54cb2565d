"""The cross-check's report: one row per entry and phase, as a table and as JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "ATTN_IMPLEMENTATION",
    "BATCH_SIZE",
    "EXPERTS_IMPLEMENTATION",
    "READING_HINT",
    "SEQ_LEN",
    "UNATTRIBUTED",
    "ComponentFlops",
    "FlopsReport",
    "Status",
]


BATCH_SIZE = 1
SEQ_LEN = 8
ATTN_IMPLEMENTATION = "eager"
EXPERTS_IMPLEMENTATION = "batched_mm"
UNATTRIBUTED = "unattributed"
READING_HINT = (
    "How to read it: catalog = the entry's class formula flops(B, S) (decode: flops(B, 1, "
    "context_len)); pytorch = FlopCounterMode's count for the module at the entry's first layer, "
    "minus modules of other entries nested in it; diff = pytorch - catalog. A diff of 2·T·H·n is "
    "a GEMM of width n the formula lacks (positive) or adds (negative); a diff in the scores "
    "grows with S_kv. Fix the class's flops() in its module of harness/catalog/, or the entry's "
    "specs in harness/pipeline/mapping/ when the class is right and the specs are not."
)


class Status(str, Enum):
    """Outcome of one row: formulas agree, disagree, or could not be compared (with a reason)."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_RUN = "not run"
    FAILED = "failed"  # an entry with a formula the forward pass could not measure


@dataclass(frozen=True)
class ComponentFlops:
    """One entry's FLOPs in one phase: the catalog's formula next to PyTorch's count."""

    name: str
    class_name: str
    phase: str
    module: str
    catalog: int | None
    pytorch: int | None
    status: Status
    reason: str = ""

    @property
    def difference(self) -> int | None:
        """PyTorch minus catalog, when both are known."""
        if self.catalog is None or self.pytorch is None:
            return None
        return self.pytorch - self.catalog

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "class": self.class_name,
            "phase": self.phase,
            "module": self.module,
            "catalog": self.catalog,
            "pytorch": self.pytorch,
            "status": self.status.value,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComponentFlops:
        """The inverse of `as_dict`."""
        return cls(
            name=data["name"],
            class_name=data["class"],
            phase=data["phase"],
            module=data["module"],
            catalog=data["catalog"],
            pytorch=data["pytorch"],
            status=Status(data["status"]),
            reason=data.get("reason", ""),
        )


@dataclass(frozen=True)
class FlopsReport:
    """The cross-check of one model: the run's settings and one row per entry and phase."""

    model: str
    config_sha256: str
    batch_size: int
    seq_len: int
    decode_context: int | None
    attn_implementation: str
    experts_implementation: str | None
    versions: dict[str, str]
    components: tuple[ComponentFlops, ...]
    layers_built: int | None = None  # decoder layers built (the first ones); None: all

    @property
    def mismatches(self) -> tuple[ComponentFlops, ...]:
        """Rows where the catalog and PyTorch disagree."""
        return tuple(c for c in self.components if c.status is Status.MISMATCH)

    @property
    def not_run(self) -> tuple[ComponentFlops, ...]:
        """Rows that could not be compared, each with its reason."""
        return tuple(c for c in self.components if c.status is Status.NOT_RUN)

    @property
    def failed(self) -> tuple[ComponentFlops, ...]:
        """Rows with a class formula that the forward pass on meta could not measure."""
        return tuple(c for c in self.components if c.status is Status.FAILED)

    @property
    def passed(self) -> bool:
        """True when no row disagrees and every row with a formula was measured."""
        return not self.mismatches and not self.failed

    @property
    def settings(self) -> str:
        """One line: batch, sequence, decode context and the implementations used."""
        decode = f", decode at context {self.decode_context}" if self.decode_context else ""
        experts = f", {self.experts_implementation} experts" if self.experts_implementation else ""
        depth = f", first {self.layers_built} decoder layers built" if self.layers_built else ""
        return (
            f"B={self.batch_size}, S={self.seq_len}{decode}, "
            f"{self.attn_implementation} attention{experts}{depth}"
        )

    def table(self, rows: Sequence[ComponentFlops] | None = None) -> str:
        """A fixed-width table of `rows` (all rows by default), reasons below their row."""
        chosen = self.components if rows is None else rows
        header = ("component", "class", "phase", "module", "catalog", "pytorch", "diff", "status")
        cells = [header] + [
            (
                c.name,
                c.class_name,
                c.phase,
                c.module,
                _number(c.catalog),
                _number(c.pytorch),
                _number(c.difference, signed=True),
                c.status.value,
            )
            for c in chosen
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        numeric = {4, 5, 6}
        lines = []
        for index, row in enumerate(cells):
            text = "  ".join(
                cell.rjust(width) if i in numeric else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
            lines.append(text.rstrip())
            if index and chosen[index - 1].reason:
                lines.append(f"    {chosen[index - 1].reason}")
        return "\n".join(lines)

    def failure_message(self) -> str:
        """Why the check fails: every row as a table, then how to read a mismatch."""
        count, failed = len(self.mismatches), len(self.failed)
        problems = []
        if count:
            problems.append(
                f"{count} FLOP count{'s' if count > 1 else ''} of the catalog "
                f"disagree{'' if count > 1 else 's'} with PyTorch's FlopCounterMode"
            )
        if failed:
            problems.append(
                f"{failed} entr{'ies' if failed > 1 else 'y'} with a class formula could not be "
                "measured because the forward pass on meta failed (see the reasons below)"
            )
        return "\n".join(
            [
                f"{self.model}: {' and '.join(problems)} ({self.settings}):",
                self.table(),
                READING_HINT,
            ]
        )

    def not_run_lines(self) -> list[str]:
        """One line per entry not compared (phases merged when the reason is the same)."""
        merged: dict[tuple[str, str, str], list[ComponentFlops]] = {}
        for row in self.not_run:
            merged.setdefault((row.name, row.class_name, row.reason), []).append(row)
        lines = []
        for (name, class_name, reason), rows in merged.items():
            phases = "+".join(row.phase for row in rows)
            counted = [f"{row.pytorch:,} ({row.phase})" for row in rows if row.pytorch is not None]
            where = f"; PyTorch counts {', '.join(counted)} in {rows[0].module}" if counted else ""
            lines.append(f"{name} ({class_name}, {phases}): {reason}{where}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what a cache stores)."""
        return {
            "model": self.model,
            "config_sha256": self.config_sha256,
            "batch_size": self.batch_size,
            "seq_len": self.seq_len,
            "decode_context": self.decode_context,
            "attn_implementation": self.attn_implementation,
            "experts_implementation": self.experts_implementation,
            "versions": dict(self.versions),
            "components": [c.as_dict() for c in self.components],
            "layers_built": self.layers_built,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlopsReport:
        """The inverse of `as_dict`."""
        return cls(
            model=data["model"],
            config_sha256=data["config_sha256"],
            batch_size=data["batch_size"],
            seq_len=data["seq_len"],
            decode_context=data["decode_context"],
            attn_implementation=data["attn_implementation"],
            experts_implementation=data["experts_implementation"],
            versions=dict(data["versions"]),
            components=tuple(ComponentFlops.from_dict(c) for c in data["components"]),
            layers_built=data.get("layers_built"),
        )


def _number(value: int | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+,}" if signed and value else f"{value:,}"
