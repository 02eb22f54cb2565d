"""`harness add`: vendor a model's config snapshot and scaffold its case file with TODO claims.

The structural facts are pre-filled from the dry run of the vendored config (they pin the snapshot's
structure); the public claims are left as `TODO`, which fails until a person fills them in with a
source. Nothing is written unless the config builds, and nothing existing is overwritten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CaseError, ConfigNotFoundError, OfflineSnapshotMissingError
from .pipeline.cases import (
    CHECKPOINT_FACT,
    STRUCTURE_FACTS,
    case_file_name,
    case_files,
    declared_hf_id,
)
from .pipeline.checkpoint import (
    CHECKPOINT_FILE,
    CheckpointSummary,
    CheckpointUnavailableError,
    read_hub_checkpoint,
    refresh_hint,
    summary_json,
)
from .pipeline.config import BuildResult, build_from_inspection
from .pipeline.resolve import (
    CONFIG_FILE,
    SNAPSHOT_META_FILE,
    ConfigSource,
    ResolvedConfig,
    get_remote_config,
    is_hf_id,
    is_pinned_revision,
    is_valid_revision,
    load_config_file,
    offline_requested,
    sha256_of,
    snapshot_dir_for,
)

__all__ = [
    "Scaffold",
    "add_model",
    "case_source",
    "checkpoint_claim_lines",
    "next_steps",
    "prepare_scaffold",
    "read_checkpoint",
    "todo_claims",
]

_HUB = "https://huggingface.co"
_PREFILLED_NOTE = "pre-filled by `harness add` from config.json"


@dataclass(frozen=True)
class Scaffold:
    """Everything `harness add` writes, rendered in memory before any file is touched."""

    hf_id: str
    revision: str | None
    case_path: Path
    snapshot_dir: Path
    config_bytes: bytes
    snapshot_meta: dict[str, Any]
    case_text: str
    result: BuildResult
    already_vendored: bool = False  # the same config.json is vendored: keep its snapshot.json
    checkpoint: CheckpointSummary | None = None  # the Hub's safetensors metadata, when read
    checkpoint_note: str = ""  # why it was not read, and how to read it later

    @property
    def files(self) -> dict[Path, bytes]:
        """Each file to write and its bytes, in writing order (the case file last)."""
        from .writers import dump_json

        snapshot = {
            self.snapshot_dir / CONFIG_FILE: self.config_bytes,
            self.snapshot_dir / SNAPSHOT_META_FILE: dump_json(self.snapshot_meta).encode(),
        }
        checkpoint = (
            {self.snapshot_dir / CHECKPOINT_FILE: summary_json(self.checkpoint).encode()}
            if self.checkpoint is not None
            else {}
        )
        return {
            **({} if self.already_vendored else snapshot),
            **checkpoint,
            self.case_path: self.case_text.encode(),
        }


@dataclass(frozen=True)
class _Source:
    """The config to vendor: parsed, its bytes, its revision, provenance and where it was read."""

    config: dict[str, Any]
    data: bytes
    revision: str | None
    provenance: str
    path: Path


def _read_source_config(
    hf_id: str,
    config_path: str | os.PathLike[str] | None,
    revision: str | None,
    *,
    offline: bool | None,
    token: str | None,
) -> _Source:
    """The config from --config, else the HF cache or the Hub, pinned to the commit it came from."""
    if config_path is not None:
        path = Path(config_path)
        if path.is_dir():
            path = path / CONFIG_FILE
        if not (path.exists() or path.is_symlink()):  # a FIFO or device is refused by its kind
            raise ConfigNotFoundError(
                f"--config {path} does not exist; pass the model's config.json downloaded "
                f"from {_HUB}/{hf_id}"
            )
        config, data = load_config_file(path)
        return _Source(config, data, revision, f"file given to `harness add` ({path.name})", path)
    try:
        resolved = get_remote_config(hf_id, revision, offline=offline, token=token)
    except OfflineSnapshotMissingError:
        raise ConfigNotFoundError(
            f"offline mode: {hf_id} is not in the HF cache; pass its config.json with "
            f"`harness add {hf_id} --config path/to/config.json`, or run online"
        ) from None
    assert resolved.path is not None
    path = Path(resolved.path)
    config, data = load_config_file(path)
    commit = path.parent.name  # HF cache layout: snapshots/<commit>/config.json
    pinned = commit if is_pinned_revision(commit) else revision
    return _Source(config, data, pinned, f"hub:{hf_id}@{pinned or 'main'}", path)


def todo_claims(result: BuildResult) -> tuple[str, ...]:
    """The public claims a new case leaves TODO: the total, and the active count of an MoE."""
    config = result.config
    moe = config.get("active_params", config["total_params"]) != config["total_params"]
    return ("total_params", "active_params") if moe else ("total_params",)


def _checkpoint_todo(hf_id: str) -> str:
    """The TODO source of an unread checkpoint claim: how to fill it, or drop it with a reason."""
    return (
        f"TODO: {refresh_hint(hf_id)}, or offline `--total N --source URL`; with no exact "
        "stored total known, replace this claim by a comment saying so"
    )


def checkpoint_claim_lines(
    hf_id: str, result: BuildResult, summary: CheckpointSummary | None, indent: str = "        "
) -> list[str]:
    """The `checkpoint_params` claim: filled from a summary (terms from reconcile), else TODO."""
    from .pipeline.reconcile import reconcile

    name = repr(CHECKPOINT_FACT)
    if summary is None:
        return [
            f"{indent}{name}: CheckpointClaim(",
            f"{indent}    TODO,",
            # Offline there is no stored total to fill in: say both ways forward.
            f"{indent}    source={_checkpoint_todo(hf_id)!r},",
            f"{indent}),",
        ]
    rec = reconcile(result.inspection, result.structure, summary)
    how = "read from the safetensors headers" if summary.has_headers else summary.obtained
    at = f" at {summary.revision}" if summary.revision else ""
    lines = [
        f"{indent}{name}: CheckpointClaim(",
        f"{indent}    {summary.total:_},",
        f"{indent}    scope={f'hub safetensors total{at} ({how})'!r},",
        f"{indent}    source={summary.source!r},",
    ]
    if rec.explained:
        reason = "; ".join(f"{t.kind} {t.params:+,}: {t.detail}" for t in rec.terms)
        lines += [
            f"{indent}    expected_difference={rec.explained:_},",
            f"{indent}    reason={reason!r},",
        ]
    if rec.unexplained:
        lines += [
            f"{indent}    unexplained={rec.unexplained:_},",
            f"{indent}    unexplained_reason='TODO: no term explains this; find out why',",
        ]
    return [*lines, f"{indent}),"]


def case_source(
    hf_id: str,
    revision: str | None,
    result: BuildResult,
    *,
    trust_remote_code: bool = False,
    checkpoint: CheckpointSummary | None = None,
    native_class: bool = False,
) -> str:
    """The Python text of a new case file: observed structural facts, TODO public claims."""
    from .pipeline.check import observed_facts

    observed = observed_facts(result)
    config_url = f"{_HUB}/{hf_id}/blob/{revision or 'main'}/{CONFIG_FILE}"
    claims = todo_claims(result)
    lines = [
        f'"""{hf_id}: public facts, each with its source; claims with their scope.',
        "",
        "Scaffolded by `harness add`. Fill in every TODO claim from a public source (model card,",
        "paper, official blog or the Hub's safetensors total) and say what it counts (its scope).",
        "The structural facts were read from config.json: confirm each against the model card or",
        "paper and cite that instead.",
        '"""',
        "",
        "from harness import TODO, CheckpointClaim, Claim, Fact, ModelCase",
        "",
        f"CONFIG = {config_url!r}",
        f"PREFILLED = {_PREFILLED_NOTE!r}",
        "",
        "CASE = ModelCase(",
        f"    hf_id={hf_id!r},",
        f"    revision={revision!r},",
        *(["    trust_remote_code=True,"] if trust_remote_code else []),
        *(["    native_class=True,"] if native_class else []),
        "    facts={",
    ]
    for name in claims:
        lines += [
            f"        {name!r}: Claim(",
            "            TODO,",
            "            scope='TODO: what the published figure counts',",
            "            source='TODO: the page that publishes it',",
            "        ),",
        ]
    lines += checkpoint_claim_lines(hf_id, result, checkpoint)
    lines += [
        f"        {name!r}: Fact({observed[name]!r}, source=CONFIG, note=PREFILLED),"
        for name in STRUCTURE_FACTS
        if observed.get(name) is not None
    ]
    lines += ["    },", "    sources=[CONFIG],", ")", ""]
    return "\n".join(lines)


