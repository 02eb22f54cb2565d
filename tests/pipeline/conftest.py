"""Builds of the vendored models, once per test session."""

from __future__ import annotations

from functools import cache

from harness.api import build_model_config
from harness.pipeline.config import BuildResult

from ..conftest import case_options


@cache
def built(hf_id: str) -> BuildResult:
    return build_model_config(hf_id, offline=True, **case_options(hf_id))
