"""Coverage sweep: every causal-LM and image-text-to-text model type of the installed transformers.

Each registered model type's default config (`AutoConfig.for_model`) is serialised as a
config.json would hold it and goes through the same steps as a vendored config: meta-device build
(`inventory.inspect_config`), structure, mapping and config (`config.build_from_inspection`). What
is measured is the text stack, chosen like this:

* an image-text-to-text type is built whole, as a released config of it would be: the
  registered class from the full config, vision (or audio) encoder and projector included. The
  structure step sets those apart as their own parts (`encoder_parts` in the record), so the
  record also proves that no encoder block is counted as a text layer (`text_layers` against
  the text config's `configured_layers`);
* for a causal-LM type whose config has a text sub-config (`get_text_config()` is another
  config) whose model type is itself registered for causal LM, that causal-LM class is built
  from the text sub-config;
* otherwise the registered class is built, from the sub-config its class declares when that is
  not the top-level config (as `AutoModelForCausalLM.from_config` does for `text_config`); when
  that config still has sub-configs (a multimodal model), only the tensors under `get_decoder()`
  and `get_output_embeddings()`, outside modules of another modality, are kept.

Each record gives the parameters in `unknown` entries; the gate allows at most
`MAX_UNKNOWN_SHARE` of them outside the allowlist. Each record also gives the errors of
`harness check` of the generated config against its own dry run (`check_errors`), which the gate
allows for no architecture.

Some default configs do not build in transformers itself (a field the modeling code needs is left
unset) or are inconsistent (query heads that do not divide the hidden size and no head width).
`coverage_overrides.json` repairs those, each with the fewest fields, a reason and the source of
the values (a published checkpoint's config.json, or the transformers file that defines them). An
overridden type is run twice: bare, to record why its default config fails, then with the
override; the files mark it, and the gate refuses an override whose default config builds.

`run_architecture` measures one type; `sweep` runs them all in worker processes;
`harness.coverage_report` turns results into the committed files (sorted, no timings);
`harness.coverage_gate` checks them against the allowlist (`coverage_allowlist.json`) and the
override table.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import InvalidConfigError
from .pipeline.inventory import DECODER_LAYERS, TensorKind

__all__ = [
    "MAX_UNKNOWN_SHARE",
    "OVERRIDES_FILE",
    "ArchitectureConfig",
    "ArchitectureResult",
    "Override",
    "apply_override",
    "architecture_config",
    "load_overrides",
    "parse_overrides",
    "passes",
    "registered_architectures",
    "results_from_json",
    "run_architecture",
    "summary",
    "sweep",
]

# The most of an architecture's parameters `unknown` entries may hold outside the allowlist.
MAX_UNKNOWN_SHARE = 0.01

OVERRIDES_FILE = "coverage_overrides.json"

CAUSAL_LM = "causal-lm"

IMAGE_TEXT_TO_TEXT = "image-text-to-text"

_ERROR_WIDTH = 240

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


@dataclass(frozen=True)
class ArchitectureConfig:
    """The config one model type is measured with, and the class and route used to build it."""

    model_type: str
    task: str
    class_name: str
    config: dict[str, Any]
    route: str
    composite: bool = False


@dataclass(frozen=True)
class ArchitectureResult:
    """One model type through structure, mapping and config: what built and how much maps."""

    model_type: str
    task: str
    model_class: str
    route: str
    builds: bool
    error: str | None = None
    total_params: int | None = None
    entries_params: int | None = None
    supported_params: int | None = None
    left_out_params: int = 0
    gap_kinds: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    default_error: str | None = None
    unknown_params: int = 0
    encoder_parts: tuple[str, ...] = ()
    text_layers: int | None = None
    configured_layers: int | None = None
    # Breaches of the loader contract (harness.loader) by the generated config.
    loader_problems: tuple[str, ...] = ()
    # Errors of `harness check` of the generated config against its own dry run.
    check_errors: tuple[str, ...] = ()
    seconds: float = field(default=0.0, compare=False)

    @property
    def unknown_share(self) -> float | None:
        """Share of the parameters in `unknown` entries, rounded to 4 places."""
        if not self.total_params:
            return None
        return round(self.unknown_params / self.total_params, 4)

    @property
    def loads(self) -> bool:
        """The config built and Mantile's loader would load and compute its layer_types."""
        return self.builds and not self.loader_problems

    @property
    def accounting_difference(self) -> int | None:
        """Sum of count x parameter_count minus the meta-device total (0 when it closes)."""
        if self.entries_params is None or self.total_params is None:
            return None
        return self.entries_params - self.total_params

    @property
    def closes(self) -> bool:
        """The config built and its entries add up to the meta-device total exactly."""
        return self.builds and self.accounting_difference == 0

    @property
    def supported_share(self) -> float | None:
        """Share of the text stack's parameters in layer_types (stand-ins included), 4 places."""
        if not self.total_params or self.supported_params is None:
            return None
        return round(self.supported_params / self.total_params, 4)

    def as_json(self, *, timings: bool = False) -> dict[str, Any]:
        """The record as it appears in coverage.json (seconds only with `timings`)."""
        data: dict[str, Any] = {
            "model_type": self.model_type,
            "task": self.task,
            "model_class": self.model_class,
            "route": self.route,
            "builds": self.builds,
            "error": self.error,
            "accounting_closes": self.closes,
            "accounting_difference": self.accounting_difference,
            "total_params": self.total_params,
            "supported_params": self.supported_params,
            "supported_share": self.supported_share,
            "left_out_params": self.left_out_params,
            "gap_kinds": list(self.gap_kinds),
            "unknown": list(self.unknown),
            "unknown_params": self.unknown_params,
            "unknown_share": self.unknown_share,
            "encoder_parts": list(self.encoder_parts),
            "text_layers": self.text_layers,
            "configured_layers": self.configured_layers,
            "overrides": list(self.overrides),
            "default_error": self.default_error,
            "loads": self.loads,
            "loader_problems": list(self.loader_problems),
            "check_errors": list(self.check_errors),
        }
        if timings:
            data["seconds"] = round(self.seconds, 2)
        return data


