"""The pytest plugin: every `cases/test_*.py` defining `CASE` gets the standard checks as items.

Loaded by the repository's conftest.py and declared as a `pytest11` entry point, so any repository
with a `cases/` folder can use it. Items per case: `resolves_offline`, one per claim and fact,
`accounting_closes`, `schema_valid`, `loader_contract` (harness.catalog.loader on the golden file,
or the built config while there is none), `golden` (syrupy), `gap_reports_current` and `flops_match`
(harness.pipeline.flops; entries it cannot compare are listed in a terminal summary section).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .errors import HarnessError, printable
from .pipeline.cases import ModelCase, case_files, load_case_file

__all__ = ["CaseItem", "GoldenExtension", "golden_extension_for"]

GOLDEN_DIR = "golden"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
CASES_DIR = "cases"
GAPS_DIR = "gaps"
HYPOTHESIS_PLUGIN = "hypothesispytest"  # hypothesis's pytest11 entry point


class CaseCheckFailed(AssertionError):
    """A standard check of a case failed; the message is the whole report."""


def _report_text(text: str) -> str:
    """A failure report for the terminal: its lines kept, each line through `printable`."""
    return "\n".join(printable(line) for line in text.split("\n"))


@dataclass
class SessionState:
    """What the plugin keeps during one pytest session, on `config.stash[SESSION_STATE]`."""

    root: Path  # the pytest root: cases/, golden/ and gaps/ are read there
    use_cache: bool  # False with --harness-no-cache
    builds: dict[str, Any] = field(default_factory=dict)  # repr(case) -> build, or its error
    flops_not_run: dict[str, list[str]] = field(default_factory=dict)  # entries flops_match left

    @classmethod
    def of(cls, config: pytest.Config) -> SessionState:
        """The running session's state (made at session start)."""
        return config.stash[SESSION_STATE]


SESSION_STATE = pytest.StashKey[SessionState]()


def _build(state: SessionState, case: ModelCase) -> Any:
    """Build each case once per session, remembering an error as the outcome."""
    from .api import build_case

    key = repr(case)
    if key not in state.builds:
        try:
            # The schema_valid item checks the schema; each build is checked once.
            state.builds[key] = build_case(
                case,
                offline=True,
                use_cache=state.use_cache,
                check_schema=False,
                snapshots_dir=_snapshots(state),
            )
        except HarnessError as exc:
            state.builds[key] = exc
    outcome = state.builds[key]
    if isinstance(outcome, HarnessError):
        raise CaseCheckFailed(f"{case.hf_id}: the config does not build offline: {outcome}")
    return outcome


def _snapshots(state: SessionState) -> Path:
    """The vendored snapshots of the session's project: <rootdir>/cases/configs (or the env's)."""
    from .pipeline.resolve import case_snapshots_dir

    return case_snapshots_dir(state.root / CASES_DIR)


