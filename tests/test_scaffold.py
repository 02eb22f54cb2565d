"""`harness add`: vendor a config, scaffold a case whose TODO claims fail; the whole add flow."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import CaseError, ConfigNotFoundError, HarnessError, InvalidConfigError
from harness.pipeline.cases import load_case_file
from harness.pipeline.resolve import sha256_of
from harness.scaffold import add_model, prepare_scaffold

from .conftest import SNAPSHOTS, TINY_LLAMA, disk_full_for

pytest_plugins = ["pytester"]

HF_ID = "acme/tiny-llama"
CASE_NAME = "test_acme_tiny_llama.py"
TODO_CLAIM = re.compile(r"'total_params': Claim\(\n            TODO,\n.*?\n        \),", re.S)
TODO_CHECKPOINT = re.compile(
    r"        'checkpoint_params': CheckpointClaim\(\n            TODO,\n.*?\n        \),\n", re.S
)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A tiny Llama config.json outside any cases folder."""
    path = tmp_path / "downloads" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(TINY_LLAMA, indent=2))
    return path


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_add_vendors_the_config_byte_for_byte_and_scaffolds_a_case(
    tmp_path: Path, config_file: Path
) -> None:
    cases = tmp_path / "cases"
    scaffold = prepare_scaffold(HF_ID, config_path=config_file, cases_dir=cases)
    assert not cases.exists(), "prepare_scaffold must not write anything"
    written = add_model(scaffold)
    assert [p.relative_to(cases).as_posix() for p in written] == [
        "configs/acme/tiny-llama/config.json",
        "configs/acme/tiny-llama/snapshot.json",
        CASE_NAME,
    ]
    vendored = cases / "configs" / "acme" / "tiny-llama"
    assert (vendored / "config.json").read_bytes() == config_file.read_bytes()
    meta = json.loads((vendored / "snapshot.json").read_text())
    assert meta["sha256"] == sha256_of(config_file.read_bytes())
    assert meta["provenance"] == "file given to `harness add` (config.json)"
    assert str(tmp_path) not in json.dumps(meta), "no machine path in a committed file"
    case = load_case_file(cases / CASE_NAME)
    assert case.hf_id == HF_ID
    assert case.facts["total_params"].value is None
    assert case.facts["num_layers"].value == TINY_LLAMA["num_hidden_layers"]
    assert case.facts["num_kv_heads"].value == TINY_LLAMA["num_key_value_heads"]
    assert case.facts["vocab_size"].value == TINY_LLAMA["vocab_size"]
    assert meta["claims"]["meta_total_params"] == scaffold.result.config["total_params"]


def test_add_scaffolds_an_active_params_claim_for_moe(tmp_path: Path) -> None:
    source = SNAPSHOTS / "allenai" / "OLMoE-1B-7B-0924" / "config.json"
    scaffold = prepare_scaffold("acme/moe", config_path=source, cases_dir=tmp_path / "cases")
    assert "'active_params': Claim(" in scaffold.case_text
    assert "'num_experts': Fact(64," in scaffold.case_text


def test_add_refuses_to_overwrite_a_case(tmp_path: Path, config_file: Path) -> None:
    cases = tmp_path / "cases"
    add_model(prepare_scaffold(HF_ID, config_path=config_file, cases_dir=cases))
    (cases / CASE_NAME).write_text((cases / CASE_NAME).read_text() + "# edited by a person\n")
    with pytest.raises(CaseError, match=r"test_acme_tiny_llama.py already exists; edit it"):
        prepare_scaffold(HF_ID, config_path=config_file, cases_dir=cases)
    assert (cases / CASE_NAME).read_text().endswith("# edited by a person\n")


def test_add_refuses_a_second_case_for_the_same_model(tmp_path: Path, config_file: Path) -> None:
    cases = tmp_path / "cases"
    add_model(prepare_scaffold(HF_ID, config_path=config_file, cases_dir=cases))
    (cases / CASE_NAME).rename(cases / "test_renamed.py")
    with pytest.raises(CaseError, match=r"test_renamed.py already declares acme/tiny-llama"):
        prepare_scaffold(HF_ID, config_path=config_file, cases_dir=cases)


