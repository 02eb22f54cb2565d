"""Step 7, gaps: one Markdown report per gap kind, an index, and a pytest skeleton per kind.

Every entry that comes from a gap (in `unsupported_layer_types`, or a stand-in in `layer_types`)
links to `gaps/<gap_kind>.md`. `generate_gap_files` turns builds into the files' text (collected
by `harness.gap_reports.collect`, rendered by `.report` and `.skeleton`, no I/O);
`write_gap_reports` is the only writer and `case_results` builds the model cases. What each
report says about its kind (title, severity, references ...) is the kind's record in the
registry, harness/catalog/gap_kinds/<kind>.toml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from .catalog.registry import proposed_classes
from .gap_reports.collect import GAPS_DIR, BlockedEntry, BlockedModel, GapKindReport, collect_gaps
from .gap_reports.report import (
    GENERATED_MARKER,
    INDEX_FILE,
    render_index,
    render_report,
    render_unblocked_report,
)
from .gap_reports.skeleton import extract_skeletons, render_skeleton, skeleton_numbers
from .gap_reports.text import summarize_layers
from .writers import holds, write_files

if TYPE_CHECKING:
    from .pipeline.config import BuildResult

__all__ = [
    "GENERATED_MARKER",
    "INDEX_FILE",
    "BlockedEntry",
    "BlockedModel",
    "FileChange",
    "GapFile",
    "GapKindReport",
    "case_results",
    "collect_gaps",
    "extract_skeletons",
    "generate_gap_files",
    "is_generated_report",
    "render_index",
    "render_report",
    "render_skeleton",
    "render_unblocked_report",
    "skeleton_numbers",
    "summarize_layers",
    "write_gap_reports",
]


def __dir__() -> list[str]:
    return list(__all__)


def generate_gap_files(results: Iterable[BuildResult]) -> dict[str, str]:
    """File name (`<gap_kind>.md`, `README.md`) -> text for every gap kind the mapper can emit:
    the full report for kinds the builds have, a short one for the rest, so that every
    `gap_report` link any build writes resolves."""
    reports = collect_gaps(results)
    files = {report.file_name: render_report(report) for report in reports.values()}
    unblocked = sorted(kind for kind in proposed_classes() if kind not in reports)
    for kind in unblocked:
        files[f"{kind}.md"] = render_unblocked_report(kind)
    files[INDEX_FILE] = render_index(reports)
    return dict(sorted(files.items()))


class FileChange(str, Enum):
    """What writing the gap reports did to one file."""

    WROTE = "wrote"
    UNCHANGED = "unchanged"
    REMOVED = "removed"


@dataclass(frozen=True)
class GapFile:
    """One file of the gaps folder and what `write_gap_reports` did to it."""

    path: Path
    change: FileChange


def write_gap_reports(
    results: Iterable[BuildResult], gaps_dir: str | Path = GAPS_DIR, *, prune: bool = True
) -> list[GapFile]:
    """Write every gap file that differs atomically; with `prune`, delete generated files no kind
    needs now.

    Returns every generated file (wrote or unchanged) and every removed one, sorted by path. Only
    Markdown files whose first line is `GENERATED_MARKER` are ever deleted, so hand-written notes
    in the folder survive; a file whose text is already right is not rewritten.
    """
    folder = Path(gaps_dir)
    files = generate_gap_files(results)
    unchanged = {name for name, text in files.items() if holds(folder / name, text.encode())}
    written = write_files(
        {folder / name: text for name, text in files.items() if name not in unchanged}
    )
    outcome = [GapFile(path, FileChange.WROTE) for path in written]
    outcome += [GapFile(folder / name, FileChange.UNCHANGED) for name in unchanged]
    if prune and folder.is_dir():
        for path in sorted(folder.glob("*.md")):
            if path.name not in files and is_generated_report(path):
                path.unlink()
                outcome.append(GapFile(path, FileChange.REMOVED))
    return sorted(outcome, key=lambda file: file.path)


def is_generated_report(path: Path) -> bool:
    """True for a regular file (not a symlink, folder or FIFO) whose first line is the marker.

    Anything else in the gaps folder is someone else's and is never read past its first line,
    never followed and never deleted.
    """
    from .files import read_regular_file

    try:
        head = read_regular_file(path, len(GENERATED_MARKER) + 1, follow_symlinks=False)
    except OSError:
        return False
    return head.decode("utf-8", "replace").partition("\n")[0] == GENERATED_MARKER


def case_results(cases_dir: str | Path = "cases", *, use_cache: bool = True) -> list[BuildResult]:
    """Build every `cases/test_*.py` model offline, sorted by Hub id (what `harness gaps` uses)."""
    from .api import build_case
    from .errors import CaseError
    from .pipeline.cases import case_files, load_cases
    from .pipeline.resolve import case_snapshots_dir

    folder = Path(cases_dir)
    if folder.exists() and not folder.is_dir():
        from .files import file_kind

        raise CaseError(
            f"{cases_dir} is {file_kind(folder.stat().st_mode)}, not a folder of case files; "
            "pass the folder of your model cases with --cases-dir (no gap report was touched)"
        )
    if not case_files(cases_dir):
        raise CaseError(
            f"{cases_dir} holds no case files (test_*.py); pass the folder of your model cases "
            "with --cases-dir (gap reports are rebuilt from every case, so none were touched)"
        )
    snapshots = case_snapshots_dir(cases_dir)
    return [
        build_case(case, offline=True, use_cache=use_cache, snapshots_dir=snapshots)[0]
        for case in load_cases(cases_dir)
    ]
