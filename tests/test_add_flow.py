"""The README's add flow, end to end, on a copy of this checkout (minutes: `nox -s add_flow`).

Two models that are not vendored, from the config.json files in tests/data/new_models/ (see
SOURCES.md there): microsoft/phi-2, dense with an LM-head bias, and deepseek-ai/DeepSeek-V2-Lite,
MoE with MLA and `q_lora_rank: null`. Following the README word for word:

    python3 -m nox -s harness -- add ORG/NAME --config path/to/config.json
    (fill in the TODO claims: published value, scope, source; rounding and scope stated;
     with no exact stored total at hand, the checkpoint claim becomes a comment saying so)
    python3 -m nox -s snapshots
    python3 -m nox -s tests

must end green with no other edit. The copy reuses the environment running this test: nox gets an
`--envdir` whose `env` is a link to it, and `-R` (reuse, install nothing), so nothing is built or
installed and this environment is never written to. `nox -s tests` runs with
HARNESS_FULL_COVERAGE=0: the coverage sweep does not read cases/, and CI runs it in the main
`nox -s tests` just before this session. In the copy this module is skipped (its switch is not
passed on), so it does not run itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.pipeline.cases import case_file_name

from .conftest import ROOT

SWITCH = "HARNESS_ADD_FLOW_NOX_PYTHON"  # the Python that runs nox; set by `nox -s add_flow`
pytestmark = pytest.mark.skipif(
    not os.environ.get(SWITCH),
    reason="the README add flow on a copy of the checkout takes minutes: `nox -s add_flow` runs "
    "it (CI runs it after `nox -s tests`)",
)

DATA = ROOT / "tests" / "data" / "new_models"
TODO_CLAIM = re.compile(r"(?P<indent> *)'(?P<fact>\w+)': Claim\(\n *TODO,\n(?: *\w+=.*\n)*? *\),\n")

# The claims as the README says to fill them: the published value, what it counts, where.
PHI_2 = "https://huggingface.co/microsoft/phi-2"
DEEPSEEK_V2 = "https://arxiv.org/abs/2405.04434"  # Appendix B describes DeepSeek-V2-Lite
CLAIMS = {
    ("microsoft/phi-2", "total_params"): f"""Claim(
    2_700_000_000,
    tolerance=0.05,
    scope='the whole model',
    source={PHI_2!r},
    reason='the card truncates to 2.7 billion; the dry run gives 2.78B',
)""",
    ("deepseek-ai/DeepSeek-V2-Lite", "total_params"): f"""Claim(
    15_700_000_000,
    scope='the whole model',
    source={DEEPSEEK_V2!r},
)""",
    ("deepseek-ai/DeepSeek-V2-Lite", "active_params"): f"""Claim(
    2_400_000_000,
    tolerance=0.03,
    scope='activated per token, without the input embedding',
    source={DEEPSEEK_V2!r},
    expected_difference=-209_715_200,
    reason='the paper does not count the 102400 x 2048 input embedding as activated, and '
    'truncates 2.45B to 2.4B',
)""",
}
MODELS = {"microsoft/phi-2": "phi-2", "deepseek-ai/DeepSeek-V2-Lite": "DeepSeek-V2-Lite"}
TODO_CHECKPOINT = re.compile(
    r"(?P<indent> *)'checkpoint_params': CheckpointClaim\(\n *TODO,\n(?: *\w+=.*\n)*? *\),\n"
)
# What the README says to write offline when no exact stored total of the repository is at hand.
NO_CHECKPOINT = (
    "# checkpoint_params: no exact stored total of this repository is at hand (offline, and no "
    "recorded Hub safetensors total found)\n"
)


def copy_checkout(target: Path) -> Path:
    """The checkout's files as a fresh clone has them (git's view when there is one), committed."""
    if (ROOT / ".git").exists():
        listed = (
            subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
        for name in filter(None, listed):
            source = ROOT / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
    else:
        skip = shutil.ignore_patterns(".git", ".nox", ".venv", "out", "__pycache__", "*.egg-info")
        shutil.copytree(ROOT, target, ignore=skip)
    git = ["git", "-c", "user.name=add-flow", "-c", "user.email=add-flow@invalid"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fresh clone"]):
        subprocess.run([*git, *command], cwd=target, check=True)
    return target


def fill_claims(case_file: Path, hf_id: str) -> None:
    """Replace each TODO claim of a scaffolded case with the published one."""

    def filled(match: re.Match[str]) -> str:
        indent = match["indent"]
        claim = CLAIMS[(hf_id, match["fact"])].replace("\n", f"\n{indent}")
        return f"{indent}'{match['fact']}': {claim},\n"

    text, count = TODO_CLAIM.subn(filled, case_file.read_text())
    assert count == sum(1 for model, _ in CLAIMS if model == hf_id), case_file.read_text()
    text, dropped = TODO_CHECKPOINT.subn(lambda m: m["indent"] + NO_CHECKPOINT, text)
    assert dropped == 1, text
    case_file.write_text(text)


@pytest.fixture
def nox(tmp_path: Path):
    """`python3 -m nox ARGS` in the copy, in this test's environment, never installing."""
    envdir = tmp_path / "nox"
    envdir.mkdir()
    (envdir / "env").symlink_to(Path(sys.prefix), target_is_directory=True)
    child_env = {key: value for key, value in os.environ.items() if key != SWITCH}
    child_env["HARNESS_FULL_COVERAGE"] = "0"

    def run(clone: Path, *args: str) -> str:
        done = subprocess.run(
            [os.environ[SWITCH], "-m", "nox", "--envdir", str(envdir), "-R", *args],
            cwd=clone,
            env=child_env,
            capture_output=True,
            text=True,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"nox {' '.join(args)} failed:\n{output[-20000:]}"
        return output

    return run


def test_readme_add_flow_ends_green_with_no_other_edit(tmp_path: Path, nox) -> None:
    clone = copy_checkout(tmp_path / "clone")
    for hf_id, folder in MODELS.items():
        config = DATA / folder / "config.json"
        out = nox(clone, "-s", "harness", "--", "add", hf_id, "--config", str(config))
        assert "Next:" in out
        fill_claims(clone / "cases" / case_file_name(hf_id), hf_id)

    review = nox(clone, "-s", "snapshots")
    for model_id in ("microsoft_phi-2", "deepseek-ai_DeepSeek-V2-Lite"):
        assert f"+++ b/golden/{model_id}.json" in review, "new goldens are shown in the diff"
    assert "gaps/multi_head_latent_attention.md" in review

    nox(clone, "-s", "tests")

    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    paths = {line[3:] for line in changed}
    allowed = re.compile(
        r"(cases/(test_microsoft_phi_2|test_deepseek_ai_deepseek_v2_lite)\.py"
        r"|cases/configs/(microsoft/phi-2|deepseek-ai/DeepSeek-V2-Lite)/(config|snapshot)\.json"
        r"|golden/[\w.-]+\.json|gaps/\w+\.md)"
    )
    assert paths and all(allowed.fullmatch(path) for path in paths), sorted(paths)
