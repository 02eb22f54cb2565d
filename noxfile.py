"""Developer sessions. They share one environment, `.nox/env`, installed through constraints.txt
(CPU torch, pinned transformers): the first session builds it, every later one starts at once.

`nox -s env` (re)installs it: only when constraints.txt or pyproject.toml changed since the last
install, or with `nox -s env -- --force`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "lint"]

CONSTRAINTS = ("-c", "constraints.txt")
INSTALL_INPUTS = ("constraints.txt", "pyproject.toml")  # a change to either reinstalls
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
BUNDLED_MODEL = "meta-llama/Llama-3.3-70B-Instruct"
ENV = "env"  # the session that owns the shared environment
INSTALLED = ".harness-installed"  # in the environment: digest of INSTALL_INPUTS at the last install
REVIEWED = ("cases", "golden", "gaps")  # what `nox -s snapshots` shows for review
SHARED = {"venv_backend": "none", "requires": [ENV]}  # run in the shared environment


def _install_digest() -> str:
    digest = hashlib.sha256()
    for name in INSTALL_INPUTS:
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


@nox.session(python="3.11", default=False)
def env(session: nox.Session) -> None:
    """The shared environment: the harness (editable) and its test tools, pinned versions."""
    stamp = Path(session.virtualenv.location) / INSTALLED
    digest = _install_digest()
    if "--force" not in session.posargs and stamp.is_file() and stamp.read_text() == digest:
        session.log(f"{stamp.parent} is up to date with {' and '.join(INSTALL_INPUTS)}")
        return
    session.install(*CONSTRAINTS, "-e", ".[test]")
    # run_install is skipped with --no-install, so an install that did not happen is not stamped.
    session.run_install(
        "python",
        "-c",
        "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])",
        str(stamp),
        digest,
        silent=True,
    )


def _env_bin(session: nox.Session) -> Path:
    """The scripts folder of the shared environment (next to nox's own .cache folder)."""
    location = Path(session.cache_dir).parent / ENV
    return location / ("Scripts" if sys.platform == "win32" else "bin")


def run(session: nox.Session, program: str, *args: str, env: dict[str, str] | None = None) -> None:
    """Run one of the shared environment's programs (pytest, harness, ruff) as if it were active."""
    scripts = _env_bin(session)
    if not scripts.is_dir():
        session.error(f"{scripts.parent} does not exist; create it with `python3 -m nox -s {ENV}`")
    environment = {
        "VIRTUAL_ENV": str(scripts.parent),
        "PATH": os.pathsep.join([str(scripts), os.environ.get("PATH", "")]),
        **(env or {}),
    }
    session.run(str(scripts / program), *args, env=environment, external=True)


@nox.session(**SHARED)
def tests(session: nox.Session) -> None:
    """Run every test offline on all cores, then the coverage gate over every transformers
    architecture. The gate runs after pytest, not inside it (a sample of architectures runs
    there), so the pytest phase stays short; HARNESS_FULL_COVERAGE=0 skips the gate.
    """
    run(session, "pytest", "-n", "auto", *session.posargs, env=OFFLINE)
    if os.environ.get("HARNESS_FULL_COVERAGE", "1") != "0":
        run(session, "harness", "coverage", "--check", "--quiet", env=OFFLINE)


@nox.session(**SHARED)
def conformance(session: nox.Session) -> None:
    """Run the model cases only (facts, accounting, schema, catalog, goldens, gap reports)."""
    run(session, "pytest", "cases", "golden", *session.posargs, env=OFFLINE)


@nox.session(**SHARED)
def snapshots(session: nox.Session) -> None:
    """Regenerate gap reports and goldens, check every case, then print what changed for review.

    Gap reports first: the golden update runs every check, including the one on gaps/.
    """
    run(session, "harness", "gaps", "--offline", env=OFFLINE)
    run(session, "pytest", "cases", "golden", "--snapshot-update", "-q", env=OFFLINE)
    _print_review_diff(session)


def _print_review_diff(session: nox.Session) -> None:
    """`git status` and the diff of cases/, golden/ and gaps/, new (untracked) files included."""
    if shutil.which("git") is None or not Path(".git").exists():
        session.log(f"not a git checkout: review {', '.join(REVIEWED)} by hand")
        return
    git = ("git", "--no-pager")
    session.run(*git, "status", "--short", "--", *REVIEWED, external=True)
    session.run(*git, "diff", "--stat", "--", *REVIEWED, external=True)
    session.run(*git, "diff", "--", *REVIEWED, external=True)
    untracked = session.run(
        *git,
        "ls-files",
        "--others",
        "--exclude-standard",
        "--",
        "golden",
        "gaps",
        external=True,
        silent=True,
    )
    for path in str(untracked or "").splitlines():
        # --no-index exits 1 when the files differ, which a new file always does.
        session.run(
            *git, "diff", "--no-index", "--", os.devnull, path, external=True, success_codes=[0, 1]
        )


@nox.session(**SHARED)
def build(session: nox.Session) -> None:
    """The main job: write a bundled model's Mantile config to out/ (pass an id to override)."""
    model = session.posargs or [BUNDLED_MODEL]
    run(session, "harness", "build", *model, "--offline", "--out", "out", env=OFFLINE)


@nox.session(**SHARED)
def inspect(session: nox.Session) -> None:
    """Dry-run a bundled model on the meta device and summarise its tensors."""
    model = session.posargs or [BUNDLED_MODEL]
    run(session, "harness", "inspect", *model, "--offline", env=OFFLINE)


@nox.session(**SHARED, default=False)
def harness(session: nox.Session) -> None:
    """Any harness command in the shared environment: `nox -s harness -- add ORG/NAME ...`."""
    run(session, "harness", *(session.posargs or ["--help"]))


@nox.session(**SHARED, default=False)
def bench(session: nox.Session) -> None:
    """Time inspection vs accelerate, the suite cold and warm, coverage; writes out/bench.json."""
    run(session, "harness", "bench", *session.posargs, env=OFFLINE)


@nox.session(**SHARED, default=False)
def coverage(session: nox.Session) -> None:
    """Sweep every transformers causal-LM / VLM architecture; rewrite coverage/ (-- --check)."""
    run(session, "harness", "coverage", *session.posargs, env=OFFLINE)
    session.run("git", "--no-pager", "diff", "--stat", "--", "coverage", external=True)


@nox.session(**SHARED, default=False)
def add_flow(session: nox.Session) -> None:
    """The README's add flow on a copy of this checkout: two new models, snapshots, tests green."""
    run(
        session,
        "pytest",
        "tests/test_add_flow.py",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={**OFFLINE, "HARNESS_ADD_FLOW_NOX_PYTHON": sys.executable},
    )


@nox.session(**SHARED)
def lint(session: nox.Session) -> None:
    """Lint with ruff."""
    run(session, "ruff", "check", "harness", "tests", "noxfile.py", "conftest.py")
