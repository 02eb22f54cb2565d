"""The case API: what the world says about a model, each fact with its source."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from ..errors import CaseError
from ..files import NotARegularFileError, read_regular_file
from .resolve import is_hf_id, is_pinned_revision, is_valid_revision, project_dir

__all__ = [
    "CHECKPOINT_FACT",
    "CLAIM_FACTS",
    "STRUCTURE_FACTS",
    "TODO",
    "CheckpointClaim",
    "Claim",
    "Fact",
    "ModelCase",
    "case_file_name",
    "case_files",
    "declared_hf_id",
    "find_case",
    "find_cases_dir",
    "load_case_file",
    "load_cases",
]

TODO = None  # a claim whose value is still to be filled in from a public source

CLAIM_FACTS = ("total_params", "active_params")
CHECKPOINT_FACT = "checkpoint_params"  # what the checkpoint stores, checked exactly
STRUCTURE_FACTS = (
    "num_layers",
    "hidden_size",
    "num_heads",
    "num_kv_heads",
    "head_dim",
    "vocab_size",
    "intermediate_size",
    "moe_intermediate_size",
    "num_experts",
    "experts_per_token",
    "tied_embeddings",
    "attention_kind",
    "mlp_kind",
    "norm_kind",
    "context_length",
)
_STANDARD_TOLERANCE = 0.01
MAX_CASE_BYTES = 2**20  # a case file is a page of facts; anything larger is not one
_FACT_VALUE_TYPES = (int, float, str, bool, type(None))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _not_a(owner: str, name: str, value: Any, wanted: str) -> str:
    """`<owner> `name` is <value>, not <wanted>`: one problem of a case field."""
    shown = repr(value)
    shown = shown if len(shown) <= 80 else f"{shown[:80]}…"
    return f"{owner} `{name}` is {shown}, not {wanted}"


def _strings(owner: str, fields: dict[str, Any]) -> list[str]:
    return [_not_a(owner, k, v, "a string") for k, v in fields.items() if not isinstance(v, str)]


def _raise_problems(problems: list[str], fix: str) -> None:
    if problems:
        raise CaseError(f"{'; '.join(problems)}; {fix}")


def _check_claim_value(kind: str, value: object, write: str) -> None:
    """Refuse a claim value that is neither a positive int nor TODO."""
    if value is not None and (not _is_int(value) or value <= 0):
        raise CaseError(
            f"{kind} value must be a positive int or TODO, got {value!r}; write {write}"
        )


@dataclass(frozen=True)
class Claim:
    """A published parameter count: value, tolerance, what it counts (scope) and where it is stated.

    When the published figure counts something the logical model does not (a tied head stored
    twice, buffers saved in a checkpoint, MTP layers) give `expected_difference` = published minus
    logical, with a `reason`. A tolerance above 1% (a rounded "7B") also needs a `reason`.
    """

    value: int | None
    tolerance: float = _STANDARD_TOLERANCE
    scope: str = ""
    source: str = ""
    expected_difference: int = 0
    reason: str = ""

    def __post_init__(self) -> None:
        _check_claim_value(
            "Claim",
            self.value,
            "the published count as an int (7_000_000_000), or TODO (unquoted) until it is known",
        )
        problems = _strings(
            "Claim", {"scope": self.scope, "source": self.source, "reason": self.reason}
        )
        if not _is_number(self.tolerance) or not 0 <= self.tolerance < 1:
            problems.append(_not_a("Claim", "tolerance", self.tolerance, "a number in [0, 1)"))
        if not _is_int(self.expected_difference):
            problems.append(
                _not_a(
                    "Claim",
                    "expected_difference",
                    self.expected_difference,
                    "an int (the published count minus the logical one)",
                )
            )
        elif self.value is not None and self.expected_difference >= self.value:
            problems.append(
                f"Claim `expected_difference` {self.expected_difference:,} is not smaller than "
                f"the value {self.value:,}: the logical count (value minus expected_difference) "
                "must stay positive"
            )
        _raise_problems(problems, "fix the Claim (cases/README or `harness add` show its form)")
        loosened = self.tolerance > _STANDARD_TOLERANCE or self.expected_difference
        if loosened and not self.reason:
            raise CaseError(
                f"Claim {self.value!r}: a tolerance above 1% or an expected_difference needs a "
                "`reason` saying what the published figure counts"
            )


@dataclass(frozen=True)
class CheckpointClaim:
    """What the checkpoint stores (the Hub's safetensors total), checked exactly, never within 1%.

    `expected_difference` is stored minus built; it must equal the sum of the terms the
    reconciliation computes (MTP layers, quantization scales, a tied head stored twice, saved
    buffers ...), listed in `reason`. A remainder no term explains is named in `unexplained`
    (stored minus predicted) with `unexplained_reason`; it is never absorbed silently.
    `harness add` fills this claim from the vendored checkpoint.json.
    """

    value: int | None
    scope: str = "hub safetensors total"
    source: str = ""
    expected_difference: int = 0
    reason: str = ""
    unexplained: int = 0
    unexplained_reason: str = ""

    def __post_init__(self) -> None:
        _check_claim_value(
            "CheckpointClaim",
            self.value,
            "the stored total as an int, or TODO until `harness checkpoint` reads it",
        )
        problems = _strings(
            "CheckpointClaim",
            {
                "scope": self.scope,
                "source": self.source,
                "reason": self.reason,
                "unexplained_reason": self.unexplained_reason,
            },
        )
        problems += [
            _not_a("CheckpointClaim", name, getattr(self, name), "an int")
            for name in ("expected_difference", "unexplained")
            if not _is_int(getattr(self, name))
        ]
        _raise_problems(problems, "fix the CheckpointClaim (`harness checkpoint` prints its form)")
        if self.expected_difference and not self.reason:
            raise CaseError(
                f"CheckpointClaim {self.value!r}: an expected_difference needs a `reason` naming "
                "the terms (as `harness validate` prints them)"
            )
        if self.unexplained and not self.unexplained_reason:
            raise CaseError(
                f"CheckpointClaim {self.value!r}: an unexplained remainder needs an "
                "`unexplained_reason` saying what is known about it"
            )


@dataclass(frozen=True)
class Fact:
    """A structural fact stated publicly (paper, model card, official blog), checked exactly."""

    value: Any
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        problems = _strings("Fact", {"source": self.source, "note": self.note})
        if not isinstance(self.value, _FACT_VALUE_TYPES):
            problems.append(
                _not_a("Fact", "value", self.value, "a number, string, boolean or None")
            )
        _raise_problems(problems, "write Fact(value, source='https://...')")


@dataclass(frozen=True)
class ModelCase:
    """One model's public facts; a `cases/test_*.py` file defines it as `CASE`."""

    hf_id: str
    revision: str | None
    facts: dict[str, Claim | Fact | CheckpointClaim]
    sources: tuple[str, ...] | list[str] = ()
    notes: str = ""
    trust_remote_code: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Build the transformers class `architectures` names although auto_map points at Hub code.
    native_class: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.hf_id, str) or not is_hf_id(self.hf_id):
            raise CaseError(
                f"ModelCase hf_id {self.hf_id!r} is not a Hub id of the form 'org/name'; "
                "use the model's id on the Hub, e.g. meta-llama/Llama-3.2-1B"
            )
        _raise_problems(
            self._field_problems(),
            "fix the ModelCase (cases/test_meta_llama_llama_3_2_1b.py shows its form)",
        )
        if self.trust_remote_code and not is_pinned_revision(self.revision):
            raise CaseError(
                f"{self.hf_id}: trust_remote_code=True needs a pinned 40-hex revision, "
                f"got {self.revision!r}; pin the commit you reviewed"
            )
        if not isinstance(self.facts, dict):
            raise CaseError(f"{self.hf_id}: facts must be a dict of fact name to Claim or Fact")
        for name, fact in self.facts.items():
            if name == CHECKPOINT_FACT:
                if not isinstance(fact, CheckpointClaim):
                    raise CaseError(
                        f"{self.hf_id}: fact {name!r} must be a CheckpointClaim(value, source=...)"
                    )
            elif name in CLAIM_FACTS:
                if not isinstance(fact, Claim):
                    raise CaseError(
                        f"{self.hf_id}: fact {name!r} must be a Claim(value, source=...)"
                    )
            elif name in STRUCTURE_FACTS:
                if not isinstance(fact, Fact):
                    raise CaseError(
                        f"{self.hf_id}: fact {name!r} must be a Fact(value, source=...)"
                    )
            else:
                known = ", ".join((*CLAIM_FACTS, CHECKPOINT_FACT, *STRUCTURE_FACTS))
                raise CaseError(f"{self.hf_id}: unknown fact {name!r}; known facts: {known}")
            if not fact.source:
                raise CaseError(f"{self.hf_id}: fact {name!r} has no source; every fact needs one")

    def _field_problems(self) -> list[str]:
        """Every field of the wrong type or form, each named (the facts are checked after)."""
        owner = f"{self.hf_id}:"
        problems = []
        if self.revision is not None and not isinstance(self.revision, str):
            problems.append(_not_a(owner, "revision", self.revision, "a string or None"))
        elif self.revision is not None and not is_valid_revision(self.revision):
            problems.append(
                f"{owner} `revision` {self.revision!r} is not a branch, tag or commit name "
                "(best: the 40-hex commit)"
            )
        if isinstance(self.sources, str):
            problems.append(
                _not_a(owner, "sources", self.sources, "a list of URLs").replace(
                    "` is ", "` is a string ", 1
                )
            )
        elif not isinstance(self.sources, list | tuple):
            problems.append(_not_a(owner, "sources", self.sources, "a list of URLs"))
        else:
            problems += [
                _not_a(owner, f"sources[{index}]", source, "a string (a URL)")
                for index, source in enumerate(self.sources)
                if not isinstance(source, str)
            ]
        problems += _strings(owner, {"notes": self.notes})
        if not isinstance(self.trust_remote_code, bool):
            problems.append(
                _not_a(owner, "trust_remote_code", self.trust_remote_code, "True or False")
            )
        if not isinstance(self.extra, dict):
            problems.append(_not_a(owner, "extra", self.extra, "a dict"))
        return problems

    @property
    def model_id(self) -> str:
        """Mantile's id for this model."""
        return self.hf_id.replace("/", "_")


