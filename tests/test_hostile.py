"""A hostile or unlucky user, round 2 (issue 16): one test per defect class that the bad-input
corpus (tests/test_bad_inputs.py) cannot express as "one input, one error line".

Each test feeds the harness the fault (a special file where an output goes, a foreign file in the
cache, a failure between two writes, a signal, a network that must not be touched, a cases/ folder
above the working directory, a tampered cache entry, hostile text) and asserts the promise:
nothing foreign touched, nothing half written, no network, no code from an untrusted place, no
raw control character on the terminal. Special files are made with os.mkfifo and symlinks to
/dev/null; the code under test never blocks on them, so no test needs a timeout.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import errors
from harness.api import build_model_config, inspect_cached
from harness.audit.read import _schema_findings
from harness.cache import (
    KEY_FILE,
    CacheWriteWarning,
    cache_key,
    clear_cache,
    entry_path,
    read_entry,
)
from harness.cli import main
from harness.errors import json_printable, printable
from harness.gaps import GENERATED_MARKER, write_gap_reports
from harness.output import write_build
from harness.pipeline.resolve import (
    get_model_config,
    is_hf_id,
    is_pinned_revision,
    is_valid_revision,
)
from harness.plugin import _report_text
from harness.writers import atomic_write_text

from .conftest import ROOT, TINY_LLAMA, disk_full_for

MODEL = "meta-llama/Llama-3.2-1B"
PINNED = "0123456789abcdef0123456789abcdef01234567"
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def special(path: Path, kind: str) -> str:
    """Put a FIFO, a folder or a symlink (to /dev/null or a file) at `path`; say what it is."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "device":
        if not ROOT_USER:
            pytest.skip("only root can make a device node (mknod) to stand in for /dev/null")
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    else:
        path.symlink_to(kind)
    return describe(path)


def describe(path: Path) -> str:
    """The file type and, for a symlink, its target: what must not change."""
    info = os.lstat(path)
    link = os.readlink(path) if stat.S_ISLNK(info.st_mode) else ""
    return f"{stat.S_IFMT(info.st_mode)}:{info.st_rdev}:{link}"


# ----------------------------------------------------------------- 1. special output paths

SPECIAL_KINDS = ["fifo", "folder", "device", "/dev/null"]


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_error_no_writer_replaces_a_special_file(tmp_path: Path, kind: str) -> None:
    result = build_model_config(MODEL, offline=True)
    targets = {
        "atomic": tmp_path / "a.csv",
        "build": tmp_path / f"{result.model_id}.tensors.csv",
        "gap report": tmp_path / "README.md",
    }
    writers = {
        "atomic": lambda: atomic_write_text(targets["atomic"], "x"),
        "build": lambda: write_build(result, tmp_path),
        "gap report": lambda: write_gap_reports([result], tmp_path, prune=False),
    }
    for name, target in targets.items():
        before = special(target, kind)
        with pytest.raises(errors.OutputWriteError, match="not a regular file"):
            writers[name]()
        assert describe(target) == before, name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(t.name for t in targets.values())


