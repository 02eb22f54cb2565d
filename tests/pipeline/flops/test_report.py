"""The report: JSON round trip, and the plugin failing a mismatch with the table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.pipeline.flops import FlopsReport, Status

from ...conftest import SNAPSHOTS
from .conftest import TINY_MISTRAL, build, check

pytest_plugins = ["pytester"]


def test_report_round_trips_through_json(write_config) -> None:
    report = check(build(write_config, TINY_MISTRAL))
    again = FlopsReport.from_dict(json.loads(json.dumps(report.as_dict())))
    assert again == report
    assert again.components[0].status is Status.MATCH


CASE = """
from harness import ModelCase

CASE = ModelCase(hf_id="{hf_id}", revision=None, facts={{}})
"""


FAIL_GATED_MLP = """
from harness.catalog import GatedMLPLayer

_right = GatedMLPLayer.flops


def _wrong(self, batch_size, seq_len, **kw):
    return _right(self, batch_size, seq_len, **kw) + 1


GatedMLPLayer.flops = _wrong
"""


def test_plugin_fails_a_mismatch_and_lists_what_it_did_not_compare(
    pytester: pytest.Pytester, empty_cache: Path
) -> None:
    """A wrong class formula fails flops_match with the table (on a cache of its own: the patched
    formula must not reach the session's shared cache)."""
    for hf_id, name in (("openai-community/gpt2", "gpt2"), ("meta-llama/Llama-3.2-1B", "llama")):
        shutil.copytree(SNAPSHOTS / hf_id, pytester.path / "cases" / "configs" / hf_id)
        (pytester.path / "cases" / f"test_{name}.py").write_text(CASE.format(hf_id=hf_id))
    Path(pytester.path / "conftest.py").write_text(FAIL_GATED_MLP)
    pytester.makeini("[pytest]\ntestpaths = cases\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "flops_match")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*meta-llama/Llama-3.2-1B: 1 FLOP count of the catalog disagrees with PyTorch's*",
            "mlp * GatedMLPLayer * prefill * model.layers.0.mlp * mismatch",
            "*PyTorch - catalog = -1*",
            "*How to read it:*",
            "*FLOPs cross-check: entries not compared*",
            "cases/test_gpt2.py::flops_match",
            "  mlp_bias (MLPBiasLayer, prefill): gap mlp_bias, no class formula; elementwise only*",
            "*FAILED cases/test_llama.py::flops_match*",
        ]
    )
