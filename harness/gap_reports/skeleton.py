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
from collections.abc import Mapping, Sequence
from typing import Any

from ..catalog.formulas import ELEMENTWISE_OPS_PER_VALUE, FLOPS_TOLERANCE, Step, formula_for
from .collect import BlockedEntry, BlockedModel, GapKindReport
from .text import _NOT_RECORDED, _plural, _wrap, summarize_layers

__all__ = ["extract_skeletons", "render_skeleton", "skeleton_numbers"]

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


def _docstring(text: str, indent: str = "    ") -> list[str]:
    """A docstring of wrapped lines, safe for any text."""
    wrapped = _wrap(_docstring_text(text), 96 - len(indent))
    if len(wrapped) == 1 and len(wrapped[0]) <= 90 - len(indent):
        return [f'{indent}"""{wrapped[0]}"""']
    rest = [f"{indent}{line}" for line in wrapped[1:]]
    return [f'{indent}"""{wrapped[0]}', *rest, f'{indent}"""']


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


def _test(name: str, keys: Sequence[str], doc: str, body: Sequence[str]) -> list[str]:
    needed = ", ".join(_py_literal(key) for key in keys)
    return [
        "",
        "",
        f'@pytest.mark.parametrize("case", _cases({needed}))',
        f"def {name}(case: dict[str, Any]) -> None:",
        *_docstring(doc),
        "    layer = _layer(case)",
        *(f"    {line}" for line in body),
    ]


def _docstring_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _skeleton_docstring(report: GapKindReport) -> list[str]:
    flops = report.record.flops_formula or _NOT_RECORDED
    cache = report.record.kv_cache_formula or _NOT_RECORDED

    def paragraph(text: str, indent: str = "") -> list[str]:
        return _wrap(_docstring_text(text), 96, indent)

    return [
        f'"""Test skeleton for {report.proposed_class} (gap kind `{report.gap_kind}`).',
        "",
        *paragraph(
            f"{report.title}. Generated by harness/gaps.py from the meta-device dry run of "
            f"{_plural(report.models_blocked, 'model')}; the report with references, "
            f"parallelism notes and the test-suite specification is {report.report_path}."
        ),
        "",
        *paragraph(
            "Where it runs: the classes come from the package LAYERS_PACKAGE names, the "
            "harness's catalog (harness.catalog) unless the environment variable "
            f"{PACKAGE_VARIABLE} names another. In a Mantile checkout, copy this file into its "
            f"tests/ and run `{PACKAGE_VARIABLE}=backend.layers python -m pytest "
            f"tests/test_{report.gap_kind}.py` from the checkout's root. While the package has "
            f"no {report.proposed_class} every test skips with SKIP_REASON; once it has one the "
            "same tests run as plain checks (nothing is xfailed)."
        ),
        "",
        *paragraph(
            "What is asserted, through the estimator's own methods at parallelism 1 and bf16: "
            "compute_weight_memory() in bytes, exact (parameters x 2); compute_kv_cache("
            "batch_size, seq_len) in bytes, exact; compute_flops(batch_size, seq_len, phase), "
            "with decode's seq_len the tokens already cached. FLOPs follow the convention "
            "matmul-only, 2*M*K*N per GEMM: the matmul count is the lower bound, and an "
            "estimator may add elementwise work (bias adds, norms, softmax, gates) and the "
            "new token's own key in decode, up to FLOPS_TOLERANCE of the matmul count plus "
            "ELEMENTWISE_OPS_PER_VALUE operations per value the layer touches elementwise per "
            "token (elementwise_values_per_token)."
        ),
        "",
        "FLOPs formula (implement in compute_flops()):",
        *paragraph(flops, "    "),
        "",
        "KV-cache formula (implement in compute_kv_cache()):",
        *paragraph(cache, "    "),
        '"""',
    ]


_HELPERS = '''

def _cases(*keys: str) -> list[Any]:
    """The cases that give every key in `keys`, as pytest params named by case."""
    return [
        pytest.param(case, id=name)
        for name, case in CASES.items()
        if all(key in case for key in keys)
    ]


def _package() -> Any:
    """The package holding the layer classes and Phase (LAYERS_PACKAGE)."""
    return importlib.import_module(LAYERS_PACKAGE)


def _phase(name: str) -> Any:
    """The package's Phase for "prefill" or "decode"."""
    return _package().Phase(name)


def _layer(case: dict[str, Any]) -> Any:
    """The proposed class built from the case's specs as the loader builds it; skips if absent."""
    cls = getattr(_package(), PROPOSED_CLASS, None)
    if cls is None:
        pytest.skip(SKIP_REASON)
    accepted = inspect.signature(cls).parameters
    dropped = sorted(set(case["specs"]) - set(accepted))
    if dropped:
        pytest.fail(
            f"{PROPOSED_CLASS} takes no {', '.join(dropped)}: a config's loader would drop "
            "them silently; accept every spec the generated config gives"
        )
    specs = dict(case["specs"])
    if "layer_idx" in accepted:
        specs.setdefault("layer_idx", 0)
    return cls(**specs, dtype=DTYPE, parallelism=None)


def _check_flops(found: int, matmul: int, tokens: int, case: dict[str, Any]) -> None:
    """`found` is the matmul count, or above it by no more than the stated allowance."""
    elementwise = ELEMENTWISE_OPS_PER_VALUE * case.get("elementwise_values_per_token", 0)
    allowance = FLOPS_TOLERANCE * matmul + elementwise * tokens
    assert matmul <= found <= matmul + allowance, (
        f"{found:,} FLOPs; the matmul count is {matmul:,} and the allowance above it "
        f"{allowance:,.0f}"
    )
'''


