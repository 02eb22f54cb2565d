"""The gap-kind registry: every kind the mapper emits has a complete record, none is stale, and a
malformed record file is refused naming the file and the field."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from harness.api import build_model_config
from harness.audit.roles import _role
from harness.catalog import registry
from harness.catalog.formulas import GAP_FORMULAS
from harness.catalog.registry import (
    CLASS_COMPONENTS,
    COMPONENT_KINDS,
    Severity,
    gap_kind,
    gap_kinds,
    kind_of_class,
    load_gap_kinds,
    parse_gap_kind,
    proposed_class,
    proposed_classes,
    sources,
)
from harness.catalog.registry import __file__ as REGISTRY_FILE
from harness.errors import GapKindError
from harness.gaps import extract_skeletons, generate_gap_files
from harness.pipeline import mapping
from harness.pipeline.mapping import MISSING_TARGET_CLASS, pieces

from ..conftest import ROOT

KINDS = Path(REGISTRY_FILE).parent / "gap_kinds"


def emitted_kinds() -> set[str]:
    """Every gap kind (or stand-in) of the committed goldens and of the committed sweep."""
    kinds = set()
    for golden in sorted((ROOT / "golden").glob("*.json")):
        config = json.loads(golden.read_text(encoding="utf-8"))
        for entry in [*config["layer_types"], *config["unsupported_layer_types"]]:
            kinds |= {entry[key] for key in ("gap_kind", "stand_in_for") if entry.get(key)}
    coverage = json.loads((ROOT / "coverage" / "coverage.json").read_text(encoding="utf-8"))
    kinds |= {kind for row in coverage["architectures"] for kind in row["gap_kinds"]}
    return kinds


def test_every_kind_the_goldens_or_the_sweep_emit_has_a_record() -> None:
    assert sorted(emitted_kinds() - set(gap_kinds())) == []


def test_no_record_is_stale() -> None:
    """A record names a kind something emits (missing_target_class: a target lacking a class,
    tests/pipeline/mapping/test_entries.py)."""
    assert sorted(set(gap_kinds()) - emitted_kinds() - {MISSING_TARGET_CLASS}) == []


def test_every_record_is_complete() -> None:
    for kind, record in gap_kinds().items():
        assert record.kind == kind
        assert record.title and record.summary and isinstance(record.severity, Severity)
        if record.check.reads_class:
            assert record.proposed_class is None and record.check.component is None, kind
            continue
        assert record.proposed_class and record.proposed_class.endswith("Layer"), kind
        assert record.check.component in COMPONENT_KINDS, kind
        if record.references is not None:
            assert record.references.count() > 0, kind
            assert record.flops_formula and record.kv_cache_formula, kind
            assert record.parallelism and record.test_suite, kind


def test_a_record_says_whether_formulas_py_computes_it() -> None:
    assert {k for k, r in gap_kinds().items() if r.formula_code} == set(GAP_FORMULAS)


def test_roles_of_parts_split_off_a_component_name_a_component_the_mapper_splits() -> None:
    """Add-ons are parts of attention, MLP or MoE blocks; every other kind is a component."""
    addons = {r.check.component for r in gap_kinds().values() if r.check.addon}
    assert addons <= {"attention", "mlp", "moe"}
    assert set(CLASS_COMPONENTS.values()) <= COMPONENT_KINDS


def test_proposed_classes_name_one_kind_each_and_are_not_catalog_classes() -> None:
    classes = proposed_classes()
    assert len(set(classes.values())) == len(classes)
    assert not set(classes.values()) & set(CLASS_COMPONENTS)
    for kind, cls in classes.items():
        assert proposed_class(kind) == cls and kind_of_class(cls) == kind
    assert MISSING_TARGET_CLASS not in classes and kind_of_class("NormLayer") is None


def test_every_cited_repository_has_its_version_recorded() -> None:
    releases = sources()
    for record in gap_kinds().values():
        if record.references and record.references.vllm:
            assert releases.release("vllm-project/vllm") == "v0.33.0, commit 4ba787ec9"
        if record.references and record.references.sglang:
            assert releases.release("sgl-project/sglang") == "v0.5.23"
    assert releases.release("nobody/nothing") == "version not recorded"


# --------------------------------------------------------------------------- bad records

GOOD = """\
title = "A test kind"
severity = "LOW"
proposed_class = "TestKindLayer"
summary = "What it is."

[check]
component = "attention"
addon = true

