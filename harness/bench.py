"""`harness bench`: how fast the harness is, measured here and never asserted by a test.

Three figures, recorded with the machine and the package versions:

* per reference model (every case), in one process and interleaved (harness, accelerate,
  harness, ...): the harness's inspection with the cache off against accelerate's estimate-memory
  path on the same config (`init_empty_weights` + `AutoModelForCausalLM.from_config` +
  `calculate_maximum_sizes`), the median of `repeat` runs each, and the ratio harness/accelerate;
* the conformance suite (`pytest cases golden -q`, a subprocess), cold (empty cache folder) then
  warm (the same folder), alternating, the median of `suite_repeat` runs each;
* the coverage sweep (`harness.coverage.sweep(jobs=2)`) when that module exists.

The results go to `out/bench.json` by default: out/ is git-ignored and already holds what
`harness build` writes, and timings belong to one machine, so they are not committed or reviewed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_OUT",
    "SIDES",
    "BenchReport",
    "CoverageRun",
    "Machine",
    "ModelTiming",
    "SuiteRun",
    "SuiteTiming",
    "Target",
    "machine_info",
    "run_bench",
    "schedule",
    "time_models",
    "write_report",
]

DEFAULT_OUT = Path("out") / "bench.json"
HARNESS, ACCELERATE = "harness", "accelerate"
SIDES = (HARNESS, ACCELERATE)
SUITE_ARGS = ("-m", "pytest", "cases", "golden", "-q", "-p", "no:cacheprovider")
MAX_RATIO = 0.5
MAX_WARM_SHARE = 0.10
MAX_COLD_SECONDS = 20.0
COVERAGE_JOBS = 2


@dataclass(frozen=True)
class Machine:
    """Where the figures were measured: CPUs, platform, Python and package versions."""

    cpu_count: int
    platform: str
    python: str
    versions: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "cpu_count": self.cpu_count,
            "platform": self.platform,
            "python": self.python,
            "versions": dict(self.versions),
        }


@dataclass(frozen=True)
class ModelTiming:
    """One model's runs, in seconds: the harness's inspection and accelerate's path."""

    model: str
    harness: tuple[float, ...]
    accelerate: tuple[float, ...]
    error: str = ""

    @property
    def harness_median(self) -> float | None:
        """Median seconds of the harness's runs."""
        return statistics.median(self.harness) if self.harness else None

    @property
    def accelerate_median(self) -> float | None:
        """Median seconds of accelerate's runs."""
        return statistics.median(self.accelerate) if self.accelerate else None

    @property
    def ratio(self) -> float | None:
        """harness / accelerate of the medians (below 1: the harness is faster)."""
        h, a = self.harness_median, self.accelerate_median
        return h / a if h is not None and a else None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every run and the medians."""
        return {
            "model": self.model,
            "harness_runs_s": list(self.harness),
            "accelerate_runs_s": list(self.accelerate),
            "harness_median_s": self.harness_median,
            "accelerate_median_s": self.accelerate_median,
            "ratio": self.ratio,
            "error": self.error,
        }


@dataclass(frozen=True)
class SuiteRun:
    """One subprocess run of the conformance suite: wall and CPU seconds, exit status, last line."""

    label: str
    wall_s: float
    cpu_s: float
    returncode: int
    summary: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "label": self.label,
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "returncode": self.returncode,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class SuiteTiming:
    """Cold and warm runs of the suite, alternating, and the command they ran."""

    command: tuple[str, ...]
    runs: tuple[SuiteRun, ...]

    def _median(self, label: str, attribute: str) -> float | None:
        values = [getattr(r, attribute) for r in self.runs if r.label == label]
        return statistics.median(values) if values else None

    @property
    def cold_s(self) -> float | None:
        """Median wall seconds with an empty cache folder."""
        return self._median("cold", "wall_s")

    @property
    def warm_s(self) -> float | None:
        """Median wall seconds with the cache the cold run filled."""
        return self._median("warm", "wall_s")

    @property
    def warm_share(self) -> float | None:
        """warm / cold of the medians."""
        cold, warm = self.cold_s, self.warm_s
        return warm / cold if cold and warm is not None else None

    @property
    def passed(self) -> bool:
        """True when every run exited 0."""
        return all(r.returncode == 0 for r in self.runs)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "command": list(self.command),
            "cold_median_wall_s": self.cold_s,
            "warm_median_wall_s": self.warm_s,
            "cold_median_cpu_s": self._median("cold", "cpu_s"),
            "warm_median_cpu_s": self._median("warm", "cpu_s"),
            "warm_share": self.warm_share,
            "all_passed": self.passed,
            "runs": [r.as_dict() for r in self.runs],
        }


@dataclass(frozen=True)
class CoverageRun:
    """The coverage sweep: whether it exists, its wall seconds and how many types it ran."""

    available: bool
    wall_s: float | None = None
    architectures: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "available": self.available,
            "jobs": COVERAGE_JOBS,
            "wall_s": self.wall_s,
            "architectures": self.architectures,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Target:
    """One goal: the measured value, its limit, and whether it is met (None: not measured)."""

    name: str
    value: float | None
    limit: float
    unit: str

    @property
    def met(self) -> bool | None:
        """value <= limit, or None when there is no value."""
        return None if self.value is None else self.value <= self.limit

    def line(self) -> str:
        """`name: value (target <= limit): met|MISSED|not measured`."""
        if self.value is None:
            return f"{self.name}: not measured (target <= {self.limit:g}{self.unit})"
        verdict = "met" if self.met else "MISSED"
        limit = f"{self.limit:g}{self.unit}"
        return f"{self.name}: {self.value:.3f}{self.unit} (target <= {limit}): {verdict}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"name": self.name, "value": self.value, "limit": self.limit, "met": self.met}


@dataclass(frozen=True)
class BenchReport:
    """Everything one `harness bench` measured."""

    machine: Machine
    repeat: int
    models: tuple[ModelTiming, ...] = ()
    suite: SuiteTiming | None = None
    coverage: CoverageRun | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def median_ratio(self) -> float | None:
        """Median over the models of harness/accelerate."""
        ratios = [m.ratio for m in self.models if m.ratio is not None]
        return statistics.median(ratios) if ratios else None

    def targets(self) -> list[Target]:
        """The three goals with the measured values."""
        share = self.suite.warm_share if self.suite else None
        cold = self.suite.cold_s if self.suite else None
        return [
            Target("median ratio harness/accelerate", self.median_ratio, MAX_RATIO, ""),
            Target("warm/cold conformance", share, MAX_WARM_SHARE, ""),
            Target("cold conformance", cold, MAX_COLD_SECONDS, " s"),
        ]

    def as_dict(self) -> dict[str, Any]:
        """The JSON written to out/bench.json."""
        return {
            "machine": self.machine.as_dict(),
            "repeat": self.repeat,
            "models": [m.as_dict() for m in self.models],
            "median_ratio": self.median_ratio,
            "suite": self.suite.as_dict() if self.suite else None,
            "coverage": self.coverage.as_dict() if self.coverage else None,
            "targets": [t.as_dict() for t in self.targets()],
            "notes": list(self.notes),
        }

    def lines(self) -> list[str]:
        """The printed report: machine, the per-model table, suite, coverage, targets."""
        m = self.machine
        versions = ", ".join(f"{k} {v}" for k, v in m.versions.items())
        out = [f"machine: {m.cpu_count} CPUs, {m.platform}, Python {m.python}; {versions}"]
        if self.models:
            out += ["", *_model_table(self.models, self.repeat)]
        if self.suite:
            out += ["", *_suite_lines(self.suite)]
        if self.coverage:
            out += ["", _coverage_line(self.coverage)]
        out += ["", *(t.line() for t in self.targets())]
        out += [f"note: {note}" for note in self.notes]
        return out


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _model_table(models: Sequence[ModelTiming], repeat: int) -> list[str]:
    width = max(len("model"), *(len(m.model) for m in models))
    lines = [
        f"inspection, cache off, vs accelerate (median of {repeat} interleaved runs, seconds):",
        f"{'model':<{width}}  {'harness':>8}  {'accelerate':>10}  {'ratio':>6}",
    ]
    for m in models:
        ratio = "-" if m.ratio is None else f"{m.ratio:.2f}"
        row = (
            f"{m.model:<{width}}  {_seconds(m.harness_median):>8}  "
            f"{_seconds(m.accelerate_median):>10}  {ratio:>6}"
        )
        lines.append(row + (f"  error: {m.error}" if m.error else ""))
    return lines


def _suite_lines(suite: SuiteTiming) -> list[str]:
    counts = {label: sum(r.label == label for r in suite.runs) for label in ("cold", "warm")}
    lines = [f"conformance suite ({' '.join(suite.command)}), median wall seconds:"]
    for label, value in (("cold", suite.cold_s), ("warm", suite.warm_s)):
        lines.append(f"  {label:<5} {_seconds(value):>8}  ({counts[label]} runs)")
    share = "-" if suite.warm_share is None else f"{suite.warm_share:.1%}"
    lines.append(f"  warm/cold {share}; every run passed: {'yes' if suite.passed else 'NO'}")
    return lines


def _coverage_line(coverage: CoverageRun) -> str:
    if not coverage.available:
        return f"coverage sweep: not available ({coverage.detail})"
    detail = f"; {coverage.detail}" if coverage.detail else ""
    return (
        f"coverage sweep (jobs={COVERAGE_JOBS}): {_seconds(coverage.wall_s)} s wall, "
        f"{coverage.architectures} architectures{detail}"
    )


def schedule(models: Sequence[str], repeat: int) -> list[tuple[str, str]]:
    """The run order: per model, harness then accelerate, `repeat` times (A, B, A, B ...)."""
    return [(model, side) for model in models for _ in range(repeat) for side in SIDES]


def time_models(
    models: Sequence[str],
    repeat: int,
    runners: Mapping[str, Callable[[str], object]],
    clock: Callable[[], float] = time.perf_counter,
) -> list[ModelTiming]:
    """Run the interleaved schedule, one runner per side; a failing model keeps its error."""
    runs: dict[str, dict[str, list[float]]] = {m: {side: [] for side in SIDES} for m in models}
    errors: dict[str, str] = {}
    for model, side in schedule(models, repeat):
        if model in errors:
            continue
        start = clock()
        try:
            runners[side](model)
        except Exception as exc:  # a bench reports a failing path, it does not stop
            first_line = next(iter(str(exc).splitlines()), "")
            errors[model] = f"{side}: {type(exc).__name__}: {first_line[:200]}"
            continue
        runs[model][side].append(clock() - start)
    return [
        ModelTiming(name, tuple(by_side[HARNESS]), tuple(by_side[ACCELERATE]), errors.get(name, ""))
        for name, by_side in runs.items()
    ]


def harness_inspect(model: str) -> object:
    """The harness's dry run of a model, cache off: resolve, build on meta, inventory."""
    from .api import inspect_model_structure

    return inspect_model_structure(model, offline=True, use_cache=False)