def test_add_refuses_to_replace_a_different_vendored_config(
    tmp_path: Path, config_file: Path
) -> None:
    cases = tmp_path / "cases"
    add_model(prepare_scaffold(HF_ID, config_path=config_file, cases_dir=cases))
    (cases / CASE_NAME).unlink()
    config_file.write_text(json.dumps({**TINY_LLAMA, "num_hidden_layers": 3}))
    with pytest.raises(CaseError, match=r"already holds a different config for acme/tiny-llama"):
        prepare_scaffold(HF_ID, config_path=config_file, cases_dir=cases)


@pytest.mark.parametrize(
    ("hf_id", "content", "error", "message"),
    [
        ("not-an-id", TINY_LLAMA, CaseError, "is not a Hub id of the form 'org/name'"),
        ("acme/../../x", TINY_LLAMA, CaseError, "is not a Hub id"),
        (HF_ID, "{not json", InvalidConfigError, "is not valid JSON"),
        (HF_ID, {**TINY_LLAMA, "model_type": "nope"}, InvalidConfigError, "model_type 'nope'"),
        (HF_ID, None, ConfigNotFoundError, "--config .* does not exist"),
        (HF_ID + "@../../etc", TINY_LLAMA, CaseError, "--revision '../../etc' is not a branch"),
    ],
    ids=["not-an-id", "traversal", "bad-json", "unknown-type", "missing-file", "bad-revision"],
)
def test_add_rejects_bad_input_and_writes_nothing(
    tmp_path: Path, hf_id: str, content: object, error: type[HarnessError], message: str
) -> None:
    hf_id, _, revision = hf_id.partition("@")
    config = tmp_path / "config.json"
    if content is not None:
        config.write_text(content if isinstance(content, str) else json.dumps(content))
    cases = tmp_path / "cases"
    with pytest.raises(error, match=message):
        prepare_scaffold(hf_id, config_path=config, revision=revision or None, cases_dir=cases)
    assert not cases.exists()


def test_add_offline_without_a_config_says_how_to_vendor(tmp_path: Path) -> None:
    with pytest.raises(ConfigNotFoundError, match=r"harness add acme/absent --config"):
        prepare_scaffold("acme/absent", cases_dir=tmp_path / "cases", offline=True)


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = tmp_path / "cases"
    scaffold = prepare_scaffold(HF_ID, config_path=config_file, cases_dir=cases)
    disk_full_for(monkeypatch, ".py")
    with pytest.raises(OSError, match="No space left on device"):
        add_model(scaffold)
    assert files_under(cases) == []