@pytest.mark.parametrize("kind", ["fifo", "/dev/null"])
def test_error_tensors_out_is_refused_before_the_build(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "tensors.csv"
    before = special(target, kind)
    monkeypatch.setattr("harness.api.inspect_model_structure", _must_not_build)
    assert main(["inspect", MODEL, "--offline", "--tensors-out", str(target)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert describe(target) == before


def _must_not_build(*args: object, **kwargs: object) -> None:
    raise AssertionError("the model was built although the output path is refused")


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_error_a_special_cache_entry_is_neither_read_nor_replaced(
    tmp_path: Path, kind: str
) -> None:
    resolved = get_model_config(MODEL, offline=True)
    entry = entry_path(cache_key(resolved), tmp_path)
    entry.parent.mkdir(parents=True)
    before = special(entry, kind)
    with pytest.warns(CacheWriteWarning, match="not a regular file"):
        inspection = inspect_cached(resolved, directory=tmp_path)
    assert inspection.total_params > 0
    assert read_entry(cache_key(resolved), tmp_path).status == "corrupt"
    assert describe(entry) == before


# ----------------------------------------------------------------- 2. cache clear


def test_cache_clear_deletes_only_what_the_harness_wrote(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    resolved = get_model_config(MODEL, offline=True)
    inspect_cached(resolved, directory=cache)
    entries = cache / "entries"
    outside = tmp_path / "precious.txt"
    outside.write_text("mine")
    foreign = {
        "notes.txt": "my notes",
        f"{'b' * 64}.inspection.jsonl": "looks like an entry, is not one",
        ".cache.swp": "an editor's file",
    }
    for name, text in foreign.items():
        (entries / name).write_text(text)
    (entries / f"{'c' * 64}.flops.jsonl").symlink_to(outside)
    (entries / "sub").mkdir()
    result = clear_cache(cache)
    assert result.removed == 1
    left = sorted(p.name for p in entries.iterdir())
    assert left == sorted([*foreign, f"{'c' * 64}.flops.jsonl", "sub"])
    assert sorted(result.left) == left
    assert outside.read_text() == "mine"
    assert not (cache / KEY_FILE).exists()
    assert "left 5 files the harness did not write" in result.lines()[1]


# ----------------------------------------------------------------- 3. the JSON + CSV pair


@pytest.fixture
def built(tmp_path: Path) -> tuple[Any, Path, dict[str, str]]:
    """A build of the tiny Llama and an out folder holding an older pair of its files."""
    config = tmp_path / "model" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps(TINY_LLAMA))
    result = build_model_config(str(config), offline=True, use_cache=False)
    out = tmp_path / "out"
    out.mkdir()
    old = {"model.json": "old json\n", "model.tensors.csv": "old csv\n"}
    for name, text in old.items():
        (out / name).write_text(text)
    return result, out, old


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_error_disk_full_on_the_csv_leaves_both_old_files(
    built: tuple[Any, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, out, old = built
    disk_full_for(monkeypatch, ".csv")
    with pytest.raises(errors.OutputWriteError, match="No space left on device"):
        write_build(result, out)
    assert contents(out) == old


def test_error_a_failed_second_rename_restores_the_first_file(
    built: tuple[Any, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, out, old = built
    real = os.replace

    def fail_on_csv(source: Any, target: Any) -> None:
        if str(target).endswith(".tensors.csv"):
            raise OSError(5, "Input/output error")
        real(source, target)

    monkeypatch.setattr(os, "replace", fail_on_csv)
    with pytest.raises(errors.OutputWriteError, match="Input/output error"):
        write_build(result, out)
    monkeypatch.undo()
    assert contents(out) == old


def test_a_successful_build_replaces_both(built: tuple[Any, Path, dict[str, str]]) -> None:
    result, out, old = built
    write_build(result, out)
    new = contents(out)
    assert sorted(new) == sorted(old)
    assert all(new[name] != old[name] for name in old)


# ----------------------------------------------------------------- 4. signals during a write

SIGNALS = [s for s in ("SIGTERM", "SIGHUP") if hasattr(signal, s)]


@pytest.mark.parametrize("name", SIGNALS)
def test_error_a_signal_during_a_write_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """In-process, with a handler installed first: the write is undone, then that handler runs."""
    import harness.writers

    signum = getattr(signal, name)
    received: list[int] = []
    previous = signal.signal(signum, lambda number, frame: received.append(number))
    target = tmp_path / "config.json"
    target.write_text("old\n")
    real = harness.writers._write_temporary

    def write_then_signal(target: Path, temporary: Path, data: bytes) -> None:
        real(target, temporary, data)
        os.kill(os.getpid(), signum)
        time.sleep(0.01)  # let the handler run while the temporary exists

    monkeypatch.setattr(harness.writers, "_write_temporary", write_then_signal)
    try:
        with pytest.raises(errors.OutputWriteError, match=f"interrupted by signal {signum}"):
            atomic_write_text(target, "new\n")
    finally:
        signal.signal(signum, previous)
    assert received == [signum]
    assert contents(tmp_path) == {"config.json": "old\n"}


SLOW_WRITER = """
import sys, time
from pathlib import Path
import harness.writers as writers

real = writers._write_temporary

def slow(target, temporary, data):
    real(target, temporary, data)
    Path(sys.argv[2]).write_text("ready")
    time.sleep(30)

writers._write_temporary = slow
writers.write_files({Path(sys.argv[1]) / "a.json": "{}", Path(sys.argv[1]) / "a.csv": "x"})
"""


@pytest.mark.parametrize("name", SIGNALS)
def test_error_a_real_signal_ends_the_process_and_leaves_no_temporary(
    tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ready = tmp_path / "ready"
    process = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(out), str(ready)], cwd=ROOT)
    for _ in range(600):
        if ready.exists() or process.poll() is not None:
            break
        time.sleep(0.05)
    process.send_signal(getattr(signal, name))
    assert process.wait(timeout=60) == -getattr(signal, name)
    assert list(out.iterdir()) == []


# ----------------------------------------------------------------- 5 and 22. the network


class NetworkSpy:
    """Every attempt to resolve or reach a host; each fails as a machine without network does."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts.append(repr(args[:2]))
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> NetworkSpy:
    """Online mode (HF_HUB_OFFLINE unset) on a machine whose every connection is recorded and
    refused; retry sleeps are skipped so a regression shows as attempts, not as minutes.
    huggingface_hub's once-per-process telemetry request is re-armed, so it is seen if made."""
    from huggingface_hub import constants
    from huggingface_hub.utils import _detect_agent

    spy = NetworkSpy()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", False)
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agents.json"))
    monkeypatch.setattr(_detect_agent, "_registry", None)
    monkeypatch.setattr(socket, "getaddrinfo", spy)
    monkeypatch.setattr(socket, "create_connection", spy)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    return spy


def test_error_add_offline_with_remote_code_touches_no_network(
    network: NetworkSpy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            dict(
                TINY_LLAMA,
                model_type="acme_remote",
                architectures=["AcmeForCausalLM"],
                auto_map={"AutoConfig": "configuration_acme.AcmeConfig"},
            )
        )
    )
    argv = ["add", "acme/remote", "--config", str(config), "--revision", PINNED]
    argv += ["--cases-dir", str(tmp_path / "cases"), "--offline", "--trust-remote-code"]
    assert main(argv) == 2
    assert network.attempts == []
    assert "could not be loaded" in capsys.readouterr().err
    assert not (tmp_path / "cases").exists()


def test_error_no_network_fails_at_once_with_one_line(
    network: NetworkSpy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert main(["build", "some-org/some-model", "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert len(network.attempts) == 1, network.attempts
    assert captured.err.count("\n") == 1 and "--offline" in captured.err
    assert "Retrying" not in captured.err + captured.out
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------- 6. cases/ in a parent folder

EVIL_CASE = """
from pathlib import Path
Path({marker!r}).write_text("imported")
from harness import Fact, ModelCase
CASE = ModelCase(hf_id="org/model", revision=None,
                 facts={{"num_layers": Fact(2, source="https://example.org")}})
"""


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/cases/ with a vendored org/model and a case file that leaves a marker when imported;
    the working directory is tmp/work, below it."""
    cases = tmp_path / "cases"
    snapshot = cases / "configs" / "org" / "model"
    snapshot.mkdir(parents=True)
    data = json.dumps(TINY_LLAMA).encode()
    (snapshot / "config.json").write_bytes(data)
    (snapshot / "snapshot.json").write_text(json.dumps({"sha256": _sha(data)}))
    (cases / "test_evil.py").write_text(EVIL_CASE.format(marker=str(tmp_path / "marker")))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("HARNESS_SNAPSHOTS_DIR", raising=False)
    return tmp_path


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("command", ["build", "validate", "inspect"])
def test_error_a_parent_cases_folder_is_not_trusted(
    planted: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "org/model", "--offline"]) == 2
    assert "no vendored snapshot of org/model" in capsys.readouterr().err
    assert not (planted / "marker").exists()
    assert not (planted / "work" / "out").exists()


def test_the_working_directory_cases_folder_is_used_and_only_its_matching_case_imported(
    planted: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    other = planted / "cases" / "test_other.py"
    other.write_text(f"from pathlib import Path\nPath({str(planted / 'other')!r}).touch()\n")
    monkeypatch.chdir(planted)
    assert main(["validate", "org/model", "--offline", "--no-cache"]) == 0
    assert "num_layers" in capsys.readouterr().out
    assert (planted / "marker").exists(), "the case of org/model is imported"
    assert not (planted / "other").exists(), "a case file of another model is never run"


def test_error_add_imports_no_case_file_of_its_folder(planted: Path, tmp_path: Path) -> None:
    config = tmp_path / "new.json"
    config.write_text(json.dumps(TINY_LLAMA))
    cases = str(planted / "cases")
    assert main(["add", "org/model", "--config", str(config), "--cases-dir", cases]) == 2
    assert not (planted / "marker").exists()
    assert main(["add", "org/other", "--config", str(config), "--cases-dir", cases]) == 0
    assert not (planted / "marker").exists()


# ----------------------------------------------------------------- 7. cache tamper


def test_error_a_hand_edited_entry_with_its_checksum_recomputed_is_not_trusted(
    tmp_path: Path,
) -> None:
    import hashlib

    resolved = get_model_config(MODEL, offline=True)
    truth = inspect_cached(resolved, directory=tmp_path)
    path = entry_path(cache_key(resolved), tmp_path)
    header_line, body = path.read_text().splitlines()
    payload = json.loads(body)
    payload["tensors"]["shape"][0] = [1, 1]  # a different shape: a different total
    body = json.dumps(payload, separators=(",", ":"))
    header = json.loads(header_line)
    for field in ("payload_hmac", "payload_sha256"):  # what a tamperer would recompute
        header[field] = hashlib.sha256(body.encode()).hexdigest()
    path.write_text(f"{json.dumps(header)}\n{body}\n")
    assert read_entry(cache_key(resolved), tmp_path).status == "corrupt"
    assert inspect_cached(resolved, directory=tmp_path).total_params == truth.total_params


def test_error_a_cache_key_readable_by_others_is_not_used(tmp_path: Path) -> None:
    resolved = get_model_config(MODEL, offline=True)
    inspect_cached(resolved, directory=tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    assert read_entry(cache_key(resolved), tmp_path).status == "corrupt"
    with pytest.warns(CacheWriteWarning, match="readable by others"):
        inspect_cached(resolved, directory=tmp_path)


def test_the_cache_key_is_private(tmp_path: Path) -> None:
    inspect_cached(get_model_config(MODEL, offline=True), directory=tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


# ----------------------------------------------------------------- 8. ids and revisions


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\x00"])
def test_error_a_trailing_character_makes_an_id_or_revision_invalid(suffix: str) -> None:
    assert is_hf_id("org/name") and not is_hf_id("org/name" + suffix)
    assert is_valid_revision("main") and not is_valid_revision("main" + suffix)
    assert is_pinned_revision(PINNED) and not is_pinned_revision(PINNED + suffix)


# ----------------------------------------------------------------- 9. terminal escaping


HOSTILE_ARCHITECTURE = "LlamaForCausalLM\x1b[2J\x1b]0;owned\x07\u202eevil"


def raw_controls(text: str) -> list[str]:
    """Characters of `text` a terminal acts on, other than the line breaks between lines."""
    return [ch for ch in text.replace("\n", "") if printable(ch) != ch]


def test_hostile_architecture_name_is_printed_escaped(
    write_config: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(write_config(dict(TINY_LLAMA, architectures=[HOSTILE_ARCHITECTURE])))
    assert main(["inspect", path, "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert raw_controls(out) == []
    assert "\\x1b[2J" in out and "\\u202e" in out
    assert main(["inspect", path, "--no-cache", "--json"]) == 0
    text = capsys.readouterr().out
    assert raw_controls(text) == []
    assert [note for note in json.loads(text)["notes"] if HOSTILE_ARCHITECTURE in note]


def test_hostile_entry_names_cannot_forge_check_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    golden = json.loads((ROOT / "golden" / "meta-llama_Llama-3.2-1B.json").read_text())
    entry = golden["layer_types"][1]  # an unknown class: its finding names the entry
    entry["name"] = "norm\x1b[1A\rerror   forged\nerror   forged  everything: 0 errors"
    entry["class"] = "Norm\rLayer"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(golden))
    main(["check", str(path), "--offline"])
    lines = capsys.readouterr().out.splitlines()
    assert raw_controls("\n".join(lines)) == []
    assert not [line for line in lines if line.startswith("error   forged")]
    assert [line for line in lines if "norm\\x1b[1A\\rerror   forged\\nerror" in line]


def test_hostile_text_in_errors_and_plugin_reports_is_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "--offline", "--", "org/x\x1b[31m\nfake line"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and raw_controls(err) == []
    folder = tmp_path / "evil\x1b[2J\u202e"
    folder.mkdir()
    (folder / "config.json").write_text("not json")
    assert main(["inspect", str(folder), "--offline"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and raw_controls(err) == [] and "evil\\x1b[2J" in err
    report = _report_text("golden differs:\n- name: a\x1b[2J\u202e\n+ name: b")
    assert report.count("\n") == 2 and raw_controls(report) == []


def test_hostile_layer_docstrings_are_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layers = tmp_path / "layers"
    layers.mkdir()
    (layers / "evil.py").write_text(
        'class EvilLayer:\n    """Fine\\x1b[2J\\u202e."""\n\n    def __init__(self, a): ...\n'
    )
    assert main(["layers", "--layers-dir", str(layers)]) == 0
    out = capsys.readouterr().out
    assert raw_controls(out) == [] and "Fine\\x1b[2J\\u202e." in out


# ----------------------------------------------------------------- 12. sliding windows that build


@pytest.mark.parametrize(
    "changes",
    [
        {"sliding_window": None, "use_sliding_window": False},
        {"sliding_window": 0, "use_sliding_window": False},
        {"sliding_window": 32, "use_sliding_window": True},
    ],
    ids=["null-off", "zero-off", "on"],
)
def test_a_window_transformers_ignores_or_uses_still_builds(
    write_config: Any, changes: dict
) -> None:
    config = dict(TINY_LLAMA, model_type="qwen2", architectures=["Qwen2ForCausalLM"], **changes)
    result = build_model_config(str(write_config(config)), offline=True, use_cache=False)
    assert result.config["total_params"] > 0


# ----------------------------------------------------------------- 13. add over a half snapshot


def test_error_add_over_a_snapshot_json_without_config_json(tmp_path: Path) -> None:
    from harness.scaffold import prepare_scaffold

    cases = tmp_path / "cases"
    folder = cases / "configs" / "acme" / "tiny"
    folder.mkdir(parents=True)
    (folder / "snapshot.json").write_text(json.dumps({"sha256": "0" * 64}))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(TINY_LLAMA))
    with pytest.raises(errors.CaseError, match=r"snapshot\.json without its config"):
        prepare_scaffold("acme/tiny", config_path=config, cases_dir=cases)
    assert sorted(p.name for p in folder.iterdir()) == ["snapshot.json"]


# ----------------------------------------------------------------- 15. non-UTF-8 output paths


def test_a_non_utf8_output_folder_is_written_and_printed_escaped(
    write_config: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / os.fsdecode(b"out\xff")
    assert main(["build", str(write_config(TINY_LLAMA)), "--out", str(out), "--no-cache"]) == 0
    printed = capsys.readouterr().out
    assert "out\\udcff" in printed and raw_controls(printed) == []
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.tensors.csv"]


def test_a_hostile_name_or_path_never_names_an_output_file(
    write_config: Any, tmp_path: Path
) -> None:
    config = dict(TINY_LLAMA, _name_or_path="a\x1b[2J/b\x00c")
    result = build_model_config(str(write_config(config)), offline=True, use_cache=False)
    assert result.model_id == "model"
    assert [p.name for p in write_build(result, tmp_path / "out")] == [
        "model.json",
        "model.tensors.csv",
    ]


# ----------------------------------------------------------------- 17 and 21. gaps pruning


def test_pruning_gap_reports_touches_only_generated_regular_files(tmp_path: Path) -> None:
    gaps = tmp_path / "gaps"
    gaps.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text(GENERATED_MARKER + "\nsomeone else's file, linked in\n")
    (gaps / "stale.md").write_text(GENERATED_MARKER + "\nno case has this kind now\n")
    (gaps / "notes.md").write_text("hand-written\n")
    (gaps / "folder.md").mkdir()
    (gaps / "dangling.md").symlink_to(tmp_path / "missing.md")
    (gaps / "linked.md").symlink_to(outside)
    os.mkfifo(gaps / "pipe.md")
    write_gap_reports([build_model_config(MODEL, offline=True)], gaps)
    names = sorted(p.name for p in gaps.iterdir())
    assert "stale.md" not in names
    assert {"notes.md", "folder.md", "dangling.md", "linked.md", "pipe.md"} <= set(names)
    assert outside.read_text().startswith(GENERATED_MARKER)
    assert stat.S_ISFIFO(os.lstat(gaps / "pipe.md").st_mode)


# ----------------------------------------------------------------- 20. duplicate names


class CountingName(str):
    """A str that counts its comparisons: a quadratic duplicate scan makes ~n^2 of them."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingName.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_duplicate_names_are_counted_in_linear_time() -> None:
    entries = 2000
    names = [CountingName(f"entry{i % 1000}") for i in range(entries)]
    config = {"layer_types": [{"name": name} for name in names]}
    CountingName.comparisons = 0
    findings, _ = _schema_findings(config)
    duplicates = [f for f in findings if f.code == "duplicate-name"]
    assert len(duplicates) == 1000 and "2 layer_types entries share" in duplicates[0].message
    assert CountingName.comparisons < 10 * entries


# ----------------------------------------------------------------- hostile text, property-based
# Derandomized, no example database, a few dozen examples each: every text field that reaches a
# terminal or a file name is fed escape sequences, control and bidi characters, newlines, NULs and
# lone surrogates; the outcome is always inert text and never a traceback.

FRAGMENTS = (
    "\x1b[2J",
    "\x1b]0;owned\x07",
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x7f",
    "\x9b",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u2028",
    "\ud800",
    "\udcff",
    "../",
    "/",
    "org/name",
    "{}",
    "'",
    '"',
    "\\",
)
HOSTILE = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(st.characters(exclude_categories=()), max_size=4),
    ),
    min_size=1,
    max_size=6,
).map("".join)
HOSTILE_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def one_inert_line(text: str) -> bool:
    """At most one line, ending in a newline when there is one, with no raw control character."""
    return text.count("\n") <= 1 and raw_controls(text) == [] and "Traceback" not in text


@HOSTILE_SETTINGS
@given(HOSTILE)
def test_printable_text_is_one_inert_line_and_json_keeps_its_value(text: str) -> None:
    shown = printable(text)
    assert "\n" not in shown and raw_controls(shown) == []
    shown.encode("utf-8")
    encoded = json.dumps({"value": text}, ensure_ascii=False)
    assert json.loads(json_printable(encoded)) == {"value": text}
    assert raw_controls(json_printable(encoded)) == []


@HOSTILE_SETTINGS
@given(model=HOSTILE, revision=HOSTILE)
def test_hostile_model_and_revision_give_one_inert_error_line(
    model: str, revision: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["inspect", "--offline", "--no-cache", "--", model],
        ["inspect", "--offline", "--no-cache", "--revision", revision, "--", MODEL],
    ):
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse refusing the argument
            status = exit_.code
        captured = capsys.readouterr()
        assert status in (0, 2), (argv, captured)
        assert one_inert_line(captured.err), (argv, captured.err)
        assert raw_controls(captured.out) == []


@HOSTILE_SETTINGS
@given(name=HOSTILE, class_name=HOSTILE)
def test_hostile_entry_names_and_classes_give_inert_check_lines(
    name: str, class_name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    config = {
        "hf_model_id": MODEL,
        "layer_types": [{"name": name, "class": class_name, "count": 1, "specs": {}}],
    }
    path = tmp_path_factory.mktemp("check") / "config.json"
    path.write_text(json.dumps(config))  # ensure_ascii: lone surrogates become \ud800 escapes
    with pytest.MonkeyPatch.context() as patch:
        lines: list[str] = []
        patch.setattr("builtins.print", lambda *a, **k: lines.append(" ".join(map(str, a))))
        status = main(["check", str(path), "--offline"])
    assert status in (0, 1, 2)
    assert all(one_inert_line(line) and "\n" not in line for line in lines), lines


@HOSTILE_SETTINGS
@given(name=HOSTILE)
def test_hostile_output_names_are_written_inside_the_folder_or_refused(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("out")
    leaf = name.replace("/", "_")
    if leaf in {".", ".."}:
        leaf += "_"
    try:
        written = atomic_write_text(folder / leaf, "x")
    except errors.OutputWriteError as error:
        assert one_inert_line(printable(str(error)))
        assert [p for p in folder.rglob("*")] == []
        return
    assert written.parent == folder and written.read_text() == "x"
    assert [p.name for p in folder.iterdir()] == [leaf]


@HOSTILE_SETTINGS
@given(hf_id=HOSTILE, source=HOSTILE)
def test_hostile_case_fields_fail_with_one_named_error_or_hold(hf_id: str, source: str) -> None:
    from harness.pipeline.cases import Fact, ModelCase

    try:
        case = ModelCase(hf_id=hf_id, revision=None, facts={"num_layers": Fact(2, source=source)})
    except errors.CaseError as error:
        assert "hf_id" in str(error) and one_inert_line(printable(str(error)))
        return
    assert is_hf_id(case.hf_id) and case.facts["num_layers"].source == source
