"""The pytest skeleton a gap report ends with, for the maintainer of the estimator.

Each skeleton is a pytest module parametrised over the blocked models, with the exact per-instance
parameter count of the dry run and the numbers of the gap kind's reference formulas
(harness.catalog.formulas). It imports the layer classes and `Phase` from the package named once,
`LAYERS_PACKAGE` (the catalog `harness.catalog`, or `backend.layers` in a Mantile checkout through
the `HARNESS_LAYERS_PACKAGE` variable), and calls Mantile's method names
(`compute_weight_memory`, `compute_flops`, `compute_kv_cache`), so it runs unchanged next to the
new class:

* while the package has no class of the proposed name, the test calls `pytest.skip` with a reason
  that names the class and the gap report, so every test is skipped for that stated reason;
* once the class exists, nothing is skipped or xfailed: the tests build it from the specs the way
  Mantile's loader does (failing when the constructor would drop a spec) and assert the numbers,
  so a wrong formula fails. FLOPs may exceed the matmul count by a stated allowance.

Skip rather than `xfail(strict=True)`: a strict xfail would only flip to a failure when the class
appears, hiding which number is wrong, and an xfail over a missing class proves nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from ..catalog.formulas import ELEMENTWISE_OPS_PER_VALUE, FLOPS_TOLERANCE, Step, formula_for
from .collect import BlockedEntry, BlockedModel, GapKindReport
from .text import _NOT_RECORDED, _plural, _wrap, summarize_layers

__all__ = ["extract_skeletons", "render_skeleton", "skeleton_numbers"]

TEMPLATE = "skeleton.py.tmpl"
SKELETON_DTYPE = "bf16"
# Where a skeleton imports the layer classes from: this package unless the variable names another.
PACKAGE_VARIABLE = "HARNESS_LAYERS_PACKAGE"
DEFAULT_PACKAGE = "harness.catalog"
_BF16_BYTES = 2

# Decode context used for the MLA decode-FLOPs check and the constant-state checks.
_DECODE_CONTEXT = 4096
_LONG_CONTEXT = 131072


# --------------------------------------------------------------------------- numbers


# What each number of a skeleton case means, where the gap kind's record gives no note.
_GENERIC_NOTES = {
    "elementwise_values_per_token": (
        "values touched elementwise per token: the FLOP allowance above the matmul count"
    ),
    "state_elements_per_sequence": "recurrent state per sequence; not asserted",
}


def skeleton_numbers(gap_kind: str, specs: Mapping[str, Any]) -> dict[str, int]:
    """The numbers a skeleton asserts for one entry beyond its parameter count (bf16).

    From the gap kind's reference formulas (harness.gap_formulas): KV bytes per token, matmul
    FLOPs of one token in prefill and of one decode token over 4096 cached tokens (or, for a
    lower-bound formula, the projections' FLOPs per token), the elementwise allowance, and a
    recurrent state's size.
    """
    formula = formula_for(gap_kind)
    if formula is None:
        return {}
    numbers: dict[str, int | None] = {}
    if formula.cache_bytes is not None:
        if formula.constant_state:
            numbers["state_elements_per_sequence"] = _round(formula.cache_bytes(specs, 1, 1, 1.0))
        else:
            bytes_one = formula.cache_bytes(specs, 1, 1, float(_BF16_BYTES))
            numbers["kv_bytes_per_token"] = _round(bytes_one)
    if formula.flops is not None:
        one_token = formula.flops(specs, Step.prefill(1, 1))
        if formula.flops_exact:
            numbers["prefill_flops_one_token"] = one_token
            numbers["decode_flops_context_4096"] = formula.flops(
                specs, Step.decode(1, _DECODE_CONTEXT)
            )
        else:
            numbers["matmul_flops_per_token_at_least"] = one_token
    if formula.elementwise_values is not None:
        numbers["elementwise_values_per_token"] = formula.elementwise_values(specs) or None
    return {key: value for key, value in numbers.items() if value is not None}


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


def _number_note(gap_kind: str, key: str) -> str:
    formula = formula_for(gap_kind)
    notes = formula.notes if formula is not None else {}
    return notes.get(key) or _GENERIC_NOTES.get(key, "")


# --------------------------------------------------------------------------- skeleton


def _py_literal(value: Any) -> str:
    """Python source for a JSON-like value; ints of 5+ digits get underscores."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_py_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_py_literal(str(k))}: {_py_literal(v)}" for k, v in value.items())
        return "{" + inner + "}"
    return json.dumps(str(value))


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in _wrap(text, 96 - len(indent) - 2)]


def _case_id(model: BlockedModel, entry: BlockedEntry) -> str:
    return f"{model.model_id}-{entry.name}"


