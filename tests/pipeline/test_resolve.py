"""Config resolution: snapshot, local file, HF cache, Hub errors, offline mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import errors as hub_errors

from harness import errors
from harness.pipeline import resolve
from harness.pipeline.cases import load_cases
from harness.pipeline.resolve import get_model_config

from ..conftest import ROOT, TINY_LLAMA, vendored_ids


def _hub_error(cls: type[Exception]) -> Exception:
    """An instance of a huggingface_hub error without a real HTTP response."""
    error = cls.__new__(cls)
    Exception.__init__(error, "simulated")
    return error


def test_every_case_has_its_config_vendored_and_every_vendored_config_a_case() -> None:
    """Cases and snapshots come in pairs, however many there are (`harness add` writes both)."""
    declared = {case.hf_id for case in load_cases(ROOT / "cases")}
    assert declared, "no case files found"
    assert declared == set(vendored_ids())


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_snapshot_resolves_offline_with_matching_digest(hf_id: str) -> None:
    resolved = get_model_config(hf_id, offline=True)
    assert resolved.source == "snapshot"
    assert resolved.hf_id == hf_id
    assert resolved.sha256 == resolved.snapshot["sha256"]
    assert resolved.provenance


def test_local_file_and_folder(write_config) -> None:
    path = write_config(TINY_LLAMA)
    by_file = get_model_config(str(path))
    by_folder = get_model_config(str(path.parent))
    assert by_file.source == by_folder.source == "file"
    assert by_file.config == TINY_LLAMA
    assert by_file.sha256 == by_folder.sha256


def test_invalid_json_names_file_line_and_column(write_config) -> None:
    path = write_config('{\n  "model_type": "llama",\n  "hidden_size": 64,,\n}')
    with pytest.raises(
        errors.InvalidConfigError, match=r"config\.json is not valid JSON: .* line 3, column 21"
    ):
        get_model_config(str(path))


def test_json_that_is_not_an_object(write_config) -> None:
    with pytest.raises(errors.InvalidConfigError, match="JSON array, not an object"):
        get_model_config(str(write_config("[1, 2]")))


def test_missing_local_file_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigNotFoundError, match="no config file at"):
        get_model_config(str(tmp_path / "nope.json"))


@pytest.mark.parametrize("model", ["../../x", "a/b/c", "org/na me", "/etc", "https://evil/x"])
def test_odd_ids_are_rejected_before_any_lookup(
    model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("huggingface_hub.hf_hub_download", _fail_if_called)
    if Path(model).exists():
        with pytest.raises(errors.HarnessError):
            get_model_config(model)
        return
    with pytest.raises(errors.ConfigNotFoundError, match="neither an existing path nor a Hub id"):
        get_model_config(model, offline=False)


def _fail_if_called(*args: object, **kwargs: object) -> None:
    raise AssertionError("the network was touched")


def test_offline_without_snapshot_says_how_to_vendor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("huggingface_hub.hf_hub_download", _fail_if_called)
    with pytest.raises(
        errors.OfflineSnapshotMissingError, match="harness add some-org/some-model --config"
    ):
        get_model_config("some-org/some-model")


def test_hf_hub_offline_env_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.hf_hub_download", _fail_if_called)
    with pytest.raises(errors.OfflineSnapshotMissingError):
        get_model_config("some-org/some-model", offline=None)


@pytest.mark.parametrize(
    ("hub_error", "expected", "message"),
    [
        (hub_errors.GatedRepoError, errors.GatedRepoError, "hf auth login"),
        (hub_errors.RepositoryNotFoundError, errors.ConfigNotFoundError, "not found on the Hub"),
        (hub_errors.RevisionNotFoundError, errors.ConfigNotFoundError, "revision 'v9' of"),
        (hub_errors.EntryNotFoundError, errors.ConfigNotFoundError, "has no config.json"),
        (hub_errors.LocalEntryNotFoundError, errors.ConfigNotFoundError, "could not reach the Hub"),
    ],
)
def test_hub_errors_become_harness_errors(
    monkeypatch: pytest.MonkeyPatch,
    hub_error: type[Exception],
    expected: type[Exception],
    message: str,
) -> None:
    def raise_it(*args: object, **kwargs: object) -> None:
        raise _hub_error(hub_error)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", raise_it)
    with pytest.raises(expected, match=message):
        get_model_config("org/model", "v9", offline=False, token="hf_secret_token_value")


def test_token_reaches_the_hub_but_never_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def gated(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise _hub_error(hub_errors.GatedRepoError)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", gated)
    with pytest.raises(errors.GatedRepoError) as caught:
        get_model_config("org/model", offline=False, token="hf_secret_token_value")
    assert seen["token"] == "hf_secret_token_value"
    assert "hf_secret" not in str(caught.value)


def test_hub_download_is_used_online(monkeypatch: pytest.MonkeyPatch, write_config) -> None:
    path = write_config(TINY_LLAMA)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", lambda *a, **k: str(path))
    resolved = get_model_config("org/model", offline=False)
    assert resolved.source == "hub"
    assert resolved.config["model_type"] == "llama"


def test_hf_cache_is_used_before_the_hub(monkeypatch: pytest.MonkeyPatch, write_config) -> None:
    path = write_config(TINY_LLAMA)
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda *a, **k: str(path))
    monkeypatch.setattr("huggingface_hub.hf_hub_download", _fail_if_called)
    assert get_model_config("org/model").source == "hf-cache"


def test_tampered_snapshot_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "org" / "model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(TINY_LLAMA))
    (folder / "snapshot.json").write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(errors.InvalidConfigError, match="does not match the sha256"):
        get_model_config("org/model", snapshots_dir=tmp_path)


def test_snapshot_pinned_to_another_revision_is_skipped(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "org" / "model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(TINY_LLAMA))
    digest = resolve.sha256_of((folder / "config.json").read_bytes())
    (folder / "snapshot.json").write_text(json.dumps({"revision": "a" * 40, "sha256": digest}))
    assert get_model_config("org/model", "a" * 40, snapshots_dir=tmp_path).source == "snapshot"
    with pytest.raises(errors.OfflineSnapshotMissingError):
        get_model_config("org/model", "b" * 40, snapshots_dir=tmp_path)


def test_helpers() -> None:
    assert resolve.is_pinned_revision("0123456789abcdef0123456789abcdef01234567")
    assert not resolve.is_pinned_revision("main")
    assert (
        resolve.model_slug("meta-llama/Llama-3.3-70B-Instruct")
        == "meta-llama_Llama-3.3-70B-Instruct"
    )


def test_a_resolved_config_holds_its_source_as_the_enum_and_refuses_another() -> None:
    made = resolve.ResolvedConfig(model="m", config={}, source="hf-cache", sha256="0" * 64)
    assert made.source is resolve.ConfigSource.HF_CACHE and f"{made.source}" == "hf-cache"
    with pytest.raises(ValueError, match="'ftp' is not a valid ConfigSource"):
        resolve.ResolvedConfig(model="m", config={}, source="ftp", sha256="0" * 64)