def accelerate_estimate(model: str) -> object:
    """accelerate's estimate-memory path on the same resolved config: empty weights, sizes."""
    import transformers
    from accelerate import init_empty_weights
    from accelerate.utils import calculate_maximum_sizes

    from .pipeline.inventory import quiet_transformers
    from .pipeline.resolve import get_model_config

    resolved = get_model_config(model, offline=True)
    raw = dict(resolved.config)
    model_type = raw.pop("model_type")
    for key in ("auto_map", "quantization_config"):
        raw.pop(key, None)
    with quiet_transformers():
        config = transformers.AutoConfig.for_model(model_type, **raw)
        with init_empty_weights():
            try:
                built = transformers.AutoModelForCausalLM.from_config(config)
            except ValueError:
                built = getattr(transformers, raw["architectures"][0])(config)
    return calculate_maximum_sizes(built)


def _import_libraries() -> None:
    """Import torch, transformers and accelerate before timing: neither path should pay for it."""
    for name in ("torch", "transformers", "accelerate", "accelerate.utils"):
        importlib.import_module(name)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> Machine:
    """CPU count, platform, Python and the torch / transformers / accelerate / harness versions."""
    from .version import __version__

    versions = {name: _version(name) for name in ("torch", "transformers", "accelerate")}
    versions["harness"] = __version__
    return Machine(os.cpu_count() or 1, platform.platform(), platform.python_version(), versions)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_suite(label: str, root: Path, cache: Path) -> SuiteRun:
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, *SUITE_ARGS], cwd=root, env=env, capture_output=True, text=True
    )
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    last = next((line for line in reversed(done.stdout.splitlines()) if line.strip()), "")
    return SuiteRun(label, wall, cpu, done.returncode, last.strip("= "))