def _case_lines(report: GapKindReport, model: BlockedModel, entry: BlockedEntry) -> list[str]:
    layers = summarize_layers(entry.layer_indices, model.num_layers)
    lines = [
        f"    {_py_literal(_case_id(model, entry))}: {{",
        f'        "model": {_py_literal(model.model)},',
        f'        "entry": {_py_literal(entry.name)},',
        f'        "count": {entry.count},',
        f'        "layers": {_py_literal(layers)},',
        '        "specs": {',
        *(
            f"            {_py_literal(key)}: {_py_literal(value)},"
            for key, value in entry.constructor_specs.items()
        ),
        "        },",
        "        # per instance, exact: the entry's tensor shapes on the meta device",
        f'        "parameter_count": {_py_literal(entry.parameter_count)},',
    ]
    for key, value in sorted(skeleton_numbers(report.gap_kind, entry.specs).items()):
        note = _number_note(report.gap_kind, key)
        if note:
            lines += _comment(note, "        ")
        lines.append(f"        {_py_literal(key)}: {_py_literal(value)},")
    lines.append("    },")
    return lines


def _docstring_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


_SECTION = re.compile(r"^#: (\w+)$", re.MULTILINE)


@cache
def _template() -> dict[str, Template]:
    """The sections of skeleton.py.tmpl by name (its header comment is not a section)."""
    text = resources.files(__package__).joinpath(TEMPLATE).read_text(encoding="utf-8")
    parts = _SECTION.split(text)
    return {
        name: Template(body.strip("\n"))
        for name, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def _wrap_docstring(text: str) -> str:
    """The module docstring's paragraphs (each line after the first) wrapped at 96 columns."""
    lines = text.split("\n")
    end = lines.index('"""', 1)
    wrapped = lines[:1]
    for line in lines[1:end]:
        body = line.lstrip(" ")
        wrapped += _wrap(body, 96, line[: len(line) - len(body)]) if body else [line]
    return "\n".join(wrapped + lines[end:])


def _tests(report: GapKindReport) -> list[str]:
    """The test sections the cases give numbers for, in the template's order."""
    present = {
        key
        for model in report.models
        for entry in model.entries
        for key in skeleton_numbers(report.gap_kind, entry.specs)
    }
    formula = formula_for(report.gap_kind)
    wanted = {
        "test_weight_memory": True,
        "test_kv_cache": "kv_bytes_per_token" in present,
        "test_state_does_not_grow_with_context": formula is not None and formula.constant_state,
        "test_prefill_flops_one_token": "prefill_flops_one_token" in present,
        "test_decode_flops": "decode_flops_context_4096" in present,
        "test_flops_cover_the_projections": "matmul_flops_per_token_at_least" in present,
        "test_flops_scale_with_batch": True,
    }
    unknown = set(_template()) - {"module", *wanted}
    if unknown:
        raise ValueError(f"{TEMPLATE} has sections no rule selects: {sorted(unknown)}")
    return [name for name in _template() if wanted.get(name)]


def render_skeleton(report: GapKindReport) -> str:
    """A pytest module for the proposed class, parametrised over the blocked models' numbers,
    rendered from skeleton.py.tmpl."""
    cls = report.proposed_class
    cases = [
        line
        for model in report.models
        for entry in model.entries
        for line in _case_lines(report, model, entry)
    ]
    values = {
        "proposed_class": _docstring_text(cls),
        "gap_kind": report.gap_kind,
        "title": _docstring_text(report.title),
        "models_blocked": _plural(report.models_blocked, "model"),
        "report_path": report.report_path,
        "package_variable": PACKAGE_VARIABLE,
        "flops": _docstring_text(report.record.flops_formula or _NOT_RECORDED),
        "kv_cache": _docstring_text(report.record.kv_cache_formula or _NOT_RECORDED),
        "package_variable_literal": _py_literal(PACKAGE_VARIABLE),
        "default_package_literal": _py_literal(DEFAULT_PACKAGE),
        "proposed_class_literal": _py_literal(cls),
        "report_path_literal": _py_literal(report.report_path),
        "dtype_literal": _py_literal(SKELETON_DTYPE),
        "bytes_per_element": str(_BF16_BYTES),
        "flops_tolerance": repr(FLOPS_TOLERANCE),
        "elementwise_ops_per_value": str(ELEMENTWISE_OPS_PER_VALUE),
        "cases": "\n".join(cases),
        "decode_context": _py_literal(_DECODE_CONTEXT),
        "long_context": _py_literal(_LONG_CONTEXT),
    }
    sections = _template()
    parts = [_wrap_docstring(sections["module"].substitute(values))]
    parts += [sections[name].substitute(values) for name in _tests(report)]
    return "\n\n\n".join(parts) + "\n"


_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def extract_skeletons(markdown: str) -> list[str]:
    """The bodies of the fenced ```python blocks of a Markdown text, in order."""
    return [match.group(1) for match in _FENCE.finditer(markdown)]