[formulas]
code = false
"""


def test_a_minimal_record_reads() -> None:
    record = parse_gap_kind("test_kind", GOOD, "x.toml")
    assert (record.proposed_class, record.check.component, record.check.addon) == (
        "TestKindLayer",
        "attention",
        True,
    )
    assert record.references is None and record.parallelism == () and record.test_suite == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('severity = "LOW"', 'severity = "low"'), "field `severity` must be HIGH"),
        (GOOD.replace('title = "A test kind"\n', ""), "field `title` must be given"),
        (GOOD.replace('"attention"', '"attn"'), "field `check.component` must be a component"),
        (GOOD.replace("addon = true", 'addon = "yes"'), "field `check.addon` must be true or"),
        (GOOD.replace("TestKindLayer", "test_kind"), "field `proposed_class` must be a class"),
        ("colour = 1\n" + GOOD, "unknown field `colour`"),
        (GOOD + "colour = 1\n", "unknown field `formulas.colour`"),
        (GOOD + "[[references.papers]]\ntitle = 'x'\n", "field `references.papers[0].url` must"),
        (GOOD + "[[parallelism]]\nstrategy = 'tp'\nsplit = 'x'\ncomms = 'y'\n", "`parallelism[0]."),
        (GOOD.replace("code = false", ""), "field `formulas.code` must be given"),
        ("title = ", "x.toml is not valid TOML"),
    ],
)
def test_error_a_malformed_record_names_the_file_and_the_field(text: str, message: str) -> None:
    with pytest.raises(GapKindError, match=r"^x\.toml") as raised:
        parse_gap_kind("test_kind", text, "x.toml")
    assert message in str(raised.value)


def test_error_two_kinds_proposing_one_class(tmp_path: Path) -> None:
    (tmp_path / "one.toml").write_text(GOOD)
    (tmp_path / "two.toml").write_text(GOOD)
    (tmp_path / "notes.md").write_text("not a record")
    with pytest.raises(GapKindError, match="'one' and 'two' both propose TestKindLayer"):
        load_gap_kinds(tmp_path)
    (tmp_path / "two.toml").unlink()
    assert list(load_gap_kinds(tmp_path)) == ["one"]


def test_error_a_kind_without_a_record_says_which_file_to_add() -> None:
    with pytest.raises(GapKindError, match=r"gap_kinds/no_such_kind\.toml"):
        gap_kind("no_such_kind")
    with pytest.raises(GapKindError, match="proposes no class of its own"):
        proposed_class(MISSING_TARGET_CLASS)


def test_the_packaged_files_are_the_registry() -> None:
    assert set(gap_kinds()) == {p.stem for p in KINDS.glob("*.toml")}
    assert registry.gap_kinds() is gap_kinds()  # read once


# --------------------------------------------------------------------------- adding a kind


def test_a_new_kind_needs_only_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """docs/architecture.md, 'A gap kind': with its TOML file alone, a new kind gets its class
    from the mapper's lookup, a report, a row in the index and a role in `harness check`."""
    (tmp_path / "new_kind.toml").write_text(
        GOOD.replace("TestKindLayer", "NewKindLayer").replace("A test kind", "A new kind")
    )
    kinds = {**gap_kinds(), **load_gap_kinds(tmp_path)}
    monkeypatch.setattr(registry, "gap_kinds", lambda: kinds)

    gpt2 = build_model_config("openai-community/gpt2", offline=True)
    attention = next(c for c in gpt2.structure.components if c.kind == "attention")
    piece = pieces._gap("new_part", attention, "new_kind", {}, 10)
    assert (piece.class_name, piece.gap_kind, piece.supported) == (
        "NewKindLayer",
        "new_kind",
        False,
    )

    entry = mapping.LayerEntry(
        name="new_part",
        class_name=piece.class_name,
        count=12,
        supported=False,
        specs={"parameter_count": 10},
        layer_indices=tuple(range(12)),
        gap_kind="new_kind",
        gap_report="gaps/new_kind.md",
    )
    files = generate_gap_files([dataclasses.replace(gpt2, entries=(*gpt2.entries, entry))])
    report = files["new_kind.md"]
    assert "# A new kind" in report and "- Proposed class: `NewKindLayer`" in report
    assert "- Severity: **LOW**" in report and "[`new_kind`](new_kind.md)" in files["README.md"]
    compile(extract_skeletons(report)[0], "test_new_kind.py", "exec")
    assert "- Blocks no model case yet" in generate_gap_files([gpt2])["new_kind.md"]

    assert _role({**entry.as_json(), "checkpoint_dtype": "bf16"}) == ("text", "attention", True)