def _refuse_existing(
    hf_id: str, case_path: Path, cases_dir: Path, config_bytes: bytes, snapshot_dir: Path
) -> None:
    if case_path.exists():
        raise CaseError(
            f"{case_path} already exists; edit it, or delete it first to scaffold {hf_id} again"
        )
    for path in case_files(cases_dir):
        # Read, never imported: `add` does not run the other case files of the folder.
        if declared_hf_id(path) == hf_id:
            raise CaseError(f"{path} already declares {hf_id}; edit that case instead")
    vendored = snapshot_dir / CONFIG_FILE
    meta_path = snapshot_dir / SNAPSHOT_META_FILE
    if (meta_path.exists() or meta_path.is_symlink()) and not vendored.exists():
        raise CaseError(
            f"{meta_path} exists but {vendored} does not: a snapshot.json without its config "
            f"would make a case that cannot build; delete {snapshot_dir} or restore config.json"
        )
    if vendored.exists() and load_config_file(vendored)[1] != config_bytes:
        raise CaseError(
            f"{vendored} already holds a different config for {hf_id}; delete "
            f"{snapshot_dir} to vendor the new one (goldens and gap reports will change)"
        )


def _vendored_meta(snapshot_dir: Path, revision: str | None) -> dict[str, Any] | None:
    """The snapshot.json of an identical config already vendored, checked against --revision."""
    meta_path = snapshot_dir / SNAPSHOT_META_FILE
    if not meta_path.is_file():
        return None
    meta, _ = load_config_file(meta_path)
    recorded = meta.get("revision")
    if revision is not None and recorded is not None and revision != recorded:
        raise CaseError(
            f"{meta_path} records revision {recorded!r} for this config, not {revision!r}; "
            "drop --revision, or delete the snapshot folder to vendor it again"
        )
    return meta


