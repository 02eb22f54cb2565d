"""Recorded Hub safetensors totals of public models, reconciled with their dry runs exactly.

tests/data/checkpoint_records/records.tsv cites, per model, where its stored total (and per-dtype
counts, where the source has them) was recorded, with the source's commit, and the public config
it is built from (vendored under configs/). A row with an empty `reason` must be predicted exactly;
a row with a reason pins the remainder no term explains, so a change in either direction fails.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness.api import inspect_cached
from harness.pipeline.checkpoint import CheckpointSummary
from harness.pipeline.reconcile import Reconciliation, reconcile
from harness.pipeline.resolve import get_model_config
from harness.pipeline.structure import analyze_layer_structure

RECORDS = Path(__file__).parents[1] / "data" / "checkpoint_records"
ROWS = list(csv.DictReader((RECORDS / "records.tsv").open(encoding="utf-8"), delimiter="\t"))


def _reconcile(row: dict[str, str], config_keys: dict[str, object] | None = None) -> Reconciliation:
    inspection = inspect_cached(get_model_config(RECORDS / row["config"], offline=True))
    if config_keys:  # keys the recorded checkpoint's config has and the vendored copy lacks
        resolved = replace(
            inspection.resolved, config={**inspection.resolved.config, **config_keys}
        )
        inspection = replace(inspection, resolved=resolved)
    summary = CheckpointSummary(
        hf_id=row["hf_id"],
        revision=None,
        total=int(row["stored_total"]),
        parameters=json.loads(row["stored_by_dtype"] or "{}"),
        obtained="recorded-scrape",
        source=row["source"],
    )
    return reconcile(inspection, analyze_layer_structure(inspection), summary)


def test_every_record_cites_a_pinned_source_and_a_config() -> None:
    """Each row names its source at a commit, a vendored config and that config's origin."""
    assert len(ROWS) >= 30
    for row in ROWS:
        assert "/blob/" in row["source"] and len(row["source"].split("/blob/")[1][:40]) == 40
        assert (RECORDS / row["config"]).is_file(), row["hf_id"]
        assert row["config_source"], row["hf_id"]
        assert bool(row["reason"]) == bool(row["unexplained"]), row["hf_id"]


@pytest.mark.parametrize("row", ROWS, ids=[row["hf_id"] for row in ROWS])
def test_recorded_total_is_predicted(row: dict[str, str]) -> None:
    """Built + terms equals the recorded total, or leaves exactly the named remainder."""
    result = _reconcile(row)
    expected = int(row["unexplained"] or 0)
    assert result.unexplained == expected, "\n".join(result.lines())
    if not expected:
        assert not result.dtype_mismatches, "\n".join(result.lines())


@pytest.mark.parametrize("row", [r for r in ROWS if r["explained_with"]], ids=lambda r: r["hf_id"])
def test_remainder_is_explained_with_the_missing_config_keys(row: dict[str, str]) -> None:
    """Where the vendored config lacks a key the checkpoint's config has, adding it closes it."""
    assert _reconcile(row, json.loads(row["explained_with"])).unexplained == 0


def test_a_wrong_record_is_caught() -> None:
    """One element more than DeepSeek-R1 stores is a remainder, not absorbed by a choice."""
    row = next(r for r in ROWS if r["hf_id"] == "deepseek-ai/DeepSeek-R1")
    wrong = {**row, "stored_total": str(int(row["stored_total"]) + 1)}
    assert _reconcile(wrong).unexplained == 1
