"""The conformance plugin, on small pytester projects: each failure mode gives a clear message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import CASE_FILE, MODEL, ROOT

pytest_plugins = ["pytester"]

GOLDEN = "meta-llama_Llama-3.2-1B.json"


@pytest.fixture
def project(pytester: pytest.Pytester, project_template: Path) -> pytest.Pytester:
    """A fresh copy of the template project, on the session's warm inspection cache (its pytest
    subprocesses import neither torch nor transformers); the plugin comes from its entry point."""
    shutil.copytree(project_template, pytester.path, dirs_exist_ok=True)
    return pytester


def write_case(
    pytester: pytest.Pytester,
    name: str,
    *,
    hf_id: str = MODEL,
    total: int = 1_235_814_400,
    layers: int = 16,
) -> Path:
    path = pytester.path / "cases" / name
    path.write_text(CASE_FILE.format(hf_id=hf_id, total=total, layers=layers))
    return path


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_green_case_creates_then_matches_its_golden(project: pytest.Pytester) -> None:
    first = run(project, "--snapshot-update")
    first.assert_outcomes(passed=11)
    assert (project.path / "golden" / GOLDEN).is_file()
    second = run(project, "-v")
    second.assert_outcomes(passed=11)
    second.stdout.fnmatch_lines(
        ["*test_llama.py::total_params PASSED*", "*golden::no_orphans PASSED*"]
    )


def test_missing_golden_fails(project: pytest.Pytester) -> None:
    result = run(project)
    result.assert_outcomes(passed=10, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*golden/meta-llama_Llama-3.2-1B.json does not match the config built for*",
            "*Snapshot 'meta-llama_Llama-3.2-1B' does not exist!*",
            "*FAILED cases/test_llama.py::golden*",
        ]
    )


def test_changed_golden_fails_with_a_diff(project: pytest.Pytester) -> None:
    run(project, "--snapshot-update").assert_outcomes(passed=11)
    golden = project.path / "golden" / GOLDEN
    golden.write_text(golden.read_text().replace('"num_layers": 16', '"num_layers": 17'))
    result = run(project)
    result.assert_outcomes(passed=10, failed=1)
    result.stdout.fnmatch_lines(["*num_layers*17*", "*num_layers*16*"])


def test_total_claim_outside_tolerance_fails_with_numbers_and_source(
    project: pytest.Pytester,
) -> None:
    write_case(project, "test_llama.py", total=1_300_000_000)
    run(project, "--snapshot-update")
    result = run(project)
    result.assert_outcomes(passed=10, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*total_params: expected 1,300,000,000 (hub total), observed 1,235,814,400, "
            "relative difference -4.937% vs tolerance 1.00% (source: https://example.org/card)*"
        ]
    )


def test_wrong_structural_fact_fails(project: pytest.Pytester) -> None:
    write_case(project, "test_llama.py", layers=32)
    run(project, "--snapshot-update")
    result = run(project)
    result.assert_outcomes(passed=10, failed=1)
    result.stdout.fnmatch_lines(
        ["*num_layers: expected 32, observed 16 (source: https://example.org/paper)*"]
    )


def test_orphaned_golden_fails_also_in_a_subset_run(project: pytest.Pytester) -> None:
    run(project, "--snapshot-update").assert_outcomes(passed=11)
    (project.path / "golden" / "someone_else.json").write_text("{}\n")
    result = run(project, "cases/test_llama.py")
    result.assert_outcomes(passed=9, failed=1)  # the case's 9 items, and no_orphans (not the gaps)
    result.stdout.fnmatch_lines(["*golden files with no case: someone_else.json*"])


def test_unresolvable_config_fails_clearly(project: pytest.Pytester) -> None:
    write_case(project, "test_llama.py", hf_id="nobody/nothing")
    result = run(project)
    result.stdout.fnmatch_lines(
        ["*config does not resolve offline*no vendored snapshot of nobody/nothing*"]
    )
    assert result.ret == 1


def test_copied_case_file_is_collected_without_other_edits(project: pytest.Pytester) -> None:
    write_case(project, "test_llama_copy.py", layers=16)
    result = run(project, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["cases/test_llama_copy.py::total_params", "cases/test_llama_copy.py::golden"]
    )


def test_missing_gap_report_fails(project: pytest.Pytester) -> None:
    (project.path / "gaps" / "lm_head.md").unlink()
    run(project, "--snapshot-update")
    result = run(project)
    result.assert_outcomes(passed=9, failed=2)
    result.stdout.fnmatch_lines_random(
        [
            "*gap reports are not current: lm_head: gaps/lm_head.md does not exist*",
            "*gap reports are not current: gaps/lm_head.md is missing*",
        ]
    )


def test_edited_or_stale_gap_report_fails(project: pytest.Pytester) -> None:
    report = project.path / "gaps" / "lm_head.md"
    report.write_text(report.read_text() + "edited by hand\n")
    stale = project.path / "gaps" / "retired_kind.md"  # a kind the mapper no longer emits
    stale.write_text(report.read_text().splitlines()[0] + "\n")
    run(project, "--snapshot-update")
    result = run(project, "golden")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*gaps/lm_head.md differs from what the cases generate; "
            "gaps/retired_kind.md is stale: no case has that gap kind*",
        ]
    )


def test_case_file_may_add_its_own_tests(project: pytest.Pytester) -> None:
    path = project.path / "cases" / "test_llama.py"
    path.write_text(
        path.read_text() + "\n\ndef test_extra():\n    assert CASE.hf_id.startswith('meta')\n"
    )
    result = run(project, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["cases/test_llama.py::test_extra"])


def test_loader_contract_fails_on_what_mantiles_loader_cannot_load(
    project: pytest.Pytester,
) -> None:
    """A golden with an unknown class, a missing required spec and a reserved key fails."""
    config = json.loads((ROOT / "golden" / GOLDEN).read_text())
    entries = {e["name"]: e for e in config["layer_types"]}
    gap = dict(config["unsupported_layer_types"][0])  # the tied lm_head: LMHeadLayer
    config["unsupported_layer_types"] = config["unsupported_layer_types"][1:]
    config["layer_types"].append(gap)
    del entries["mlp"]["specs"]["intermediate_size"]
    entries["norm"]["specs"]["dtype"] = "bf16"
    (project.path / "golden" / GOLDEN).write_text(json.dumps(config))
    result = run(project, "-k", "loader_contract")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines_random(
        [
            "*golden/meta-llama_Llama-3.2-1B.json breaks the loader contract*(3 problem(s))*",
            "*lm_head: class LMHeadLayer is not in the built-in catalog: *HTTP 500*",
            "*mlp: required spec(s) intermediate_size of GatedMLPLayer missing: *TypeError*",
            "*norm: specs hold dtype: the loader passes them itself: TypeError*",
        ]
    )


def test_the_plugin_keeps_its_state_on_the_session_not_in_module_globals() -> None:
    import harness.plugin

    mutable = sorted(
        name
        for name, value in vars(harness.plugin).items()
        if not name.startswith("__") and isinstance(value, list | dict | set | bytearray)
    )
    assert mutable == []