@dataclass(frozen=True)
class Override:
    """Config fields set before one model type is built, why, and where the values come from.

    A key `sub.field` sets `field` on the sub-config `sub` (for example `text_config.head_dim`).
    """

    model_type: str
    values: dict[str, Any]
    reason: str
    source: str

    def shown(self, width: int = 80) -> str:
        """`field=value, ...` in JSON, cut to `width` characters."""
        pairs = sorted(self.values.items())
        text = ", ".join(f"{key}={json.dumps(value, sort_keys=True)}" for key, value in pairs)
        return text if len(text) <= width else text[: width - 1] + "…"


def registered_architectures() -> list[tuple[str, str]]:
    """(model_type, task) for every causal-LM and image-text-to-text type, sorted by type."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    )

    tasks = dict.fromkeys(MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES, IMAGE_TEXT_TO_TEXT)
    tasks.update(dict.fromkeys(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, CAUSAL_LM))
    return sorted(tasks.items())


def apply_override(model_type: str, override: Override | None = None) -> Any:
    """The default config of `model_type` with the override's fields set (see `Override`).

    Top-level fields go to the constructor, so the class validates them; `sub.field` ones are set
    on the built sub-config (the build from the config.json dict validates them later).
    """
    import transformers

    values = dict(override.values) if override else {}
    top = {key: value for key, value in values.items() if "." not in key}
    config = transformers.AutoConfig.for_model(model_type, **top)
    for key, value in sorted(values.items()):
        if "." in key:
            sub_name, name = key.split(".", 1)
            sub = getattr(config, sub_name, None)
            if sub is None or not hasattr(sub, "to_dict"):
                raise InvalidConfigError(
                    f"{OVERRIDES_FILE}: {model_type} has no sub-config {sub_name!r} for "
                    f"{key!r}; use a key of the config or one of its sub-configs"
                )
            setattr(sub, name, value)
    return config


def architecture_config(
    model_type: str, task: str, override: Override | None = None
) -> ArchitectureConfig:
    """The (overridden) default config of `model_type` as a config.json dict, and what to build."""
    import transformers
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    )

    config = apply_override(model_type, override)
    if task == IMAGE_TEXT_TO_TEXT:
        class_name = MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES[model_type]
        route = "registered class, whole model"
        return ArchitectureConfig(model_type, task, class_name, _as_file(config, class_name), route)
    text = config.get_text_config(decoder=True)
    if text is not config and text.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        class_name = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[text.model_type]
        route = f"text config {text.model_type}"
        return ArchitectureConfig(model_type, task, class_name, _as_file(text, class_name), route)
    class_name = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type]
    declared = getattr(getattr(transformers, class_name, None), "config_class", None)
    route = "registered class"
    if declared is not None and not isinstance(config, declared):
        for key in sorted(config.sub_configs):
            sub = getattr(config, key, None)
            if isinstance(sub, declared):
                config, route = sub, f"registered class, {key} sub-config"
                break
    composite = bool(getattr(config, "sub_configs", None))
    return ArchitectureConfig(
        model_type, task, class_name, _as_file(config, class_name), route, composite
    )


def _as_file(config: Any, class_name: str) -> dict[str, Any]:
    data: dict[str, Any] = config.to_dict()
    data["architectures"] = [class_name]
    return data


def run_architecture(
    model_type: str, task: str = CAUSAL_LM, overrides: Mapping[str, Override] | None = None
) -> ArchitectureResult:
    """Build one model type's default config and measure how its text stack maps (never raises).

    With an override (from `overrides`, else the shipped table) the bare default config is built
    first, and its error recorded as `default_error` (None when it builds: a stale override).
    """
    start = time.perf_counter()
    table = _shipped_overrides() if overrides is None else overrides
    override = table.get(model_type)
    if override is None:
        return replace(_measure(model_type, task), seconds=time.perf_counter() - start)
    bare = _measure(model_type, task)
    result = _measure(model_type, task, override)
    return replace(
        result,
        overrides=tuple(sorted(override.values)),
        default_error=bare.error,
        seconds=time.perf_counter() - start,
    )


def _shipped_overrides() -> dict[str, Override]:
    return {o.model_type: o for o in load_overrides()}


def _measure(model_type: str, task: str, override: Override | None = None) -> ArchitectureResult:
    from .audit import audit_config
    from .audit.report import ERROR
    from .catalog.loader import loader_problems
    from .pipeline.config import build_from_inspection
    from .pipeline.inventory import inspect_config, quiet_transformers

    start = time.perf_counter()
    stage, class_name, route = "config", "", ""

    def failed(exc: BaseException) -> ArchitectureResult:
        return ArchitectureResult(
            model_type,
            task,
            class_name,
            route,
            builds=False,
            error=_one_line(stage, exc),
            seconds=time.perf_counter() - start,
        )

    try:
        with quiet_transformers():
            chosen = architecture_config(model_type, task, override)
            class_name, route = chosen.class_name, chosen.route
            stage = "inspect"
            inspection = inspect_config(
                chosen.config, model=model_type, text_stack=chosen.composite
            )
            class_name = inspection.model_class
            stage = "build"
            result = build_from_inspection(inspection)
    except Exception as exc:  # the sweep records every failure instead of stopping
        return failed(exc)
    entries = result.entries
    structure = result.structure
    configured = structure.arch.num_layers
    try:
        check = tuple(f.line() for f in audit_config(result.config, result) if f.severity == ERROR)
    except Exception as exc:  # recorded like any other error of the check
        check = (_one_line("check", exc),)
    return ArchitectureResult(
        model_type,
        task,
        class_name,
        route,
        builds=True,
        total_params=inspection.total_params,
        entries_params=sum(e.total_parameters for e in entries),
        supported_params=sum(e.total_parameters for e in entries if e.supported),
        left_out_params=_left_out(inspection.notes),
        gap_kinds=tuple(sorted({e.gap_kind for e in entries if e.gap_kind})),
        unknown=tuple(sorted(_unknown_label(e) for e in entries if e.gap_kind == "unknown")),
        unknown_params=sum(e.total_parameters for e in entries if e.gap_kind == "unknown"),
        encoder_parts=tuple(sorted(part.value for part in structure.parts)),
        text_layers=structure.num_layers,
        configured_layers=configured if isinstance(configured, int) else None,
        loader_problems=tuple(problem.line() for problem in loader_problems(result.config)),
        check_errors=check,
        seconds=time.perf_counter() - start,
    )


def _one_line(stage: str, exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = _ADDRESS.sub("0x…", " ".join(lines))
    if len(text) > _ERROR_WIDTH:
        text = text[: _ERROR_WIDTH - 1] + "…"
    return f"{stage}: {type(exc).__name__}: {text}"


_LEFT_OUT = re.compile(r"^text stack only: .*?; ([\d,]+) parameters outside it left out$")


def _left_out(notes: Iterable[str]) -> int:
    for note in notes:
        match = _LEFT_OUT.match(note)
        if match:
            return int(match.group(1).replace(",", ""))
    return 0


def _unknown_label(entry: Any) -> str:
    """`entry_name: tensor, tensor` with tensor names relative to their layer."""
    names = sorted({_relative(t.name) for t in entry.example_tensors if t.kind is TensorKind.PARAM})
    shown = ", ".join(names[:4]) + (f", … ({len(names)} tensors)" if len(names) > 4 else "")
    return f"{entry.name}: {shown}" if shown else entry.name


def _relative(name: str) -> str:
    match = re.search(rf"\.{DECODER_LAYERS}\.\d+\.(.+)$", name)
    return match.group(1) if match else name


def sweep(jobs: int | None = None, progress: bool = False) -> list[ArchitectureResult]:
    """Run every registered architecture, `jobs` at a time (default: all cores), sorted by type."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    architectures = registered_architectures()
    workers = max(1, jobs or os.cpu_count() or 1)
    # Import torch and the pipeline once here: forked workers inherit them instead of each
    # paying for the imports.
    import torch  # noqa: F401

    from .pipeline import config, inventory  # noqa: F401

    results: list[ArchitectureResult] = []
    with tqdm(
        total=len(architectures),
        desc="coverage",
        unit="arch",
        file=sys.stderr,
        disable=not progress,
    ) as bar:
        if workers == 1:
            for model_type, task in architectures:
                results.append(run_architecture(model_type, task))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(run_architecture, t, task) for t, task in architectures]
                for future in as_completed(futures):
                    results.append(future.result())
                    bar.update()
    return sorted(results, key=lambda r: r.model_type)


