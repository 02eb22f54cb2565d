"""The coverage gate: the allowlist (coverage_allowlist.json) and what a sweep must satisfy.

`gate_problems` checks a sweep's results against the allowlist and the override table of
`harness.coverage`: at most `MAX_UNKNOWN_SHARE` of a type's parameters in `unknown` entries
outside the allowlist, at most `MAX_ALLOWLISTED` entries, no override a default config does not
need, and no `harness check` error for any build.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .coverage import MAX_UNKNOWN_SHARE, ArchitectureResult, Override, _read_table, passes
from .errors import InvalidConfigError

__all__ = [
    "ALLOWLIST_FILE",
    "ALLOWLIST_GROUPS",
    "MAX_ALLOWLISTED",
    "AllowlistEntry",
    "gate_problems",
    "load_allowlist",
    "parse_allowlist",
]

# The allowlist stays short: each entry is a family the structure rules do not read yet.
MAX_ALLOWLISTED = 5

ALLOWLIST_FILE = "coverage_allowlist.json"

# Why an architecture may fail the gate; every allowlist entry names one and gives its reason.
ALLOWLIST_GROUPS: dict[str, str] = {
    "default-config": "transformers' own default config does not build the registered class",
    "dependency": "building needs a package that is not pinned in constraints.txt",
    "harness": "the harness cannot yet account for this architecture exactly, or leaves more "
    "than 1% of its parameters `unknown`",
}


@dataclass(frozen=True)
class AllowlistEntry:
    """An architecture allowed to fail the gate, with the group and reason it fails for."""

    model_type: str
    group: str
    reason: str


def parse_allowlist(data: Any, *, where: str = ALLOWLIST_FILE) -> list[AllowlistEntry]:
    """Allowlist records from the JSON object `{model_type: {"group": ..., "reason": ...}}`."""
    if not isinstance(data, dict):
        raise InvalidConfigError(
            f"{where} holds a JSON {type(data).__name__}; it must be an object mapping each "
            'model type to {"group": ..., "reason": ...}'
        )
    entries = []
    for model_type, value in sorted(data.items()):
        record = value if isinstance(value, dict) else {}
        entries.append(
            AllowlistEntry(
                model_type=str(model_type),
                group=str(record.get("group") or ""),
                reason=str(record.get("reason") or "").strip(),
            )
        )
    return entries


def load_allowlist(path: str | os.PathLike[str] | None = None) -> list[AllowlistEntry]:
    """The allowlist shipped with the harness, or the one at `path`."""
    data, where = _read_table(ALLOWLIST_FILE, path)
    return parse_allowlist(data, where=where)


def gate_problems(
    results: Sequence[ArchitectureResult],
    allowlist: Sequence[AllowlistEntry],
    overrides: Sequence[Override] = (),
) -> list[str]:
    """Every way the results disagree with the allowlist and the override table.

    Failures not allowed, stale or reasonless entries, results not built with the table's overrides.
    """
    by_type = {r.model_type: r for r in results}
    allowed = {a.model_type: a for a in allowlist}
    problems = _override_problems(by_type, overrides)
    for entry in allowlist:
        result = by_type.get(entry.model_type)
        if not entry.reason:
            problems.append(f"allowlist entry {entry.model_type!r} has no reason; say why it fails")
        if entry.group not in ALLOWLIST_GROUPS:
            problems.append(
                f"allowlist entry {entry.model_type!r} has group {entry.group!r}; use one of "
                f"{', '.join(sorted(ALLOWLIST_GROUPS))}"
            )
        if result is None:
            problems.append(
                f"allowlist entry {entry.model_type!r} is stale: no longer a registered "
                "causal-LM or image-text-to-text type; remove it"
            )
        elif passes(result):
            problems.append(
                f"allowlist entry {entry.model_type!r} is stale: it now builds, closes "
                "accounting and leaves at most 1% unknown; remove it"
            )
    if len(allowed) > MAX_ALLOWLISTED:
        problems.append(
            f"the allowlist has {len(allowed)} entries, more than {MAX_ALLOWLISTED}; teach the "
            "structure rules the architectures it holds instead of allowing more"
        )
    for result in results:
        if result.check_errors:
            problems.append(
                f"{result.model_type}: `harness check` of its build gives "
                f"{len(result.check_errors)} error(s), first: {result.check_errors[0]}; fix the "
                "rule that misreads the build, or the build (no allowlist entry excuses this)"
            )
        if passes(result) or result.model_type in allowed:
            continue
        why = result.error or (
            f"accounting is off by {result.accounting_difference:+,}"
            if not result.closes
            else f"Mantile's loader would not load it: {'; '.join(result.loader_problems)}"
            if not result.loads
            else f"{result.unknown_share:.1%} of its parameters are in `unknown` entries, above "
            f"{MAX_UNKNOWN_SHARE:.0%}"
        )
        problems.append(
            f"{result.model_type} fails the coverage gate ({why}); fix the structure or mapping "
            f"rule, or add it to harness/{ALLOWLIST_FILE} with a group and a reason"
        )
    return problems


def _override_problems(
    by_type: Mapping[str, ArchitectureResult], overrides: Sequence[Override]
) -> list[str]:
    problems = []
    table = {o.model_type: o for o in overrides}
    for override in overrides:
        name = override.model_type
        result = by_type.get(name)
        if not override.values:
            problems.append(f"override {name!r} sets nothing; give the fields it repairs in `set`")
        if not override.reason:
            problems.append(f"override {name!r} has no reason; say what the default config lacks")
        if not override.source:
            problems.append(
                f"override {name!r} has no source; cite the published config.json (or the "
                "transformers file) its values come from"
            )
        if result is None:
            problems.append(
                f"override {name!r} is stale: no longer a registered causal-LM or "
                "image-text-to-text type; remove it"
            )
        elif tuple(sorted(override.values)) != result.overrides:
            problems.append(
                f"{name} was not measured with override {name!r} as the table has it; "
                "run `harness coverage`"
            )
        elif result.default_error is None:
            problems.append(
                f"override {name!r} is stale: the default config builds without it; remove it"
            )
    for result in by_type.values():
        if result.overrides and result.model_type not in table:
            problems.append(
                f"{result.model_type} was measured with an override the table does not have; "
                "run `harness coverage`"
            )
    return problems


# --------------------------------------------------------------------------- Markdown
