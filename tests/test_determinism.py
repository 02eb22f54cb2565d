"""Determinism and safe writes: the same inputs give the same bytes, whatever the hash seed; a
write either lands whole or leaves the old file; concurrent writers never corrupt a file.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness import errors, writers
from harness.api import build_model_config
from harness.output import tensors_csv, write_build
from harness.plugin import GoldenExtension
from harness.writers import atomic_write_text, dump_json

from .conftest import ROOT

MODELS = ("openai/gpt-oss-20b", "deepseek-ai/DeepSeek-V3", "Qwen/Qwen3-Next-80B-A3B-Instruct")
RUN = """
import sys
from harness.cli import main

out, models = sys.argv[1], sys.argv[2:]
for model in models:
    slug = model.replace("/", "_")
    assert main(["build", model, "--out", f"{out}/build", "--offline", "--no-cache"]) == 0
    tensors = f"{out}/tensors/{slug}.json"
    assert main(["inspect", model, "--offline", "--tensors-out", tensors]) == 0
assert main(["gaps", *models, "--out", f"{out}/gaps", "--offline"]) == 0
"""


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_outputs_are_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    """Two processes with different PYTHONHASHSEED write the same build JSON, CSV and gap reports,
    and the build JSON of a case model is its reviewed golden file, byte for byte."""
    runs = {}
    for seed in ("0", "4242"):
        env = dict(
            os.environ,
            PYTHONHASHSEED=seed,
            HF_HUB_OFFLINE="1",
            HARNESS_CACHE_DIR=str(tmp_path / f"cache-{seed}"),
        )
        out = tmp_path / f"seed-{seed}"
        runs[seed] = (
            out,
            subprocess.Popen(
                [sys.executable, "-c", RUN, str(out), *MODELS],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
    outputs = {}
    for seed, (out, process) in runs.items():
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        outputs[seed] = tree(out)
    first, second = outputs.values()
    assert first == second
    assert {name.split("/")[0] for name in first} == {"build", "tensors", "gaps"}
    assert sum(name.startswith("gaps/") for name in first) >= 4
    for model in MODELS:
        slug = model.replace("/", "_")
        assert first[f"build/{slug}.json"] == (ROOT / "golden" / f"{slug}.json").read_bytes()


def test_a_build_from_the_cache_writes_the_same_bytes(tmp_path: Path) -> None:
    cold = build_model_config(MODELS[0], offline=True, use_cache=False)
    stored = build_model_config(MODELS[0], offline=True, use_cache=True)
    warm = build_model_config(MODELS[0], offline=True, use_cache=True)
    texts = {(dump_json(r.config), tensors_csv(r.inspection.tensors)) for r in (cold, stored, warm)}
    assert len(texts) == 1


# --- one write, interrupted


class Boom(Exception):
    """Stands for anything that stops a write half way."""


class HalfWriter:
    """A file object that writes half of what it is given, then fails."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __enter__(self) -> HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.close()

    def write(self, data: bytes) -> int:
        self.stream.write(data[: len(data) // 2])
        self.stream.flush()
        raise Boom("disk went away")


def fail_in_write(monkeypatch: pytest.MonkeyPatch) -> type[BaseException]:
    fdopen = os.fdopen
    monkeypatch.setattr(writers.os, "fdopen", lambda fd, mode: HalfWriter(fdopen(fd, mode)))
    return Boom


def fail_in_chmod(monkeypatch: pytest.MonkeyPatch) -> type[BaseException]:
    def chmod(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(writers.os, "chmod", chmod)
    return errors.OutputWriteError


def fail_in_rename(monkeypatch: pytest.MonkeyPatch) -> type[BaseException]:
    def replace(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writers.os, "replace", replace)
    return KeyboardInterrupt


@pytest.mark.parametrize(
    "interrupt", [fail_in_write, fail_in_chmod, fail_in_rename], ids=["write", "chmod", "rename"]
)
def test_an_interrupted_write_keeps_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interrupt: Any
) -> None:
    target = tmp_path / "model.json"
    target.write_text('{"old": true}\n')
    raised = interrupt(monkeypatch)
    with pytest.raises(raised):
        atomic_write_text(target, dump_json({"new": list(range(10_000))}))
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_a_config_that_cannot_be_rendered_writes_nothing(tmp_path: Path) -> None:
    result = build_model_config("meta-llama/Llama-3.2-1B", offline=True)
    broken = dataclasses.replace(result, config={**result.config, "bad": float("nan")})
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_build(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_golden_snapshots_are_written_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """syrupy's own writer opens the file in place; the golden extension goes through ours."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(writers, "atomic_write_text", lambda path, text: calls.append((path, text)))

    class Collection:
        location = str(tmp_path / "golden" / "x.json")

        def __iter__(self) -> Any:
            return iter([type("Snapshot", (), {"data": "{}\n"})()])

    GoldenExtension.write_snapshot_collection(snapshot_collection=Collection())
    assert calls == [(Collection.location, "{}\n")]


# --- every writer goes through harness.writers

WRITE_CALLS = {"write_text", "write_bytes", "mkstemp", "NamedTemporaryFile", "replace", "rename"}
WRITE_MODES = ("w", "a", "x", "+")


def direct_writes(source: str, name: str) -> list[str]:
    """`name:line call` for each call in `source` that writes a file without harness.writers."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value if isinstance(func, ast.Attribute) else None
        if called in {"replace", "rename"} and not (
            isinstance(owner, ast.Name) and owner.id in {"os", "shutil"}
        ):
            continue
        mode = next((a for a in node.args[1:2]), None)
        mode = mode or next((k.value for k in node.keywords if k.arg == "mode"), None)
        opens_for_write = (
            called in {"open", "fdopen"}
            and isinstance(mode, ast.Constant)
            and any(flag in str(mode.value) for flag in WRITE_MODES)
        )
        if called in WRITE_CALLS or opens_for_write or called.startswith("copy"):
            found.append((node.lineno, f"{name}:{node.lineno} {called}"))
    return [text for _, text in sorted(found)]


def test_every_file_is_written_through_harness_writers() -> None:
    offenders = [
        hit
        for path in sorted((ROOT / "harness").rglob("*.py"))
        if path != ROOT / "harness" / "writers.py"
        for hit in direct_writes(path.read_text(encoding="utf-8"), path.name)
    ]
    assert offenders == []


def test_the_write_scan_catches_direct_writes() -> None:
    source = (
        "import os, shutil\n"
        "from pathlib import Path\n"
        "Path('a').write_text('x')\n"
        "open('b', 'w').write('x')\n"
        "open('c', mode='ab')\n"
        "os.replace('d', 'e')\n"
        "shutil.copyfile('f', 'g')\n"
        "open('h').read()\n"
        "'text'.replace('a', 'b')\n"
    )
    assert direct_writes(source, "m.py") == [
        "m.py:3 write_text",
        "m.py:4 open",
        "m.py:5 open",
        "m.py:6 replace",
        "m.py:7 copyfile",
    ]


# --- two processes writing the same outputs

WRITER = """
import sys
from harness.writers import atomic_write_text

target, source, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(source, encoding="utf-8").read()
for _ in range(rounds):
    atomic_write_text(target, text)
"""


def test_concurrent_writers_never_corrupt_the_file(tmp_path: Path) -> None:
    versions = []
    for model in MODELS[:2]:
        result = build_model_config(model, offline=True)
        versions.append(dump_json(result.config) + " " * 200_000 + "\n")
    sources = []
    for index, text in enumerate(versions):
        source = tmp_path / f"version-{index}.json"
        source.write_text(text, encoding="utf-8")
        sources.append(source)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "model.json"
    target.write_text(versions[0], encoding="utf-8")
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(source), "150"], cwd=ROOT)
        for source in sources
    ]
    reads = 0
    while any(p.poll() is None for p in processes) or reads < 20:
        text = target.read_text(encoding="utf-8")
        assert text in versions, f"read {len(text)} characters that are neither version"
        json.loads(text)
        reads += 1
        time.sleep(0.001)
    assert [p.wait(timeout=120) for p in processes] == [0, 0]
    assert target.read_text(encoding="utf-8") in versions
    assert [p.name for p in out.iterdir()] == ["model.json"]
    assert reads >= 20