def prepare_scaffold(
    hf_id: str,
    *,
    config_path: str | os.PathLike[str] | None = None,
    revision: str | None = None,
    cases_dir: str | os.PathLike[str] = "cases",
    offline: bool | None = None,
    token: str | None = None,
    trust_remote_code: bool = False,
    native_class: bool = False,
) -> Scaffold:
    """Read the config, dry-run it and render the snapshot and case file, writing nothing."""
    from .pipeline.inventory import inspect_resolved

    if not is_hf_id(hf_id):
        raise CaseError(
            f"{hf_id!r} is not a Hub id of the form 'org/name'; `harness add` names the case and "
            "the snapshot folder after it (pass the config file with --config)"
        )
    if revision is not None and not is_valid_revision(revision):
        raise CaseError(
            f"--revision {revision!r} is not a branch, tag or commit name; pass the 40-hex "
            f"commit of {hf_id} the config comes from"
        )
    cases = Path(cases_dir)
    source = _read_source_config(hf_id, config_path, revision, offline=offline, token=token)
    snapshot_dir = snapshot_dir_for(hf_id, cases / "configs")
    case_path = cases / case_file_name(hf_id)
    _refuse_existing(hf_id, case_path, cases, source.data, snapshot_dir)
    existing = _vendored_meta(snapshot_dir, revision)
    pinned = existing.get("revision") if existing is not None else source.revision
    if trust_remote_code and not is_pinned_revision(pinned):
        raise CaseError(
            f"{hf_id}: --trust-remote-code needs --revision with the 40-hex commit whose code "
            "you reviewed; the case records it so the same code is used every time"
        )
    digest = sha256_of(source.data)
    resolved = ResolvedConfig(
        model=hf_id,
        config=source.config,
        source=ConfigSource.FILE,
        sha256=digest,
        hf_id=hf_id,
        path=str(source.path),
        revision=pinned,
        provenance=source.provenance,
        offline=offline_requested(offline),  # reaches the opted-in remote-code fetch too
        native_class=native_class,
    )
    inspection = inspect_resolved(resolved, trust_remote_code=trust_remote_code, revision=pinned)
    result = build_from_inspection(inspection)
    checkpoint, checkpoint_note = read_checkpoint(hf_id, pinned, offline=offline, token=token)
    meta = existing or {
        "hf_id": hf_id,
        "revision": pinned,
        "sha256": digest,
        "provenance": source.provenance,
        "claims": {"meta_total_params": result.config["total_params"]},
    }
    return Scaffold(
        hf_id,
        pinned,
        case_path,
        snapshot_dir,
        source.data,
        meta,
        case_source(
            hf_id,
            pinned,
            result,
            trust_remote_code=trust_remote_code,
            checkpoint=checkpoint,
            native_class=native_class,
        ),
        result,
        already_vendored=existing is not None,
        checkpoint=checkpoint,
        checkpoint_note=checkpoint_note,
    )


