"""The case API: what the world says about a model, each fact with its source."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from .errors import CaseError
from .resolve import find_upward, is_hf_id, is_pinned_revision

__all__ = [
    "CLAIM_FACTS",
    "STRUCTURE_FACTS",
    "TODO",
    "Claim",
    "Fact",
    "ModelCase",
    "case_file_name",
    "case_files",
    "find_case",
    "find_cases_dir",
    "load_case_file",
    "load_cases",
]

TODO = None  # a claim whose value is still to be filled in from a public source

CLAIM_FACTS = ("total_params", "active_params")
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
        if self.value is not None and (
            not isinstance(self.value, int) or isinstance(self.value, bool) or self.value <= 0
        ):
            raise CaseError(
                f"Claim value must be a positive int or TODO, got {self.value!r}; write the "
                "published count as an int (7_000_000_000), or TODO (unquoted) until it is known"
            )
        if not 0 <= self.tolerance < 1:
            raise CaseError(f"Claim tolerance must be in [0, 1), got {self.tolerance!r}")
        loosened = self.tolerance > _STANDARD_TOLERANCE or self.expected_difference
        if loosened and not self.reason:
            raise CaseError(
                f"Claim {self.value!r}: a tolerance above 1% or an expected_difference needs a "
                "`reason` saying what the published figure counts"
            )


@dataclass(frozen=True)
class Fact:
    """A structural fact stated publicly (paper, model card, official blog), checked exactly."""

    value: Any
    source: str
    note: str = ""


@dataclass(frozen=True)
class ModelCase:
    """One model's public facts; a `cases/test_*.py` file defines it as `CASE`."""

    hf_id: str
    revision: str | None
    facts: dict[str, Claim | Fact]
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
        if self.trust_remote_code and not is_pinned_revision(self.revision):
            raise CaseError(
                f"{self.hf_id}: trust_remote_code=True needs a pinned 40-hex revision, "
                f"got {self.revision!r}; pin the commit you reviewed"
            )
        if not isinstance(self.facts, dict):
            raise CaseError(f"{self.hf_id}: facts must be a dict of fact name to Claim or Fact")
        for name, fact in self.facts.items():
            if name in CLAIM_FACTS:
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
                known = ", ".join((*CLAIM_FACTS, *STRUCTURE_FACTS))
                raise CaseError(f"{self.hf_id}: unknown fact {name!r}; known facts: {known}")
            if not fact.source:
                raise CaseError(f"{self.hf_id}: fact {name!r} has no source; every fact needs one")

    @property
    def model_id(self) -> str:
        """Mantile's id for this model."""
        return self.hf_id.replace("/", "_")


def load_case_file(path: str | Path) -> ModelCase:
    """Import a case file and return its CASE, or raise CaseError naming the file."""
    file = Path(path)
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
    """The `cases` folder in the working directory or a parent, if any."""
    return find_upward("cases", start)


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


def find_case(hf_id: str, cases_dir: Path | None = None) -> ModelCase | None:
    """The case declared for `hf_id` among `cases/test_*.py`, or None."""
    folder = cases_dir or find_cases_dir()
    if folder is None:
        return None
    return next((case for case in load_cases(folder) if case.hf_id == hf_id), None)
