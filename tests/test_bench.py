"""`harness bench`: the run order, the table and the JSON, from fake measurements (no timing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness
from harness import bench
from harness.bench import (
    BenchReport,
    CoverageRun,
    Machine,
    ModelTiming,
    SuiteRun,
    SuiteTiming,
    Target,
    schedule,
    time_models,
    write_report,
)
from harness.cli import main

MACHINE = Machine(2, "Linux-test", "3.11.7", {"torch": "2.13.0+cpu", "harness": "0.1.0"})


def ticking(step: float = 1.0) -> Iterator[float]:
    """A fake clock: 0, step, 2*step ... so each run lasts exactly `step`."""
    now = 0.0
    while True:
        yield now
        now += step


def test_schedule_interleaves_harness_and_accelerate_per_model() -> None:
    assert schedule(["a", "b"], 2) == [
        ("a", "harness"),
        ("a", "accelerate"),
        ("a", "harness"),
        ("a", "accelerate"),
        ("b", "harness"),
        ("b", "accelerate"),
        ("b", "harness"),
        ("b", "accelerate"),
    ]


def test_time_models_runs_the_schedule_in_order_and_keeps_each_duration() -> None:
    calls: list[tuple[str, str]] = []
    durations = iter([1.0, 4.0, 3.0, 2.0, 2.0, 8.0])
    clock_values: list[float] = []

    def clock() -> float:
        if len(clock_values) % 2 == 0:
            clock_values.append(0.0)
        else:
            clock_values.append(next(durations))
        return clock_values[-1]

    runners = {side: (lambda model, side=side: calls.append((model, side))) for side in bench.SIDES}
    [timing] = time_models(["m"], 3, runners, clock)
    assert calls == schedule(["m"], 3)
    assert timing.harness == (1.0, 3.0, 2.0)
    assert timing.accelerate == (4.0, 2.0, 8.0)
    assert timing.harness_median == 2.0
    assert timing.accelerate_median == 4.0
    assert timing.ratio == 0.5


def test_a_failing_model_keeps_its_error_and_the_others_are_timed() -> None:
    def accelerate(model: str) -> None:
        if model == "bad":
            raise ValueError("no such class\nsecond line")

    runners = {"harness": lambda model: None, "accelerate": accelerate}
    bad, good = time_models(["bad", "good"], 2, runners, ticking().__next__)
    assert bad.error == "accelerate: ValueError: no such class"
    assert bad.ratio is None
    assert good.error == ""
    assert good.harness == (1.0, 1.0)
    assert good.ratio == 1.0


def test_an_exception_without_a_message_is_still_reported() -> None:
    def harness(model: str) -> None:
        raise RuntimeError()

    runners = {"harness": harness, "accelerate": lambda model: None}
    [timing] = time_models(["m"], 2, runners, ticking().__next__)
    assert timing.error == "harness: RuntimeError: "


def fake_report(**changes: object) -> BenchReport:
    models = (
        ModelTiming("org/small", (0.1, 0.2, 0.3), (0.4, 0.5, 0.6)),
        ModelTiming("org/large", (1.0, 1.0, 1.0), (1.0, 3.0, 2.0)),
        ModelTiming("org/broken", (), (), "harness: ModelBuildError: boom"),
    )
    suite = SuiteTiming(
        ("python", "-m", "pytest", "cases", "golden", "-q"),
        (
            SuiteRun("cold", 10.0, 9.0, 0, "401 passed in 9.5s"),
            SuiteRun("warm", 0.8, 0.7, 0, "401 passed in 0.5s"),
            SuiteRun("cold", 12.0, 11.0, 0, "401 passed in 11.5s"),
            SuiteRun("warm", 1.6, 1.5, 0, "401 passed in 1.2s"),
            SuiteRun("cold", 14.0, 13.0, 0, "401 passed in 13.5s"),
            SuiteRun("warm", 1.0, 0.9, 0, "401 passed in 0.7s"),
        ),
    )
    fields: dict[str, object] = {
        "machine": MACHINE,
        "repeat": 3,
        "models": models,
        "suite": suite,
        "coverage": CoverageRun(False, detail="harness.coverage does not exist"),
    }
    fields.update(changes)
    return BenchReport(**fields)  # type: ignore[arg-type]


def test_report_medians_ratio_and_targets() -> None:
    report = fake_report()
    assert [m.ratio for m in report.models] == [0.4, 0.5, None]
    assert report.median_ratio == pytest.approx(0.45)
    assert report.suite is not None
    assert (report.suite.cold_s, report.suite.warm_s) == (12.0, 1.0)
    assert report.suite.warm_share == pytest.approx(1 / 12)
    assert [(t.name, t.met) for t in report.targets()] == [
        ("median ratio harness/accelerate", True),
        ("warm/cold conformance", True),
        ("cold conformance", True),
    ]


def test_missed_and_unmeasured_targets_say_so() -> None:
    assert Target("ratio", 0.5, 0.5, "").line() == "ratio: 0.500 (target <= 0.5): met"
    assert Target("ratio", 0.51, 0.5, "").line() == "ratio: 0.510 (target <= 0.5): MISSED"
    assert Target("cold", None, 20.0, " s").line() == "cold: not measured (target <= 20 s)"
    report = fake_report(suite=None, models=())
    assert [t.met for t in report.targets()] == [None, None, None]


def test_the_printed_table() -> None:
    lines = fake_report().lines()
    assert lines[0] == (
        "machine: 2 CPUs, Linux-test, Python 3.11.7; torch 2.13.0+cpu, harness 0.1.0"
    )
    assert lines[2:7] == [
        "inspection, cache off, vs accelerate (median of 3 interleaved runs, seconds):",
        "model        harness  accelerate   ratio",
        "org/small      0.200       0.500    0.40",
        "org/large      1.000       2.000    0.50",
        "org/broken         -           -       -  error: harness: ModelBuildError: boom",
    ]
    assert "  warm/cold 8.3%; every run passed: yes" in lines
    assert "coverage sweep: not available (harness.coverage does not exist)" in lines
    assert lines[-3:] == [
        "median ratio harness/accelerate: 0.450 (target <= 0.5): met",
        "warm/cold conformance: 0.083 (target <= 0.1): met",
        "cold conformance: 12.000 s (target <= 20 s): met",
    ]


def test_a_failed_suite_run_is_reported() -> None:
    suite = SuiteTiming(("pytest",), (SuiteRun("cold", 1.0, 1.0, 1, "1 failed"),))
    report = fake_report(suite=suite)
    assert not suite.passed
    assert "  warm/cold -; every run passed: NO" in report.lines()


def test_coverage_line_when_it_ran() -> None:
    report = fake_report(coverage=CoverageRun(True, 95.25, 312))
    assert "coverage sweep (jobs=2): 95.250 s wall, 312 architectures" in report.lines()


def test_json_has_machine_versions_runs_and_targets(tmp_path: Path) -> None:
    path = write_report(fake_report(), tmp_path / "out" / "bench.json")
    data = json.loads(path.read_text())
    assert data["machine"] == {
        "cpu_count": 2,
        "platform": "Linux-test",
        "python": "3.11.7",
        "versions": {"torch": "2.13.0+cpu", "harness": "0.1.0"},
    }
    assert data["models"][0] == {
        "model": "org/small",
        "harness_runs_s": [0.1, 0.2, 0.3],
        "accelerate_runs_s": [0.4, 0.5, 0.6],
        "harness_median_s": 0.2,
        "accelerate_median_s": 0.5,
        "ratio": 0.4,
        "error": "",
    }
    assert data["suite"]["cold_median_wall_s"] == 12.0
    assert data["suite"]["warm_median_cpu_s"] == 0.9
    assert len(data["suite"]["runs"]) == 6
    assert data["coverage"]["available"] is False
    assert [t["met"] for t in data["targets"]] == [True, True, True]
    assert list(tmp_path.joinpath("out").iterdir()) == [path]


def test_coverage_is_not_available_without_its_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    assert bench.time_coverage() == CoverageRun(False, detail="harness.coverage does not exist")


def test_machine_info_reads_versions_without_importing_torch() -> None:
    info = bench.machine_info()
    assert info.cpu_count >= 1
    assert set(info.versions) == {"torch", "transformers", "accelerate", "harness"}
    assert info.versions["harness"] == harness.__version__


def test_error_bad_repeat_is_one_line_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--repeat", "0"]) == 2
    assert capsys.readouterr().err == (
        "harness bench: error: --repeat and --suite-repeat must be at least 1\n"
    )
