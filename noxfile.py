"""Developer sessions; each installs through constraints.txt (CPU torch, pinned transformers)."""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "lint"]

CONSTRAINTS = ("-c", "constraints.txt")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
BUNDLED_MODEL = "meta-llama/Llama-3.3-70B-Instruct"
FULL_COVERAGE = {"HARNESS_FULL_COVERAGE": "1"}  # compare coverage/ with a fresh sweep


def install(session: nox.Session) -> None:
    """Install the harness and its test tools with the pinned versions."""
    session.install(*CONSTRAINTS, "-e", ".[test]")


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run every test offline on all cores: unit tests, model cases, goldens, the coverage gate."""
    install(session)
    session.run("pytest", "-n", "auto", *session.posargs, env={**OFFLINE, **FULL_COVERAGE})


@nox.session(python="3.11")
def conformance(session: nox.Session) -> None:
    """Run the model cases only (facts, accounting, schema, catalog, goldens)."""
    install(session)
    session.run("pytest", "cases", "golden", *session.posargs, env=OFFLINE)


@nox.session(python="3.11")
def snapshots(session: nox.Session) -> None:
    """Regenerate goldens and gap reports, then print what changed for review."""
    install(session)
    session.run("pytest", "cases", "golden", "--snapshot-update", "-q", env=OFFLINE)
    session.run("harness", "gaps", env=OFFLINE)
    session.run("git", "status", "--short", "--", "golden", "gaps", external=True)
    session.run("git", "--no-pager", "diff", "--stat", "--", "golden", "gaps", external=True)
    session.run("git", "--no-pager", "diff", "--", "golden", "gaps", external=True)


@nox.session(python="3.11")
def build(session: nox.Session) -> None:
    """The main job: write a bundled model's Mantile config to out/ (pass an id to override)."""
    install(session)
    model = session.posargs or [BUNDLED_MODEL]
    session.run("harness", "build", *model, "--offline", "--out", "out", env=OFFLINE)


@nox.session(python="3.11")
def inspect(session: nox.Session) -> None:
    """Dry-run a bundled model on the meta device and summarise its tensors."""
    install(session)
    model = session.posargs or [BUNDLED_MODEL]
    session.run("harness", "inspect", *model, "--offline", env=OFFLINE)


@nox.session(python="3.11", default=False)
def bench(session: nox.Session) -> None:
    """Time inspection vs accelerate, the suite cold and warm, coverage; writes out/bench.json."""
    install(session)
    session.run("harness", "bench", *session.posargs, env=OFFLINE)


@nox.session(python="3.11", default=False)
def coverage(session: nox.Session) -> None:
    """Sweep every transformers causal-LM / VLM architecture; rewrite coverage/ (-- --check)."""
    install(session)
    session.run("harness", "coverage", *session.posargs, env=OFFLINE)
    session.run("git", "--no-pager", "diff", "--stat", "--", "coverage", external=True)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """Lint with ruff."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", "harness", "tests", "noxfile.py", "conftest.py")