def test_cli_add_prints_next_steps_then_refuses_a_second_run(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["add", HF_ID, "--config", str(config_file), "--cases-dir", str(tmp_path / "cases")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1. fill in the TODO claims (total_params)" in out
    assert "nox -s snapshots" in out
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already exists" in err[0]


def test_end_to_end_add_fails_on_todo_then_fill_snapshot_and_green(
    pytester: pytest.Pytester, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's add flow: add -> failing TODO claim -> fill it -> snapshots -> green."""
    monkeypatch.chdir(pytester.path)
    pytester.makeini("[pytest]\ntestpaths = cases golden\n")
    assert main(["add", HF_ID, "--config", str(config_file), "--cases-dir", "cases"]) == 0

    first = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    first.stdout.fnmatch_lines(
        [
            "*total_params: TODO claim: fill in the published value with its source*",
            "*checkpoint_params: TODO claim: `harness checkpoint acme/tiny-llama` (online)*",
            "*FAILED cases/test_acme_tiny_llama.py::total_params*",
            "*FAILED cases/test_acme_tiny_llama.py::checkpoint_params*",
            "*FAILED cases/test_acme_tiny_llama.py::golden*",
        ]
    )
    assert first.ret == pytest.ExitCode.TESTS_FAILED

    case_path = pytester.path / "cases" / CASE_NAME
    snapshot = pytester.path / "cases/configs/acme/tiny-llama/snapshot.json"
    total = json.loads(snapshot.read_text())["claims"]["meta_total_params"]
    filled = (
        f"'total_params': Claim({total}, scope='logical parameters', "
        "source='https://example.org/tiny-llama-card'),"
    )
    text, replaced = TODO_CLAIM.subn(filled, case_path.read_text())
    assert replaced == 1
    # offline, the checkpoint claim is filled later from a recorded total: `harness checkpoint`
    # vendors checkpoint.json and prints the claim to paste
    recorded = ["checkpoint", HF_ID, "--total", str(total), "--source", "https://example.org/r"]
    from contextlib import redirect_stdout
    from io import StringIO

    printed = StringIO()
    with redirect_stdout(printed):
        assert main([*recorded, "--cases-dir", "cases", "--offline"]) == 0
    claim = printed.getvalue().split("the claim for the case's facts:\n")[1]
    text, replaced = TODO_CHECKPOINT.subn(claim, text)
    assert replaced == 1
    case_path.write_text(text)

    update = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--snapshot-update")
    assert update.ret == pytest.ExitCode.TESTS_FAILED, "gap reports are still missing"
    assert main(["gaps", "--cases-dir", "cases", "--out", "gaps", "--offline"]) == 0
    assert (pytester.path / "golden" / "acme_tiny-llama.json").is_file()

    final = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert final.ret == pytest.ExitCode.OK
    before = first.parseoutcomes()
    # golden/ now exists, so its no_orphans and gap_reports_current items join the case's items.
    assert final.parseoutcomes() == {"passed": before["passed"] + before["failed"] + 2}


def test_add_on_a_fake_hub_vendors_the_checkpoint_and_a_passing_claim(
    pytester: pytest.Pytester, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Online (mocked huggingface_hub): checkpoint.json is vendored and the claim is filled."""
    from types import SimpleNamespace

    import huggingface_hub

    from harness.pipeline.inventory import inspect_config

    built = inspect_config(TINY_LLAMA)
    headers = {t.name: SimpleNamespace(dtype="F32", shape=list(t.shape)) for t in built.params}
    metadata = SimpleNamespace(
        files_metadata={"model.safetensors": SimpleNamespace(tensors=headers)}
    )
    asked: list[str | None] = []

    def fake(repo_id: str, *, revision: str | None = None, token: object = None) -> object:
        asked.append(revision)
        return metadata

    monkeypatch.setattr(huggingface_hub, "get_safetensors_metadata", fake)
    monkeypatch.chdir(pytester.path)
    pytester.makeini("[pytest]\ntestpaths = cases\n")
    scaffold = prepare_scaffold(
        HF_ID, config_path=config_file, revision=COMMIT, cases_dir="cases", offline=False
    )
    written = [p.as_posix() for p in add_model(scaffold)]
    assert asked == [COMMIT]
    assert "cases/configs/acme/tiny-llama/checkpoint.json" in written
    vendored = json.loads((pytester.path / written[2]).read_text())
    assert vendored["obtained"] == "safetensors-headers" and vendored["revision"] == COMMIT
    assert vendored["total"] == built.total_params
    case = load_case_file(pytester.path / "cases" / CASE_NAME)
    assert case.facts["checkpoint_params"].value == built.total_params
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "checkpoint_params")
    run.assert_outcomes(passed=1)


def test_add_from_the_hf_cache_pins_the_commit_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --config, `add` takes the HF cache's copy and records its commit as the revision."""
    import huggingface_hub.constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    hub_cache = tmp_path / "hub"
    repo = hub_cache / "models--acme--tiny-llama"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit / "config.json"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text(json.dumps(TINY_LLAMA))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub_cache))

    scaffold = prepare_scaffold(HF_ID, cases_dir=tmp_path / "cases", offline=True)
    assert scaffold.revision == commit
    assert scaffold.snapshot_meta["provenance"] == f"hub:{HF_ID}@{commit}"
    assert scaffold.config_bytes == snapshot.read_bytes()
    assert f"revision={commit!r}" in scaffold.case_text
    assert f"/blob/{commit}/config.json" in scaffold.case_text
    add_model(scaffold)
    assert load_case_file(tmp_path / "cases" / CASE_NAME).revision == commit


def test_add_again_after_deleting_the_case_keeps_the_vendored_snapshot(tmp_path: Path) -> None:
    """Re-scaffolding a vendored model keeps its snapshot.json: provenance and claims survive."""
    cases = tmp_path / "cases"
    model = "meta-llama/Llama-3.2-1B"
    shutil.copytree(SNAPSHOTS / model, cases / "configs" / model)
    meta_before = (cases / "configs" / model / "snapshot.json").read_bytes()
    scaffold = prepare_scaffold(model, config_path=SNAPSHOTS / model, cases_dir=cases)
    written = add_model(scaffold)
    assert [p.name for p in written] == ["test_meta_llama_llama_3_2_1b.py"]
    assert (cases / "configs" / model / "snapshot.json").read_bytes() == meta_before
    with pytest.raises(CaseError, match="already exists"):
        prepare_scaffold(model, config_path=SNAPSHOTS / model, cases_dir=cases)


def test_add_refuses_a_revision_other_than_the_vendored_one(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    model = "meta-llama/Llama-3.2-1B"
    shutil.copytree(SNAPSHOTS / model, cases / "configs" / model)
    meta = cases / "configs" / model / "snapshot.json"
    meta.write_text(meta.read_text().replace('"revision": null', f'"revision": "{"a" * 40}"'))
    with pytest.raises(CaseError, match=r"records revision 'a{40}' for this config, not 'b{40}'"):
        prepare_scaffold(model, config_path=SNAPSHOTS / model, cases_dir=cases, revision="b" * 40)


def test_add_trust_remote_code_needs_a_pinned_revision(tmp_path: Path, config_file: Path) -> None:
    with pytest.raises(CaseError, match="--trust-remote-code needs --revision with the 40-hex"):
        prepare_scaffold(
            HF_ID, config_path=config_file, cases_dir=tmp_path / "cases", trust_remote_code=True
        )


def test_add_opted_in_case_records_trust_remote_code(tmp_path: Path, config_file: Path) -> None:
    """A native config with the opt-in still builds natively; the case records the opt-in."""
    pinned = "c" * 40
    scaffold = prepare_scaffold(
        HF_ID,
        config_path=config_file,
        cases_dir=tmp_path / "cases",
        revision=pinned,
        trust_remote_code=True,
    )
    add_model(scaffold)
    case = load_case_file(tmp_path / "cases" / CASE_NAME)
    assert case.trust_remote_code and case.revision == pinned


def test_add_errors_name_the_file_given_not_the_vendored_path(tmp_path: Path) -> None:
    given = tmp_path / "downloads" / "no_arch.json"
    given.parent.mkdir()
    given.write_text(json.dumps({k: v for k, v in TINY_LLAMA.items() if k != "architectures"}))
    with pytest.raises(InvalidConfigError, match=r"no_arch\.json has no `architectures` list"):
        prepare_scaffold(HF_ID, config_path=given, cases_dir=tmp_path / "cases")


def test_add_offline_without_config_ignores_vendored_snapshots_and_says_so(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    model = "meta-llama/Llama-3.2-1B"
    shutil.copytree(SNAPSHOTS / model, cases / "configs" / model)
    with pytest.raises(ConfigNotFoundError, match=r"is not in the HF cache; pass its config.json"):
        prepare_scaffold(model, cases_dir=cases, offline=True)