def time_suite(root: Path, repeat: int) -> SuiteTiming:
    """Cold (a fresh empty cache folder) then warm (the same folder), `repeat` times."""
    runs: list[SuiteRun] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="harness-bench-cache-") as cache:
            runs.append(_run_suite("cold", root, Path(cache)))
            runs.append(_run_suite("warm", root, Path(cache)))
    return SuiteTiming(("python", *SUITE_ARGS), tuple(runs))


def time_coverage() -> CoverageRun:
    """Time `harness.coverage.sweep(jobs=2)`, or say it is not available."""
    if importlib.util.find_spec("harness.coverage") is None:
        return CoverageRun(False, detail="harness.coverage does not exist")
    from . import coverage

    start = time.perf_counter()
    results = coverage.sweep(jobs=COVERAGE_JOBS, progress=False)
    return CoverageRun(True, time.perf_counter() - start, len(results))


def run_bench(
    models: Sequence[str],
    *,
    repeat: int,
    suite_repeat: int,
    root: Path,
    skip: Sequence[str] = (),
) -> BenchReport:
    """Measure what is not skipped ("models", "suite", "coverage") and collect the report."""
    notes = []
    timings: list[ModelTiming] = []
    if "models" not in skip:
        _import_libraries()
        runners = {HARNESS: harness_inspect, ACCELERATE: accelerate_estimate}
        timings = time_models(models, repeat, runners)
    suite = time_suite(root, suite_repeat) if "suite" not in skip else None
    coverage = time_coverage() if "coverage" not in skip else None
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        notes.append(
            "PYTHONDONTWRITEBYTECODE is set: no .pyc files, so every run compiles and pytest "
            "rewrites assertions again; the warm suite is slower than on a usual machine"
        )
    return BenchReport(machine_info(), repeat, tuple(timings), suite, coverage, tuple(notes))


def write_report(report: BenchReport, path: str | os.PathLike[str]) -> Path:
    """Write the report's JSON atomically."""
    from .writers import atomic_write_text, dump_json

    return atomic_write_text(path, dump_json(report.as_dict()))