def passes(result: ArchitectureResult) -> bool:
    """The gate's rule: the config builds, accounting closes exactly, Mantile loads it, and
    `unknown` entries hold at most MAX_UNKNOWN_SHARE of the parameters."""
    return result.closes and result.loads and (result.unknown_share or 0) <= MAX_UNKNOWN_SHARE


def summary(results: Sequence[ArchitectureResult]) -> dict[str, int]:
    """Counts over the results: registered, builds, closes (in all, and without an override)."""
    return {
        "registered": len(results),
        "builds": sum(r.builds for r in results),
        "closes": sum(r.closes for r in results),
        "closes_without_override": sum(r.closes and not r.overrides for r in results),
        "loads": sum(r.loads for r in results),
        "check_clean": sum(r.builds and not r.check_errors for r in results),
        "with_override": sum(bool(r.overrides) for r in results),
        "with_unknown": sum(bool(r.unknown) for r in results),
        "above_unknown_limit": sum((r.unknown_share or 0) > MAX_UNKNOWN_SHARE for r in results),
    }


def _read_table(name: str, path: str | os.PathLike[str] | None) -> tuple[Any, str]:
    if path is None:
        text = resources.files("harness").joinpath(name).read_text(encoding="utf-8")
        where = f"harness/{name}"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    try:
        return json.loads(text), where
    except json.JSONDecodeError as exc:
        raise InvalidConfigError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; "
            "fix the file"
        ) from None


