"""Shared fixtures for the harness's own tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "cases" / "configs"


def vendored_ids() -> list[str]:
    """Every vendored model id, from the snapshot folders."""
    return sorted(
        f"{path.parent.parent.name}/{path.parent.name}"
        for path in SNAPSHOTS.glob("*/*/config.json")
    )


@cache
def case_options(hf_id: str) -> dict:
    """The build options a vendored model's case declares (a native class behind auto_map)."""
    from harness.pipeline.cases import find_case

    case = find_case(hf_id, ROOT / "cases")
    return {"native_class": True} if case is not None and case.native_class else {}


def vendor_snapshot(folder: Path, config: dict) -> Path:
    """Vendor `config` in `folder` as `harness add` does: config.json plus its snapshot.json."""
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(config).encode()
    (folder / "config.json").write_bytes(data)
    meta = {"sha256": hashlib.sha256(data).hexdigest(), "revision": None}
    (folder / "snapshot.json").write_text(json.dumps(meta))
    return folder / "config.json"


def snapshot_meta(hf_id: str) -> dict:
    """The snapshot.json of one vendored model."""
    return json.loads((SNAPSHOTS / hf_id / "snapshot.json").read_text())


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of this whole run: under xdist each worker has a folder of its own
    (`.../popen-gwN`), and their parent is the run's, shared by every worker."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The inspection cache the tests share: each model is built once per run, not per test or
    per xdist worker.

    The cache is keyed by the config's bytes and the code that computed an entry, and its writes
    are atomic, so sharing it changes no result; tests of the cache itself use `empty_cache`.
    """
    folder = run_dir(tmp_path_factory) / "harness_cache"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An inspection cache of this test's own, empty at its start."""
    folder = tmp_path_factory.mktemp("harness_cache")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _isolated_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, session_cache: Path
) -> Iterator[None]:
    """An empty HF cache and the session's harness cache, offline: no test reads a dev's caches
    or the network."""
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(session_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.chdir(ROOT)
    yield


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a config dict (or raw text) to tmp_path/<name>/config.json and return the file path."""

    def write(content: dict | str, name: str = "model") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "config.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    return write


TINY_LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 256,
    "tie_word_embeddings": False,
}

# phi: an untied LM head with a bias of vocab_size values (as phi-2's 51,200).
TINY_PHI = {
    "architectures": ["PhiForCausalLM"],
    "model_type": "phi",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "vocab_size": 256,
}


def disk_full_for(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Make harness.writers fail with ENOSPC while writing any file whose name ends in `suffix`."""
    import harness.writers

    real = harness.writers._write_temporary

    def write(target: Path, temporary: Path, data: bytes) -> None:
        if target.suffix == suffix:
            raise OSError(28, "No space left on device")
        real(target, temporary, data)

    monkeypatch.setattr(harness.writers, "_write_temporary", write)


MODEL = "meta-llama/Llama-3.2-1B"  # the model of the pytester projects: small, tied, 16 layers

CASE_FILE = """
from harness import Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="{hf_id}",
    revision=None,
    facts={{
        "total_params": Claim({total}, scope="hub total", source="https://example.org/card"),
        "num_layers": Fact({layers}, source="https://example.org/paper"),
    }},
    sources=["https://example.org/card"],
)
"""


@pytest.fixture(scope="session")
def project_template(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """A repo with one vendored snapshot, one case and its gap reports, built once per run (the
    first xdist worker to need it builds it, the others wait); pytester tests copy it instead of
    building their own."""
    from filelock import FileLock

    template = run_dir(tmp_path_factory) / "plugin_project"
    with FileLock(f"{template}.lock"):
        if not (template / "pytest.ini").is_file():
            _build_project_template(template, session_cache)
    return template


def _build_project_template(template: Path, cache: Path) -> None:
    import shutil
    import subprocess
    import sys

    template.mkdir()
    shutil.copytree(SNAPSHOTS / MODEL, template / "cases" / "configs" / MODEL)
    (template / "cases" / "test_llama.py").write_text(
        CASE_FILE.format(hf_id=MODEL, total=1_235_814_400, layers=16)
    )
    (template / "golden").mkdir()
    # In a subprocess: importing torch inside a pytester test breaks its sys.modules restore.
    generated = subprocess.run(
        [sys.executable, "-m", "harness.cli", "gaps", "--offline"],
        cwd=template,
        env={**os.environ, "HARNESS_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    # Written last: its presence says the template is complete.
    (template / "pytest.ini").write_text("[pytest]\ntestpaths = cases golden\n")