def read_checkpoint(
    hf_id: str, revision: str | None, *, offline: bool | None, token: str | None
) -> tuple[CheckpointSummary | None, str]:
    """The Hub's safetensors metadata for the pinned revision, or None and what to do later."""
    if offline_requested(offline):
        return None, f"offline: the checkpoint total was not read; later, {refresh_hint(hf_id)}"
    try:
        return read_hub_checkpoint(hf_id, revision, token=token), ""
    except CheckpointUnavailableError as exc:
        return None, f"{exc}; later, {refresh_hint(hf_id)}"


def add_model(scaffold: Scaffold) -> list[Path]:
    """Write the scaffold's files as one output: all of them, or (on a failure) none."""
    from .writers import holds, write_files

    return write_files(
        {path: data for path, data in scaffold.files.items() if not holds(path, data)}
    )


def next_steps(scaffold: Scaffold) -> list[str]:
    """What the person who ran `harness add` does next, in order."""
    claims = todo_claims(scaffold.result)
    case = scaffold.case_path.as_posix()
    checkpoint = (
        f"; checkpoint_params is TODO too: {scaffold.checkpoint_note}"
        if scaffold.checkpoint is None
        else ""
    )
    return [
        f"fill in the TODO claims ({', '.join(claims)}) in {case} with public sources; "
        f"check the pre-filled structural facts against the model card and cite it{checkpoint}",
        "run `python3 -m nox -s conformance`: the TODO claims fail until they are filled, the "
        "golden and gap reports are missing until step 3",
        "run `python3 -m nox -s snapshots` to write the golden config and the gap reports, "
        "and review the printed diff",
        f"commit {case}, {scaffold.snapshot_dir.as_posix()}/, golden/ and gaps/ together",
    ]


def vendor_checkpoint(
    hf_id: str,
    *,
    cases_dir: str | os.PathLike[str] = "cases",
    offline: bool | None = None,
    token: str | None = None,
    recorded: CheckpointSummary | None = None,
    native_class: bool = False,
) -> tuple[Path, CheckpointSummary, BuildResult]:
    """Write checkpoint.json beside a vendored config: from the Hub, or a recorded summary.

    `native_class`: the model's case opts in to building the transformers class its config names
    behind `auto_map` (as `harness build --native-class`); without it such a config is refused.
    """
    from .api import build_model_config
    from .pipeline.resolve import get_model_config

    snapshot_dir = snapshot_dir_for(hf_id, Path(cases_dir) / "configs")
    if not (snapshot_dir / CONFIG_FILE).is_file():
        raise CaseError(
            f"{hf_id} has no vendored config in {snapshot_dir}; run `harness add {hf_id}` first"
        )
    resolved = get_model_config(hf_id, offline=True, snapshots_dir=Path(cases_dir) / "configs")
    if recorded is None:
        if offline_requested(offline):
            raise CheckpointUnavailableError(
                f"offline: {hf_id}'s safetensors metadata needs the Hub; run online, or vendor a "
                "recorded total with --total N --source URL"
            )
        summary = read_hub_checkpoint(hf_id, resolved.revision, token=token)
    else:
        summary = recorded
    result = build_model_config(resolved.path or hf_id, offline=True, native_class=native_class)
    from .writers import atomic_write_text

    path = atomic_write_text(snapshot_dir / CHECKPOINT_FILE, summary_json(summary))
    return path, summary, result