def parse_overrides(data: Any, *, where: str = OVERRIDES_FILE) -> list[Override]:
    """Overrides from `{model_type: {"set": {field: value}, "reason": ..., "source": ...}}`."""
    if not isinstance(data, dict):
        raise InvalidConfigError(
            f"{where} holds a JSON {type(data).__name__}; it must be an object mapping each "
            'model type to {"set": {...}, "reason": ..., "source": ...}'
        )
    overrides = []
    for model_type, value in sorted(data.items()):
        record = value if isinstance(value, dict) else {}
        values = record.get("set")
        overrides.append(
            Override(
                model_type=str(model_type),
                values=dict(values) if isinstance(values, dict) else {},
                reason=str(record.get("reason") or "").strip(),
                source=str(record.get("source") or "").strip(),
            )
        )
    return overrides


def load_overrides(path: str | os.PathLike[str] | None = None) -> list[Override]:
    """The override table shipped with the harness, or the one at `path`."""
    data, where = _read_table(OVERRIDES_FILE, path)
    return parse_overrides(data, where=where)


def results_from_json(data: Mapping[str, Any]) -> list[ArchitectureResult]:
    """The records of a coverage.json, back as results (seconds are not stored: 0)."""
    results = []
    for row in data["architectures"]:
        difference = row["accounting_difference"]
        total = row["total_params"]
        results.append(
            ArchitectureResult(
                model_type=row["model_type"],
                task=row["task"],
                model_class=row["model_class"],
                route=row["route"],
                builds=row["builds"],
                error=row["error"],
                total_params=total,
                entries_params=None if difference is None else total + difference,
                supported_params=row["supported_params"],
                left_out_params=row["left_out_params"],
                gap_kinds=tuple(row["gap_kinds"]),
                unknown=tuple(row["unknown"]),
                overrides=tuple(row.get("overrides", ())),
                default_error=row.get("default_error"),
                unknown_params=row.get("unknown_params", 0),
                encoder_parts=tuple(row.get("encoder_parts", ())),
                text_layers=row.get("text_layers"),
                configured_layers=row.get("configured_layers"),
                loader_problems=tuple(row.get("loader_problems", ())),
                check_errors=tuple(row.get("check_errors", ())),
            )
        )
    return results
