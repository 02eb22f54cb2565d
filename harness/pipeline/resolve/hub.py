"""The HF cache and the Hub: offline by request, one bounded first request, clear errors."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from ...errors import ConfigNotFoundError, GatedRepoError, OfflineSnapshotMissingError
from .json_text import load_config_file
from .records import (
    CONFIG_FILE,
    ConfigSource,
    ResolvedConfig,
    _shown,
    is_hf_id,
    is_valid_revision,
    sha256_of,
)

__all__ = ["get_remote_config", "hub_offline", "offline_requested"]


HUB_TIMEOUT = 5.0  # seconds for the harness's first Hub request; no network fails within it


def offline_requested(offline: bool | None) -> bool:
    """Offline when the caller says so, else when HF_HUB_OFFLINE is set to a true value."""
    if offline is not None:
        return offline
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


@contextlib.contextmanager
def hub_offline(offline: bool = True) -> Iterator[None]:
    """While inside (when `offline`), huggingface_hub refuses every HTTP request, whichever
    library makes it (transformers' remote-code fetch included)."""
    if not offline:
        yield
        return
    from huggingface_hub import constants

    previous = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = previous


@contextlib.contextmanager
def _quiet_hub() -> Iterator[None]:
    """huggingface_hub's retry warnings are not the harness's output: one error line is."""
    logger = logging.getLogger("huggingface_hub")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


@contextlib.contextmanager
def _one_hub_request() -> Iterator[None]:
    """hf_hub_download as one request: without its second round (after a failed first request
    with nothing cached it retries five times with backoff, about 20 s with no network) and
    without the telemetry side-request its user-agent header makes once per process (an agent
    registry fetch with its own 3 s timeout). The harness asks once, within HUB_TIMEOUT, and
    says what to do instead."""
    from huggingface_hub import constants, file_download

    patched = {
        (file_download, "_DEFAULT_RETRY_ON_EXCEPTIONS"): (),
        (file_download, "_DEFAULT_RETRY_ON_STATUS_CODES"): (),
        (constants, "HF_HUB_DISABLE_TELEMETRY"): True,
    }
    previous = {place: getattr(*place) for place in patched if hasattr(*place)}
    for (module, name), value in patched.items():
        if (module, name) in previous:
            setattr(module, name, value)
    try:
        yield
    finally:
        for (module, name), value in previous.items():
            setattr(module, name, value)


def _is_network_error(exc: BaseException) -> bool:
    try:
        import httpx2
    except ImportError:  # pragma: no cover - huggingface_hub depends on it
        return isinstance(exc, OSError | TimeoutError)
    return isinstance(exc, httpx2.TransportError | OSError | TimeoutError)


def get_remote_config(
    hf_id: str,
    revision: str | None = None,
    *,
    offline: bool | None = None,
    token: str | None = None,
    snapshots_dir: str | Path = "cases/configs",
) -> ResolvedConfig:
    """`hf_id`'s config from the HF cache, else from the Hub unless offline; never a snapshot."""
    if not is_hf_id(hf_id):
        raise ConfigNotFoundError(
            f"{_shown(hf_id)} is not a Hub id of the form 'org/name'; "
            "pass an id such as meta-llama/Llama-3.2-1B"
        )
    if revision is not None and not is_valid_revision(revision):
        raise ConfigNotFoundError(
            f"revision {_shown(revision)} of {hf_id} is not a branch, tag or commit name "
            "(letters, digits, '.', '_', '-', '/'; no '..'); pass e.g. main or a 40-hex commit"
        )
    cached = _from_hf_cache(hf_id, revision)
    if cached is not None:
        return cached
    if offline_requested(offline):
        raise OfflineSnapshotMissingError(
            f"offline mode: no vendored snapshot of {hf_id} in {snapshots_dir} and none in the "
            f"HF cache; vendor one with `harness add {hf_id} --config path/to/config.json`, "
            "or run online once without --offline / HF_HUB_OFFLINE"
        )
    return _from_hub(hf_id, revision, token)


def _from_hf_cache(hf_id: str, revision: str | None) -> ResolvedConfig | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(hf_id, CONFIG_FILE, revision=revision)
    if not isinstance(found, str):
        return None
    path = Path(found)
    config, data = load_config_file(path)
    return ResolvedConfig(
        model=hf_id,
        config=config,
        source=ConfigSource.HF_CACHE,
        sha256=sha256_of(data),
        hf_id=hf_id,
        path=str(path),
        revision=revision,
    )


def _from_hub(hf_id: str, revision: str | None, token: str | None) -> ResolvedConfig:
    from huggingface_hub import errors as hub_errors
    from huggingface_hub import hf_hub_download

    try:
        with _quiet_hub(), _one_hub_request():
            downloaded = hf_hub_download(
                hf_id, CONFIG_FILE, revision=revision, token=token, etag_timeout=HUB_TIMEOUT
            )
    except hub_errors.GatedRepoError:
        raise GatedRepoError(
            f"{hf_id} is gated: accept its licence on its Hub page, then authenticate with "
            "`hf auth login` or set HF_TOKEN, or vendor its config.json with `harness add`"
        ) from None
    except hub_errors.RevisionNotFoundError:
        raise ConfigNotFoundError(
            f"revision {revision!r} of {hf_id} does not exist on the Hub; "
            "check the branch, tag or commit sha"
        ) from None
    except hub_errors.RepositoryNotFoundError:
        raise ConfigNotFoundError(
            f"{hf_id} was not found on the Hub (or it is private); check the id, "
            "or authenticate with `hf auth login` / HF_TOKEN if it is private"
        ) from None
    except hub_errors.LocalEntryNotFoundError as exc:
        raise _unreachable(hf_id, exc) from None
    except hub_errors.EntryNotFoundError:
        raise ConfigNotFoundError(
            f"{hf_id} has no config.json at revision {revision or 'main'}; "
            "it may not be a transformers model"
        ) from None
    except hub_errors.HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise ConfigNotFoundError(
            f"the Hub answered HTTP {status or 'error'} for {hf_id}'s config.json; "
            "if the repository is private check your token (`hf auth login` / HF_TOKEN), "
            "else retry later or vendor its config.json with `harness add`"
        ) from None
    except Exception as exc:  # network and validation errors; their text may carry the token
        if _is_network_error(exc):
            raise _unreachable(hf_id, exc) from None
        raise ConfigNotFoundError(
            f"could not download {hf_id}'s config.json from the Hub ({type(exc).__name__}); "
            "work offline with a vendored snapshot (`harness add`) or check the network and id"
        ) from None
    path = Path(downloaded)
    config, data = load_config_file(path)
    return ResolvedConfig(
        model=hf_id,
        config=config,
        source=ConfigSource.HUB,
        sha256=sha256_of(data),
        hf_id=hf_id,
        path=str(path),
        revision=revision,
    )


def _unreachable(hf_id: str, exc: BaseException) -> ConfigNotFoundError:
    return ConfigNotFoundError(
        f"could not reach the Hub for {hf_id} ({type(exc).__name__}): no network? Pass --offline "
        "(or set HF_HUB_OFFLINE=1) to use only vendored snapshots and the HF cache, vendor the "
        f"config with `harness add {hf_id} --config config.json`, or check the network"
    )