def pytest_addoption(parser: pytest.Parser) -> None:
    """The harness option `--harness-no-cache`: rebuild every model instead of reading the cache."""
    group = parser.getgroup("harness", "model-config conformance harness")
    group.addoption(
        "--harness-no-cache",
        action="store_true",
        dest="harness_no_cache",
        help="build every model on the meta device instead of reading the inspection cache "
        "($HARNESS_CACHE_DIR, else the user cache dir); the cache is neither read nor written",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start every session with no remembered builds."""
    config = session.config
    config.stash[SESSION_STATE] = SessionState(
        root=Path(config.rootpath), use_cache=not config.getoption("harness_no_cache", False)
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Forget the builds: freed now, they do not slow pytest's and Python's final gc passes."""
    state = session.config.stash.get(SESSION_STATE, None)
    if state is not None:
        state.builds.clear()


class CaseItem(pytest.Item):
    """One standard check of one model case."""

    def __init__(
        self, *, case: ModelCase, check: Callable[[SessionState, ModelCase], None], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.check = check

    def runtest(self) -> None:
        """Run the check; it raises CaseCheckFailed with the report on failure."""
        self.check(SessionState.of(self.config), self.case)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The check's own message, without a traceback into the harness."""
        if isinstance(excinfo.value, CaseCheckFailed | HarnessError):
            return _report_text(str(excinfo.value))
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the case is defined and what is checked."""
        return self.path, 0, f"{self.case.hf_id}: {self.name}"


def _check_resolves(state: SessionState, case: ModelCase) -> None:
    from .pipeline.resolve import get_model_config

    try:
        get_model_config(case.hf_id, case.revision, offline=True, snapshots_dir=_snapshots(state))
    except HarnessError as exc:
        raise CaseCheckFailed(f"{case.hf_id}: config does not resolve offline: {exc}") from None


def _fact_check(name: str) -> Callable[[SessionState, ModelCase], None]:
    def check(state: SessionState, case: ModelCase) -> None:
        _, results = _build(state, case)
        result = next(r for r in results if r.fact == name)
        if not result.passed:
            raise CaseCheckFailed(f"{case.hf_id}: {result.message}")

    return check


def _check_accounting(state: SessionState, case: ModelCase) -> None:
    from .pipeline.config import accounting_problems

    result, _ = _build(state, case)
    problems = accounting_problems(result.config, result.inspection.total_params)
    if problems:
        raise CaseCheckFailed(f"{case.hf_id}: accounting does not close: {'; '.join(problems)}")


def _check_schema(state: SessionState, case: ModelCase) -> None:
    from .pipeline.config import validate_schema

    result, _ = _build(state, case)
    validate_schema(result.config, where=f"config of {case.hf_id}")


def _check_loader_contract(state: SessionState, case: ModelCase) -> None:
    from .catalog.loader import loader_problems
    from .pipeline.resolve import parse_config_text

    result, _ = _build(state, case)
    golden = state.root / GOLDEN_DIR / f"{result.model_id}.json"
    config, where = result.config, "the built config"
    if golden.is_file():
        where = f"{GOLDEN_DIR}/{golden.name}"
        config = parse_config_text(golden.read_bytes(), where, fix="regenerate the golden")
        if not isinstance(config, dict):
            raise CaseCheckFailed(f"{case.hf_id}: {where} is not a JSON object; regenerate it")
    problems = loader_problems(config)
    if problems:
        lines = "\n".join(f"  {problem.line()}" for problem in problems)
        raise CaseCheckFailed(
            f"{case.hf_id}: {where} breaks the loader contract: Mantile's loader would not load "
            f"or compute it as written ({len(problems)} problem(s)):\n{lines}"
        )


def _check_gap_reports(state: SessionState, case: ModelCase) -> None:
    from .pipeline.config import entry_lists

    result, _ = _build(state, case)
    root = state.root
    problems = []
    for entry in entry_lists(result.config):
        if not entry.get("gap_report"):
            continue
        report = root / entry["gap_report"]
        if not report.is_file():
            problems.append(f"{entry['name']}: {entry['gap_report']} does not exist")
        elif f"`{case.hf_id}`" not in report.read_text(encoding="utf-8"):
            problems.append(f"{entry['name']}: {entry['gap_report']} does not list {case.hf_id}")
    if problems:
        raise CaseCheckFailed(
            f"{case.hf_id}: gap reports are not current: {'; '.join(problems)}; "
            "regenerate them with `python3 -m nox -s snapshots` (or `harness gaps`)"
        )


FLOPS_NOT_RUN = "flops_not_run"  # the user property carrying them to the terminal summary


def _check_flops(state: SessionState, case: ModelCase) -> None:
    from .api import flops_cached

    result, _ = _build(state, case)
    report = flops_cached(
        result.inspection.resolved,
        result.entries,
        trust_remote_code=case.trust_remote_code,
        revision=case.revision,
        use_cache=state.use_cache,
    )
    if not report.passed:
        raise CaseCheckFailed(report.failure_message())
    state.flops_not_run[repr(case)] = report.not_run_lines()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Attach the entries a passing `flops_match` could not compare to its report."""
    report = yield
    if isinstance(item, CaseItem) and item.check is _check_flops and call.when == "call":
        lines = SessionState.of(item.config).flops_not_run.pop(repr(item.case), [])
        if lines:
            report.user_properties.append((FLOPS_NOT_RUN, "\n".join(lines)))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List what each `flops_match` did not compare, so a `not run` is never silent."""
    found = [
        (report.nodeid, value)
        for report in terminalreporter.stats.get("passed", [])
        for key, value in getattr(report, "user_properties", ())
        if key == FLOPS_NOT_RUN
    ]
    if not found:
        return
    terminalreporter.section("FLOPs cross-check: entries not compared")
    for nodeid, text in found:
        terminalreporter.write_line(printable(nodeid))
        for line in text.split("\n"):
            terminalreporter.write_line(f"  {printable(line)}")


STANDARD_CHECKS: tuple[tuple[str, Callable[[SessionState, ModelCase], None]], ...] = (
    ("resolves_offline", _check_resolves),
    ("accounting_closes", _check_accounting),
    ("schema_valid", _check_schema),
    ("loader_contract", _check_loader_contract),
    ("gap_reports_current", _check_gap_reports),
    ("flops_match", _check_flops),
)


def golden_root(config: pytest.Config) -> Path:
    """The golden/ folder at the pytest root."""
    return Path(config.rootpath) / GOLDEN_DIR


def _golden_test(case: ModelCase) -> Callable[..., None]:
    def golden(snapshot: Any, request: pytest.FixtureRequest) -> None:
        from .writers import dump_json

        result, _ = _build(SessionState.of(request.config), case)
        assertion = snapshot(extension_class=golden_extension_for(result.model_id))
        with warnings.catch_warnings():
            # syrupy warns that the file is not named after the test: it is named after the model.
            warnings.simplefilter("ignore", UserWarning)
            matches = assertion == dump_json(result.config)
        if not matches:
            where = f"{GOLDEN_DIR}/{result.model_id}.json"
            diff = _ANSI.sub("", "\n".join(assertion.get_assert_diff()))
            raise CaseCheckFailed(
                f"{where} does not match the config built for {case.hf_id}; review the change and "
                "update it with `python3 -m nox -s snapshots` (it regenerates gaps/ and golden/ "
                f"and prints the diff):\n{diff}"
            )

    golden.__module__ = __name__
    return golden


def pytest_pycollect_makeitem(
    collector: pytest.Collector, name: str, obj: object
) -> list[Any] | None:
    """Turn a module's `CASE = ModelCase(...)` into the standard check items."""
    if name != "CASE" or not isinstance(obj, ModelCase) or not isinstance(collector, pytest.Module):
        return None
    case = obj
    items: list[Any] = [
        CaseItem.from_parent(collector, name="resolves_offline", case=case, check=_check_resolves)
    ]
    for fact in case.facts:
        items.append(CaseItem.from_parent(collector, name=fact, case=case, check=_fact_check(fact)))
    for check_name, check in STANDARD_CHECKS[1:]:
        items.append(CaseItem.from_parent(collector, name=check_name, case=case, check=check))
    items.append(pytest.Function.from_parent(collector, name="golden", callobj=_golden_test(case)))
    return items


def _declared_model_ids(root: Path) -> dict[str, Path]:
    ids: dict[str, Path] = {}
    for path in case_files(root / CASES_DIR):
        try:
            ids[load_case_file(path).model_id] = path
        except HarnessError:
            continue
    return ids


class _FolderCheckItem(pytest.Item):
    """A check over a whole folder (golden/, gaps/): its failure is its message alone."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Just the message."""
        return _report_text(str(excinfo.value))


class OrphanGoldenItem(_FolderCheckItem):
    """Fails when golden/ holds a file that no case file declares (checked on every run)."""

    def runtest(self) -> None:
        """Compare golden/*.json with the model ids of every case file, collected or not."""
        root = Path(self.config.rootpath)
        declared = _declared_model_ids(root)
        orphans = sorted(
            p.name for p in golden_root(self.config).glob("*.json") if p.stem not in declared
        )
        if orphans:
            raise CaseCheckFailed(
                f"golden files with no case: {', '.join(orphans)}; "
                "delete them or add the case files "
                f"(cases/test_<model>.py with a CASE), then run `python3 -m nox -s snapshots`"
            )

    def reportinfo(self) -> tuple[Path, int, str]:
        """The golden folder."""
        return golden_root(self.config), 0, "orphaned goldens"


class GapReportsItem(_FolderCheckItem):
    """Fails when gaps/ differs from the reports every case's build generates now, byte for byte."""

    def runtest(self) -> None:
        """Render the reports from all cases (builds shared with their items) and compare."""
        from .files import read_regular_file
        from .gaps import generate_gap_files, is_generated_report
        from .pipeline.cases import load_cases

        state = SessionState.of(self.config)
        results = [_build(state, case)[0] for case in load_cases(state.root / CASES_DIR)]
        expected = generate_gap_files(results)
        folder = state.root / GAPS_DIR
        problems = []
        for name, text in expected.items():
            try:  # a regular file only: a FIFO or device named *.md must not block the run
                current = read_regular_file(
                    folder / name, len(text.encode()), follow_symlinks=False
                )
            except OSError as exc:
                reason = "is missing" if isinstance(exc, FileNotFoundError) else exc.strerror
                problems.append(f"{GAPS_DIR}/{name} {reason}")
                continue
            if current != text.encode():
                problems.append(f"{GAPS_DIR}/{name} differs from what the cases generate")
        for path in sorted(folder.glob("*.md")):
            if path.name not in expected and is_generated_report(path):
                problems.append(f"{GAPS_DIR}/{path.name} is stale: no case has that gap kind")
        if problems:
            raise CaseCheckFailed(
                f"gap reports are not current: {'; '.join(problems)}; regenerate them with "
                "`python3 -m nox -s snapshots` (or `harness gaps`) and review the diff"
            )

    def reportinfo(self) -> tuple[Path, int, str]:
        """The gaps folder."""
        return Path(self.config.rootpath) / GAPS_DIR, 0, "gap reports current"


class _GoldenDirectory(pytest.Directory):
    """A collector for the golden/ folder: the orphan check and, with a gaps/ folder, its check."""

    def collect(self) -> Iterator[pytest.Item]:
        """No orphaned golden files; gap reports byte-identical to what the cases generate."""
        yield OrphanGoldenItem.from_parent(self, name="no_orphans")
        if (Path(self.config.rootpath) / GAPS_DIR).is_dir():
            yield GapReportsItem.from_parent(self, name="gap_reports_current")


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect golden/ as a folder of one check, whenever pytest runs over cases/ or the root."""
    if path.name == GOLDEN_DIR and path.parent == Path(parent.config.rootpath):
        return _GoldenDirectory.from_parent(parent, path=path)
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Drop hypothesis's pytest plugin when no collected test imported hypothesis.

    With nothing to report, its terminal summary still imports all of hypothesis (~0.15 s, a
    tenth of a warm conformance run). A session that collected a hypothesis test keeps it.
    """
    manager = session.config.pluginmanager
    if "hypothesis" not in sys.modules and manager.has_plugin(HYPOTHESIS_PLUGIN):
        manager.unregister(name=HYPOTHESIS_PLUGIN)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the orphan check whenever any case is collected, so a subset run checks it too."""
    if any(isinstance(item, CaseItem) for item in items) and not any(
        isinstance(item, OrphanGoldenItem) for item in items
    ):
        golden = golden_root(config)
        if golden.is_dir():
            directory = _GoldenDirectory.from_parent(session, path=golden)
            # Only the cheap orphan check: the gap check builds every case.
            items.extend(i for i in directory.collect() if isinstance(i, OrphanGoldenItem))


def golden_extension_for(model_id: str) -> type[Any]:
    """A syrupy single-file extension storing this model's golden at golden/<model_id>.json."""
    return type(f"Golden_{model_id}", (GoldenExtension,), {"model_id": model_id})


def _golden_extension_base() -> type[Any]:
    from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

    class _Golden(SingleFileSnapshotExtension):
        """Golden configs: golden/<model_id>.json, text, exactly what `harness build` writes."""

        _write_mode = WriteMode.TEXT
        file_extension = "json"
        model_id = "model"

        @classmethod
        def dirname(cls, *, test_location: Any) -> str:
            return str(Path(test_location.filepath).parent.parent / GOLDEN_DIR)

        @classmethod
        def get_snapshot_name(cls, *, test_location: Any, index: Any = 0) -> str:
            return cls.model_id

        @classmethod
        def matches_test_location(cls, *, test_location: Any, snapshot_location: str) -> bool:
            return Path(snapshot_location).stem == cls.model_id

        @classmethod
        def write_snapshot_collection(
            cls, *, snapshot_collection: Any, name_order: Any = None
        ) -> None:
            """Write the golden through the atomic writer, never half a file."""
            from .writers import atomic_write_text

            atomic_write_text(snapshot_collection.location, next(iter(snapshot_collection)).data)

    return _Golden


GoldenExtension = _golden_extension_base()