def render_skeleton(report: GapKindReport) -> str:
    """A pytest module for the proposed class, parametrised over the blocked models' numbers."""
    kind, cls = report.gap_kind, report.proposed_class
    numbers = [
        skeleton_numbers(kind, entry.specs) for model in report.models for entry in model.entries
    ]
    present = {key for found in numbers for key in found}
    formula = formula_for(kind)
    lines = [
        *_skeleton_docstring(report),
        "",
        "from __future__ import annotations",
        "",
        "import importlib",
        "import inspect",
        "import os",
        "from typing import Any",
        "",
        "import pytest",
        "",
        "# The one place naming the package the layer classes come from (see the docstring).",
        f"LAYERS_PACKAGE = os.environ.get({_py_literal(PACKAGE_VARIABLE)}, "
        f"{_py_literal(DEFAULT_PACKAGE)})",
        f"PROPOSED_CLASS = {_py_literal(cls)}",
        f"GAP_REPORT = {_py_literal(report.report_path)}",
        'SKIP_REASON = f"{PROPOSED_CLASS} is not in {LAYERS_PACKAGE} yet; see {GAP_REPORT}"',
        f"DTYPE = {_py_literal(SKELETON_DTYPE)}",
        f"BYTES_PER_ELEMENT = {_BF16_BYTES}",
        "# FLOPs may exceed the matmul count by this share of it, plus this many operations",
        "# per value touched elementwise per token (elementwise_values_per_token).",
        f"FLOPS_TOLERANCE = {FLOPS_TOLERANCE!r}",
        f"ELEMENTWISE_OPS_PER_VALUE = {ELEMENTWISE_OPS_PER_VALUE}",
        "",
        "# One case per blocked model and entry, keyed `<model_id>-<entry>`.",
        "CASES: dict[str, dict[str, Any]] = {",
    ]
    for model in report.models:
        for entry in model.entries:
            lines += _case_lines(report, model, entry)
    lines += ["}", "", "", *_HELPERS.strip("\n").split("\n")]
    lines += _test(
        "test_weight_memory",
        ["parameter_count"],
        "compute_weight_memory() is parameter_count x 2 bytes at bf16: the parameters, exact.",
        ['assert layer.compute_weight_memory() == case["parameter_count"] * BYTES_PER_ELEMENT'],
    )
    if "kv_bytes_per_token" in present:
        lines += _test(
            "test_kv_cache",
            ["kv_bytes_per_token"],
            "KV cache at bf16, linear in sequences and tokens (KV-cache formula above).",
            [
                'assert layer.compute_kv_cache(1, 1) == case["kv_bytes_per_token"]',
                'assert layer.compute_kv_cache(2, 16) == 2 * 16 * case["kv_bytes_per_token"]',
            ],
        )
    if formula is not None and formula.constant_state:
        lines += _test(
            "test_state_does_not_grow_with_context",
            ["parameter_count"],
            "A fixed recurrent state: cache bytes and decode FLOPs do not depend on context "
            "length (KV-cache formula above).",
            [
                f"short, long = {_py_literal(_DECODE_CONTEXT)}, {_py_literal(_LONG_CONTEXT)}",
                "assert layer.compute_kv_cache(1, short) == layer.compute_kv_cache(1, long)",
                'decode = _phase("decode")',
                "assert layer.compute_flops(1, short, decode) == "
                "layer.compute_flops(1, long, decode)",
            ],
        )
    if "prefill_flops_one_token" in present:
        lines += _test(
            "test_prefill_flops_one_token",
            ["prefill_flops_one_token"],
            "FLOPs of a one-token prompt (attending only itself); FLOPs formula above.",
            [
                'found = layer.compute_flops(1, 1, _phase("prefill"))',
                '_check_flops(found, case["prefill_flops_one_token"], 1, case)',
            ],
        )
    if "decode_flops_context_4096" in present:
        lines += _test(
            "test_decode_flops",
            ["decode_flops_context_4096"],
            f"FLOPs of one decode token over {_DECODE_CONTEXT} cached tokens (formula above).",
            [
                f'found = layer.compute_flops(1, {_DECODE_CONTEXT}, _phase("decode"))',
                '_check_flops(found, case["decode_flops_context_4096"], 1, case)',
            ],
        )
    if "matmul_flops_per_token_at_least" in present:
        lines += _test(
            "test_flops_cover_the_projections",
            ["matmul_flops_per_token_at_least"],
            "One token costs at least its projection matmuls (FLOPs formula above).",
            [
                'found = layer.compute_flops(1, 1, _phase("prefill"))',
                'assert found >= case["matmul_flops_per_token_at_least"]',
            ],
        )
    lines += _test(
        "test_flops_scale_with_batch",
        ["parameter_count"],
        "FLOPs are linear in the number of sequences.",
        [
            'prefill = _phase("prefill")',
            "assert layer.compute_flops(4, 8, prefill) == 4 * layer.compute_flops(1, 8, prefill)",
        ],
    )
    return "\n".join(lines) + "\n"


_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def extract_skeletons(markdown: str) -> list[str]:
    """The bodies of the fenced ```python blocks of a Markdown text, in order."""
    return [match.group(1) for match in _FENCE.finditer(markdown)]
