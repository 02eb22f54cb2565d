"""The API: the pipeline steps composed in order, with the inspection and FLOPs caches.

Each function runs earlier steps and hands their records to later ones; no step calls back up.
The CLI, the pytest plugin, gaps, audit, coverage, bench and scaffold build through these. The
seed toolkit's names (`inspect_model_structure`, `count_parameters` ...) are re-exported by
`harness` itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import (
    FLOPS,
    cache_key,
    cached,
    decode_value,
    flops_payload,
    inspection_from_payload,
    inspection_payload,
)
from .pipeline import inventory
from .pipeline.cases import ModelCase
from .pipeline.check import CheckResult, check_case, validation_block
from .pipeline.config import (
    BuildResult,
    build_from_inspection,
    config_with_validation,
    validate_schema,
)
from .pipeline.inventory import (
    Inspection,
    RecordAccess,
    TensorKind,
    TensorRecord,
    format_count,
)
from .pipeline.mapping import LayerEntry
from .pipeline.resolve import ResolvedConfig, get_model_config
from .pipeline.structure import Part, Structure, analyze_layer_structure

if TYPE_CHECKING:
    from .pipeline.flops import FlopsReport

__all__ = [
    "ParameterCount",
    "build_case",
    "build_model_config",
    "count_parameters",
    "flops_cached",
    "inspect_cached",
    "inspect_model_structure",
    "with_validation",
]


def inspect_model_structure(
    model: str,
    revision: str | None = None,
    *,
    offline: bool | None = None,
    token: str | None = None,
    trust_remote_code: bool = False,
    use_cache: bool = False,
    snapshots_dir: Path | None = None,
    native_class: bool = False,
) -> Inspection:
    """Resolve `model`'s config, build it on the meta device (or read the cache): every tensor.

    `snapshots_dir`: where vendored snapshots are (default: $HARNESS_SNAPSHOTS_DIR, else the
    working directory's cases/configs). `native_class`: build the transformers class
    `architectures` names even though `auto_map` points at Hub code for a model type transformers
    lacks; the opt-in travels with the resolved config and is recorded in the notes.
    """
    resolved = get_model_config(
        model, revision, offline=offline, token=token, snapshots_dir=snapshots_dir
    )
    if native_class:
        resolved = replace(resolved, native_class=True)
    if use_cache:
        return inspect_cached(resolved, trust_remote_code=trust_remote_code, revision=revision)
    return inventory.inspect_resolved(
        resolved, trust_remote_code=trust_remote_code, revision=revision
    )


def inspect_cached(
    resolved: ResolvedConfig,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    use_cache: bool = True,
    directory: Path | None = None,
) -> Inspection:
    """inspect_resolved through the cache: a warm hit builds nothing and imports no torch."""
    key = cache_key(resolved, trust_remote_code=trust_remote_code, revision=revision)
    return cached(
        key,
        # looked up on the module at call time, so a test can count the builds
        lambda: inventory.inspect_resolved(
            resolved, trust_remote_code=trust_remote_code, revision=revision
        ),
        encode=inspection_payload,
        decode=lambda payload: inspection_from_payload(payload, resolved),
        directory=directory,
        use_cache=use_cache,
    )


def flops_cached(
    resolved: ResolvedConfig,
    entries: Sequence[LayerEntry],
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    use_cache: bool = True,
    directory: Path | None = None,
) -> FlopsReport:
    """flops.cross_check through the cache, keyed also by the entries it compares."""
    from .pipeline import flops

    inputs = hashlib.sha256(repr(tuple(entries)).encode()).hexdigest()
    key = cache_key(
        resolved, FLOPS, trust_remote_code=trust_remote_code, revision=revision, inputs=inputs
    )
    return cached(
        key,
        lambda: flops.cross_check(resolved, entries, trust_remote_code=trust_remote_code),
        encode=flops_payload,
        decode=lambda payload: replace(
            flops.FlopsReport.from_dict(decode_value(payload)),
            model=resolved.hf_id or resolved.model,
        ),
        directory=directory,
        use_cache=use_cache,
    )


def build_model_config(
    model: str,
    revision: str | None = None,
    *,
    offline: bool | None = None,
    token: str | None = None,
    trust_remote_code: bool = False,
    layers_dir: str | Path | None = None,
    validation: dict[str, Any] | None = None,
    use_cache: bool = True,
    stand_ins: bool = True,
    hf_id: str | None = None,
    native_class: bool = False,
) -> BuildResult:
    """The whole pipeline for one model: resolve, inspect (cached), structure, map, build, check.

    `layers_dir`: build for the classes of that folder (e.g. a Mantile checkout's
    backend/layers) instead of the catalog; `stand_ins` False: no exact stand-ins. `hf_id` names
    the Hub model a local config.json belongs to (recorded as `hf_model_id`); `native_class`
    builds the transformers class a config names although its `auto_map` points at Hub code
    (see `inventory.inspect_resolved`).
    """
    inspection = inspect_model_structure(
        model,
        revision,
        offline=offline,
        token=token,
        trust_remote_code=trust_remote_code,
        use_cache=use_cache,
        native_class=native_class,
    )
    return build_from_inspection(
        inspection, layers_dir=layers_dir, validation=validation, stand_ins=stand_ins, hf_id=hf_id
    )


def with_validation(
    case: ModelCase, result: BuildResult, *, check_schema: bool = True
) -> tuple[BuildResult, list[CheckResult]]:
    """Check a build against a case's facts and put the validation report in its config."""
    results = check_case(case, result)
    config = config_with_validation(result.config, validation_block(case, results))
    if check_schema:
        validate_schema(config, where=f"generated config of {case.hf_id}")
    return replace(result, config=config), results


def build_case(
    case: ModelCase,
    *,
    offline: bool = True,
    use_cache: bool = True,
    check_schema: bool = True,
    snapshots_dir: Path | None = None,
) -> tuple[BuildResult, list[CheckResult]]:
    """Build a case's model offline, check its facts, put the validation report in the config.

    `snapshots_dir`: the vendored snapshots of the case's folder (default: see get_model_config).
    """
    inspection = inspect_model_structure(
        case.hf_id,
        case.revision,
        offline=offline,
        trust_remote_code=case.trust_remote_code,
        use_cache=use_cache,
        native_class=case.native_class,
        snapshots_dir=snapshots_dir,
    )
    # Only the final config (this one plus its validation block) needs a schema check.
    result = build_from_inspection(inspection, check_schema=False)
    return with_validation(case, result, check_schema=check_schema)


@dataclass(frozen=True)
class ParameterCount(RecordAccess):
    """Exact parameter total, its short form, and a breakdown by component kind."""

    total: int
    total_formatted: str
    by_component: dict[str, int]
    buffers: int


def count_parameters(
    tensors: Inspection | Iterable[TensorRecord], structure: Structure | None = None
) -> ParameterCount:
    """Exact parameter total (tied weights once), formatted, and by component kind.

    The kinds are the structure step's (`attention`, `mlp`, `moe`, `norm`, `mamba_mixer` ...;
    another part's prefixed with it, `vision attention`), so they name what the config's entries
    are built from. The breakdown needs the model: it is empty for bare tensor records.
    """
    records = tensors.tensors if isinstance(tensors, Inspection) else tuple(tensors)
    if structure is None and isinstance(tensors, Inspection):
        structure = analyze_layer_structure(tensors)
    by_component: dict[str, int] = {}
    for component in structure.components if structure is not None else ():
        if component.parameter_count:
            kind = component.kind.value
            if component.part is not Part.TEXT:
                kind = f"{component.part.value} {kind}"
            by_component[kind] = by_component.get(kind, 0) + component.parameter_count
    total = inventory.parameter_total(records)
    return ParameterCount(
        total=total,
        total_formatted=format_count(total),
        by_component=dict(sorted(by_component.items(), key=lambda item: -item[1])),
        buffers=sum(record.numel for record in records if record.kind is not TensorKind.PARAM),
    )
