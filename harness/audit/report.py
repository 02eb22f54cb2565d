"""What an audit finds: findings with their level, place and numbers, and the report of a file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CONFIG", "ERROR", "WARNING", "AuditFinding", "AuditReport"]

ERROR = "error"
WARNING = "warning"
CONFIG = "<config>"


@dataclass(frozen=True)
class AuditFinding:
    """One defect of a config: severity, code, the entry (or field) it concerns, a message."""

    severity: str  # "error" or "warning"
    code: str
    entry: str
    message: str
    expected: int | None = None
    found: int | None = None

    @property
    def difference(self) -> int | None:
        """found - expected, when both are numbers."""
        if self.expected is None or self.found is None:
            return None
        return self.found - self.expected

    @property
    def percent(self) -> float | None:
        """difference / expected as a fraction (-0.0149 for -1.49%), when expected is non-zero."""
        difference = self.difference
        if difference is None or not self.expected:
            return None
        return difference / self.expected

    def line(self, code_width: int = 0) -> str:
        """One output line: severity, code, entry, message."""
        return f"{self.severity:<7} {self.code:<{code_width}}  {self.entry}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record, with difference and percent."""
        return {
            "severity": self.severity,
            "code": self.code,
            "entry": self.entry,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "difference": self.difference,
            "percent": self.percent,
        }


@dataclass(frozen=True)
class AuditReport:
    """The findings of one config against the dry run of one model."""

    path: str
    model: str
    model_total: int
    findings: tuple[AuditFinding, ...]

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        """Number of warning findings."""
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def exit_status(self) -> int:
        """1 when any finding is an error, else 0."""
        return 1 if self.errors else 0

    def summary(self) -> str:
        """One line: the file, the model, how many errors and warnings."""
        return (
            f"{self.path}: {_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')} "
            f"against the dry run of {self.model} ({self.model_total:,} parameters)"
        )

    def lines(self) -> list[str]:
        """One line per finding, then the summary."""
        width = max((len(f.code) for f in self.findings), default=0)
        return [f.line(width) for f in self.findings] + [self.summary()]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "config": self.path,
            "model": self.model,
            "model_total_params": self.model_total,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.as_dict() for f in self.findings],
        }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _percent(fraction: float) -> str:
    if fraction and abs(fraction) < 1e-5:
        return f"{fraction * 100:+.1e}%"
    return f"{fraction:+.3%}"


def _numbers(expected: int, found: int) -> str:
    """`expected E, found F, difference D (P%)` with thousands separators."""
    difference = found - expected
    percent = f" ({_percent(difference / expected)})" if expected else ""
    return f"expected {expected:,}, found {found:,}, difference {difference:+,}{percent}"


def _finding(
    severity: str,
    code: str,
    entry: str,
    message: str,
    expected: int | None = None,
    found: int | None = None,
) -> AuditFinding:
    return AuditFinding(severity, code, entry, message, expected, found)
