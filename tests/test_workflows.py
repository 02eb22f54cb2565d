"""The example CI workflow and pre-commit hook gate the right paths and run real sessions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "conformance.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
GATED = ("cases/**", "golden/**", "gaps/**", "harness/**")


def nox_sessions(noxfile: Path = ROOT / "noxfile.py") -> set[str]:
    """The names of the functions decorated with @nox.session, read without importing nox."""
    tree = ast.parse(noxfile.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("nox.session" in ast.unparse(decorator) for decorator in node.decorator_list)
    }


def sessions_run_by(command: str) -> list[str]:
    """The sessions a `nox -s a b --` command line runs."""
    match = re.search(r"nox -s ((?:\w[\w-]* ?)+)", command)
    assert match, f"no `nox -s` in {command!r}"
    return match.group(1).split()


def test_nox_sessions_reader_sees_the_documented_sessions() -> None:
    assert {"tests", "conformance", "snapshots", "build", "lint"} <= nox_sessions()


def test_workflow_runs_offline_on_changes_to_cases_goldens_gaps_and_harness() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as the boolean True
    for event in ("pull_request", "push"):
        assert set(GATED) <= set(triggers[event]["paths"]), event
    job = workflow["jobs"]["conformance"]
    assert job["env"]["HF_HUB_OFFLINE"] == "1"
    assert "download.pytorch.org/whl/cpu" in job["env"]["PIP_EXTRA_INDEX_URL"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert any("-c constraints.txt" in run for run in runs), "installs through the constraints"
    ran = [session for run in runs if "nox -s" in run for session in sessions_run_by(run)]
    assert ran and set(ran) <= nox_sessions()


def test_pre_commit_hook_runs_an_existing_session_on_case_changes() -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert set(sessions_run_by(hook["entry"])) <= nox_sessions()
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for changed in (
        "cases/test_x.py",
        "cases/configs/a/b/config.json",
        "golden/a_b.json",
        "gaps/lm_head.md",
        "harness/pipeline/mapping/entries.py",
    ):
        assert files.search(changed), changed
    assert not files.search("README.md")


@pytest.mark.parametrize("missing", ["conformance", "lint"])
def test_a_renamed_session_is_caught(tmp_path: Path, missing: str) -> None:
    noxfile = tmp_path / "noxfile.py"
    noxfile.write_text(
        (ROOT / "noxfile.py").read_text().replace(f"def {missing}(", f"def {missing}_renamed(")
    )
    assert missing not in nox_sessions(noxfile)


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", DOCS, ids=lambda path: path.name)
def test_every_relative_link_of_the_docs_exists(page: Path) -> None:
    """README.md and docs/*.md link only to files that are in the repository (or to URLs)."""
    targets = [t for t in LINK.findall(page.read_text()) if "://" not in t]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert missing == [], f"{page.name} links to files that do not exist: {missing}"


def test_readme_add_flow_is_the_one_ci_runs() -> None:
    """The commands and the filled claim the README shows are those tests/test_add_flow.py runs."""
    from .test_add_flow import CLAIMS

    readme = (ROOT / "README.md").read_text()
    for command in (
        "python3 -m nox -s harness -- add microsoft/phi-2 --config path/to/config.json",
        "python3 -m nox -s snapshots",
        "python3 -m nox -s tests",
    ):
        assert command in readme
    assert f"'total_params': {CLAIMS[('microsoft/phi-2', 'total_params')]}," in readme
    assert "add_flow" in (ROOT / ".ci" / "run").read_text()