def _case_source(file: Path) -> bytes:
    """The bytes of a case file: a regular file of at most MAX_CASE_BYTES, or CaseError."""
    try:
        data = read_regular_file(file, MAX_CASE_BYTES)
    except OSError as exc:
        raise CaseError(f"{file} {_reason(exc)}; a case file is a regular Python file") from None
    if len(data) > MAX_CASE_BYTES:
        raise CaseError(
            f"{file} is larger than {MAX_CASE_BYTES // 2**20} MiB; a case file is a page of facts"
        )
    return data


def _reason(exc: OSError) -> str:
    if isinstance(exc, NotARegularFileError):
        return str(exc.strerror)
    return f"cannot be read: {exc.strerror or type(exc).__name__}"


def load_case_file(path: str | Path) -> ModelCase:
    """Import a case file and return its CASE, or raise CaseError naming the file."""
    file = Path(path)
    _case_source(file)  # refuses a FIFO, device or folder before the import machinery opens it
    name = f"_harness_case_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise CaseError(f"{file} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except CaseError as exc:
        raise CaseError(f"{file}: {exc}") from None
    except Exception as exc:
        raise CaseError(
            f"{file} fails to import: {type(exc).__name__}: {exc}; fix the file "
            "(cases/test_meta_llama_llama_3_2_1b.py shows the form of a case)"
        ) from None
    finally:
        sys.modules.pop(name, None)
    case = getattr(module, "CASE", None)
    if not isinstance(case, ModelCase):
        raise CaseError(f"{file} defines no CASE = ModelCase(...); add one or rename the file")
    return case


