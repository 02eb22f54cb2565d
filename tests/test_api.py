"""harness.api: the steps composed with the cache, and the seed toolkit's counts."""

from __future__ import annotations

import pytest

from harness.api import build_case, count_parameters, inspect_model_structure, with_validation
from harness.pipeline.cases import load_cases
from harness.pipeline.check import check_case, validation_block
from harness.pipeline.config import build_config, build_from_inspection
from harness.pipeline.structure import TEXT, analyze_layer_structure

from .conftest import ROOT, case_options, vendored_ids


def test_count_parameters_by_component_puts_norms_in_norm() -> None:
    counts = count_parameters(inspect_model_structure("meta-llama/Llama-3.3-70B-Instruct"))
    assert counts.total_formatted == "70.6B"
    assert counts.by_component["norm"] == 161 * 8192
    assert counts.by_component["attention"] == 80 * 150_994_944
    assert counts.by_component["lm_head"] == 128256 * 8192
    assert counts["total"] == counts.total


@pytest.mark.parametrize("hf_id", vendored_ids())
def test_count_parameters_breaks_down_by_the_structure_kinds(hf_id: str) -> None:
    inspection = inspect_model_structure(hf_id, offline=True, **case_options(hf_id))
    counts = count_parameters(inspection)
    structure = analyze_layer_structure(inspection)
    kinds = {c.kind if c.part == TEXT else f"{c.part} {c.kind}" for c in structure.components}
    assert set(counts.by_component) <= kinds
    assert sum(counts.by_component.values()) == counts.total == inspection.total_params
    assert list(counts.by_component.values()) == sorted(counts.by_component.values(), reverse=True)
    moe = sum(c.parameter_count for c in structure.of_kind("moe"))
    assert counts.by_component.get("moe", 0) == moe


def test_count_parameters_of_bare_records_has_totals_and_no_breakdown() -> None:
    inspection = inspect_model_structure("openai-community/gpt2")
    counts = count_parameters(list(inspection.tensors))
    assert counts.by_component == {}
    assert counts.total == inspection.total_params
    assert counts.buffers == count_parameters(inspection).buffers


def test_with_validation_gives_the_config_a_build_with_the_report_gives() -> None:
    case = load_cases(ROOT / "cases")[0]
    built, results = build_case(case)
    result = build_from_inspection(built.inspection, check_schema=False)
    validated, again = with_validation(case, result)
    assert again == results == check_case(case, result)
    rebuilt = build_config(
        result.inspection,
        result.structure,
        result.entries,
        model_id=result.model_id,
        validation=validation_block(case, results),
        hf_id=result.config["hf_model_id"],
    )
    assert list(validated.config.items()) == list(rebuilt.items())
    assert validated.config == built.config


def test_the_package_exports_the_seed_toolkit_and_loads_the_api_on_first_use() -> None:
    import subprocess
    import sys

    import harness
    from harness import api, output

    assert [name for name in harness.__all__ if not hasattr(harness, name)] == []
    assert harness.count_parameters is api.count_parameters
    assert harness.inspect_model_structure is api.inspect_model_structure
    assert harness.save_tensor_inspection is output.save_tensor_inspection
    probe = "import sys, harness; print(sorted(m for m in sys.modules if m.startswith('harness.')))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "harness.api" not in loaded and "harness.pipeline.cases" in loaded
