"""Tokens: a Hugging Face token, from HF_TOKEN or the `token=` argument, reaches huggingface_hub
and nothing else: not error messages or tracebacks, not logs, not stdout/stderr, not the
config, tensor CSV, gap reports or cache entries the harness writes.

The Hub is faked: `hf_hub_download` records the token it is given and either raises an error that
carries the token in its message, URL and headers (as a real HTTP error can), or serves a local
config.json.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from huggingface_hub import errors as hub_errors

from harness import errors
from harness.api import build_model_config
from harness.cli import main
from harness.gaps import write_gap_reports
from harness.output import save_tensor_inspection, write_build
from harness.pipeline.resolve import get_model_config

from .conftest import TINY_LLAMA

TOKEN = "hf_FAKEtokenDoNotUse1234567890abcdef"
PLAIN_TOKEN = "not-shaped-like-hf-0451"
MODEL = "org/private-model"


def leaky(cls: type[Exception], token: str) -> Exception:
    """A huggingface_hub error whose message, request URL and headers all carry `token`."""
    url = f"https://huggingface.co/{MODEL}/resolve/main/config.json?token={token}"
    message = f"401 Client Error for url {url} (Authorization: Bearer {token})"
    if issubclass(cls, hub_errors.HfHubHTTPError):
        request = httpx2.Request("GET", url, headers={"authorization": f"Bearer {token}"})
        response = httpx2.Response(401, request=request, headers={"x-echo": token})
        return cls(message, response=response)
    return cls(message)


HUB_ERRORS: list[type[Exception]] = [
    hub_errors.GatedRepoError,
    hub_errors.RepositoryNotFoundError,
    hub_errors.RevisionNotFoundError,
    hub_errors.RemoteEntryNotFoundError,
    hub_errors.HfHubHTTPError,
    hub_errors.LocalEntryNotFoundError,
    hub_errors.OfflineModeIsEnabled,
    hub_errors.HFValidationError,
    ConnectionError,
    ValueError,
    RuntimeError,
]


class FakeHub:
    """Stands in for hf_hub_download: records each token, then raises or serves a file."""

    def __init__(self, outcome: Callable[[str], Any]) -> None:
        self.tokens: list[object] = []
        self.outcome = outcome

    def __call__(self, *args: object, token: object = None, **kwargs: object) -> Any:
        self.tokens.append(token)
        return self.outcome(str(token))


def assert_no_token(*texts: str, token: str = TOKEN) -> None:
    """None of `texts` holds the token or a long piece of it."""
    for text in texts:
        assert token not in text
        assert token[-16:] not in text


def rendered(error: BaseException) -> str:
    """Everything Python would print about an error: message, repr, args and full traceback."""
    return "\n".join(
        [str(error), repr(error), repr(error.args), *traceback.format_exception(error)]
    )


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Online mode (the Hub is faked), every log record captured."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize("cls", HUB_ERRORS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("token", [TOKEN, PLAIN_TOKEN], ids=["hf-shaped", "plain"])
def test_error_hub_failures_never_echo_the_token_argument(
    online: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    cls: type[Exception],
    token: str,
) -> None:
    def fail(given: str) -> Any:
        raise leaky(cls, given)

    hub = FakeHub(fail)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", hub)
    with pytest.raises(errors.ConfigNotFoundError) as caught:
        get_model_config(MODEL, offline=False, token=token)
    assert hub.tokens == [token]
    assert MODEL in str(caught.value)
    captured = capsys.readouterr()
    assert_no_token(rendered(caught.value), caplog.text, captured.out, captured.err, token=token)


@pytest.mark.parametrize("cls", HUB_ERRORS, ids=lambda cls: cls.__name__)
def test_error_cli_with_hf_token_prints_no_token(
    online: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cls: type[Exception],
) -> None:
    def fail(given: str) -> Any:
        raise leaky(cls, given)

    hub = FakeHub(fail)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", hub)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    out = tmp_path / "out"
    assert main(["build", MODEL, "--out", str(out)]) == 2
    assert hub.tokens == [TOKEN]
    captured = capsys.readouterr()
    assert captured.err.startswith("harness build: error: ")
    assert_no_token(captured.out, captured.err, caplog.text)
    assert not out.exists()


def test_a_served_config_with_a_token_leaves_no_trace_in_any_output(
    online: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    write_config,
) -> None:
    served = write_config(dict(TINY_LLAMA, tie_word_embeddings=True))
    hub = FakeHub(lambda given: str(served))
    monkeypatch.setattr("huggingface_hub.hf_hub_download", hub)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    cache = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache))
    out = tmp_path / "out"

    assert main(["build", MODEL, "--out", str(out / "cli")]) == 0
    assert main(["inspect", MODEL, "--json", "--tensors-out", str(out / "t.json")]) == 0
    result = build_model_config(MODEL, offline=False, token=TOKEN, use_cache=True)
    write_build(result, out / "library")
    save_tensor_inspection(result.inspection, out / "t.csv")
    write_gap_reports([result], out / "gaps", prune=False)

    assert hub.tokens and set(hub.tokens) == {TOKEN}
    written = sorted(p for p in [*out.rglob("*"), *cache.rglob("*")] if p.is_file())
    assert {p.suffix for p in written} >= {".json", ".csv", ".md", ".jsonl"}
    captured = capsys.readouterr()
    assert '"total_params": ' in captured.out and "wrote " in captured.out
    assert_no_token(
        captured.out,
        captured.err,
        caplog.text,
        json.dumps(result.config),
        repr(result.inspection.resolved),
        *(p.read_text(encoding="utf-8") for p in written),
    )


def test_error_build_failures_after_a_download_carry_no_token(
    online: None, monkeypatch: pytest.MonkeyPatch, write_config
) -> None:
    served = write_config(dict(TINY_LLAMA, num_key_value_heads=3))
    monkeypatch.setattr("huggingface_hub.hf_hub_download", FakeHub(lambda given: str(served)))
    with pytest.raises(errors.InvalidConfigError) as caught:
        build_model_config(MODEL, offline=False, token=TOKEN, use_cache=False)
    assert_no_token(rendered(caught.value))


@pytest.mark.parametrize(
    "leaf", [errors.HarnessError, errors.ConfigNotFoundError, errors.ModelBuildError]
)
def test_error_family_redacts_tokens_whatever_the_message(
    monkeypatch: pytest.MonkeyPatch, leaf: type[errors.HarnessError]
) -> None:
    monkeypatch.setenv("HF_TOKEN", PLAIN_TOKEN)
    error = leaf(f"transformers said: bad request with {TOKEN} and {PLAIN_TOKEN}")
    assert_no_token(rendered(error))
    assert_no_token(rendered(error), token=PLAIN_TOKEN)
    assert str(error).count(errors.REDACTED) == 2
    assert "transformers said: bad request with" in str(error)


def test_redaction_keeps_ordinary_text() -> None:
    text = "hf_model_id org/hf_model is fine; a short hf_abc too"
    assert errors.redact(text) == text