def find_cases_dir(start: Path | None = None) -> Path | None:
    """The `cases` folder in the working directory (never a parent's), if any."""
    return project_dir("cases", start)


def case_file_name(hf_id: str) -> str:
    """`test_<org>_<name>.py` in lower case, other characters as `_` (meta-llama/X-1B: ..._x_1b)."""
    return f"test_{re.sub(r'[^a-z0-9]+', '_', hf_id.lower()).strip('_')}.py"


def case_files(cases_dir: str | Path) -> list[Path]:
    """The case files of a folder, `test_*.py`, sorted by name."""
    return sorted(Path(cases_dir).glob("test_*.py"))


def load_cases(cases_dir: str | Path) -> list[ModelCase]:
    """Every CASE of a folder's case files, sorted by Hub id; a malformed file raises CaseError."""
    cases = (load_case_file(path) for path in case_files(cases_dir))
    return sorted(cases, key=attrgetter("hf_id"))


def declared_hf_id(path: str | Path) -> str | None:
    """The `hf_id="org/name"` literal of a case file's `ModelCase(...)` call, read without
    importing the file; None when the file names none (or is not Python)."""
    try:
        tree = ast.parse(_case_source(Path(path)))
    except (CaseError, SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ModelCase":
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "hf_id" and isinstance(value, ast.Constant):
                    return value.value if isinstance(value.value, str) else None
    return None


def find_case(hf_id: str, cases_dir: Path | None = None) -> ModelCase | None:
    """The case declared for `hf_id` among `cases/test_*.py`, or None.

    Only a file whose source names `hf_id` as its ModelCase's `hf_id=` literal is imported: the
    other case files of the folder are never executed for a model they do not describe.
    """
    folder = cases_dir or find_cases_dir()
    if folder is None:
        return None
    candidates = (path for path in case_files(folder) if declared_hf_id(path) == hf_id)
    return next(
        (case for path in candidates if (case := load_case_file(path)).hf_id == hf_id), None
    )
