"""The registry of gap kinds: one TOML file per kind in `gap_kinds/`, read into frozen records.

A gap kind is a component (or a part split off one) that no catalog class computes exactly. Its
file `gap_kinds/<kind>.toml` holds everything the harness says about it: the title, severity,
proposed class and summary of its report; `[check]`, the structure component it is (or is split
off from) for `harness check`; `[formulas]`, the FLOP and KV-cache formulas as text and whether
`formulas.py` holds a `GapFormula` record that computes them; `[references]` (PyTorch ops, vLLM
and SGLang source paths, papers, other sources), `[[parallelism]]` and `test_suite`.
gap_kinds/README.md describes every field. `sources.toml` holds the releases and commits the
cited sources were read at.

Mapping reads the proposed class of a kind here, `harness.gaps` the report fields and
`harness.audit` the roles; nothing else lists the kinds. The files are read on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import tomllib

from ..errors import GapKindError
from ..pipeline.structure.records import ComponentKind

__all__ = [
    "CLASS_COMPONENTS",
    "COMPONENT_KINDS",
    "CheckRole",
    "Citation",
    "GapKind",
    "References",
    "Severity",
    "SourcePath",
    "Sources",
    "Strategy",
    "gap_kind",
    "gap_kinds",
    "implied_role",
    "kind_of_class",
    "load_gap_kinds",
    "parse_gap_kind",
    "proposed_class",
    "proposed_classes",
    "sources",
]

KINDS_FOLDER = "gap_kinds"
SOURCES_FILE = "sources.toml"

# The kinds of component the structure step produces, which a gap kind's `[check] component` names.
COMPONENT_KINDS = frozenset(kind.value for kind in ComponentKind)
# The component a catalog class computes when it is an entry's class (no gap kind).
CLASS_COMPONENTS: dict[str, str] = {
    "EmbeddingLayer": "embedding",
    "AttentionLayer": "attention",
    "GroupedQueryAttentionLayer": "attention",
    "SlidingWindowAttentionLayer": "attention",
    "MLPLayer": "mlp",
    "GatedMLPLayer": "mlp",
    "MoELayer": "moe",
    "NormLayer": "norm",
}

_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_CLASS = re.compile(r"^[A-Z][A-Za-z0-9]*Layer$")


class Severity(str, Enum):
    """How much a gap costs an estimate: the report's rank among kinds blocking as many models."""

    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"

    @property
    def rank(self) -> int:
        """0 for HIGH, 1 for MEDIUM, 2 for LOW."""
        return list(Severity).index(self)


@dataclass(frozen=True)
class SourcePath:
    """A file of vLLM or SGLang at the pinned release, the symbol in it, and what it does."""

    path: str
    symbol: str
    what: str


@dataclass(frozen=True)
class Citation:
    """A paper or other source: its title and URL."""

    title: str
    url: str


@dataclass(frozen=True)
class Strategy:
    """One parallelism strategy: what it splits of the layer and what it communicates."""

    strategy: str
    split: str
    communication: str


@dataclass(frozen=True)
class References:
    """Where a gap kind is implemented and defined."""

    pytorch_ops: tuple[str, ...]
    vllm: tuple[SourcePath, ...]
    sglang: tuple[SourcePath, ...]
    papers: tuple[Citation, ...]
    other: tuple[Citation, ...]

    def count(self) -> int:
        """Number of cited sources: vLLM, SGLang, papers and other references."""
        return len(self.vllm) + len(self.sglang) + len(self.papers) + len(self.other)


@dataclass(frozen=True)
class CheckRole:
    """What `harness check` reads an entry of this kind as: the component it is (`addon` False)
    or is split off from (`addon` True); `reads_class`: the entry's own class says it."""

    component: str | None
    addon: bool = False
    reads_class: bool = False


@dataclass(frozen=True)
class GapKind:
    """Everything recorded about one gap kind (None or empty where nothing is recorded yet)."""

    kind: str
    title: str
    severity: Severity
    # None: the kind proposes no class of its own; its entries name the class they need.
    proposed_class: str | None
    summary: str
    check: CheckRole
    formula_code: bool  # formulas.py holds a GapFormula record for it
    flops_formula: str | None = None
    kv_cache_formula: str | None = None
    references: References | None = None
    parallelism: tuple[Strategy, ...] = ()
    test_suite: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sources:
    """Repository -> the commit (or release tag) cited paths were checked at, and the release
    whose source was read where a release was."""

    checked: dict[str, str]
    releases: dict[str, str]

    def release(self, repo: str) -> str:
        """`v0.33.0, commit 4ba787ec9`, the release or commit alone, or `version not recorded`."""
        release, commit = self.releases.get(repo), self.checked.get(repo)
        if release and commit and commit != release:
            return f"{release}, commit {commit}"
        return release or commit or "version not recorded"


class _Reader:
    """Typed access to one parsed table, every error naming the file and the field."""

    def __init__(self, data: Mapping[str, Any], where: str, prefix: str = "") -> None:
        self.data, self.where, self.prefix = data, where, prefix
        self.used: set[str] = set()

    def _fail(self, key: str, expected: str) -> GapKindError:
        return GapKindError(
            f"{self.where}: field `{self.prefix}{key}` must be {expected}; see "
            f"harness/catalog/gap_kinds/README.md for the fields of a gap kind"
        )

    def get(self, key: str, check: Callable[[Any], bool], expected: str, *, need: bool) -> Any:
        self.used.add(key)
        if key not in self.data:
            if need:
                raise self._fail(key, f"given ({expected})")
            return None
        value = self.data[key]
        if not check(value):
            raise self._fail(key, expected)
        return value

    def optional_text(self, key: str) -> str | None:
        return self.get(key, lambda v: isinstance(v, str) and v.strip() != "", "text", need=False)

    def text(self, key: str) -> str:
        return str(
            self.get(key, lambda v: isinstance(v, str) and v.strip() != "", "text", need=True)
        )

    def flag(self, key: str, *, need: bool = True) -> bool:
        return bool(self.get(key, lambda v: isinstance(v, bool), "true or false", need=need))

    def texts(self, key: str) -> tuple[str, ...]:
        found = self.get(
            key,
            lambda v: isinstance(v, list) and all(isinstance(i, str) and i.strip() for i in v),
            "a list of texts",
            need=False,
        )
        return tuple(found or ())

    def tables(self, key: str) -> list[_Reader]:
        found = self.get(
            key,
            lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
            "a list of tables",
            need=False,
        )
        return [
            _Reader(item, self.where, f"{self.prefix}{key}[{n}].")
            for n, item in enumerate(found or ())
        ]

    def optional_table(self, key: str) -> _Reader | None:
        found = self.get(key, lambda v: isinstance(v, dict), "a table", need=False)
        return None if found is None else _Reader(found, self.where, f"{self.prefix}{key}.")

    def table(self, key: str) -> _Reader:
        found = self.get(key, lambda v: isinstance(v, dict), "a table", need=True)
        return _Reader(found, self.where, f"{self.prefix}{key}.")

    def done(self) -> None:
        """Refuse fields nobody reads (a typo would otherwise vanish silently)."""
        extra = sorted(set(self.data) - self.used)
        if extra:
            raise GapKindError(
                f"{self.where}: unknown field `{self.prefix}{extra[0]}`; see "
                "harness/catalog/gap_kinds/README.md for the fields of a gap kind"
            )


def _paths(reader: _Reader, key: str) -> tuple[SourcePath, ...]:
    found = []
    for item in reader.tables(key):
        found.append(SourcePath(item.text("path"), item.text("symbol"), item.text("what")))
        item.done()
    return tuple(found)


def _citations(reader: _Reader, key: str) -> tuple[Citation, ...]:
    found = []
    for item in reader.tables(key):
        found.append(Citation(item.text("title"), item.text("url")))
        item.done()
    return tuple(found)


def _check_role(reader: _Reader) -> CheckRole:
    if reader.flag("reads_class", need=False):
        reader.done()
        return CheckRole(None, reads_class=True)
    component = reader.text("component")
    if component not in COMPONENT_KINDS:
        raise reader._fail("component", f"a component kind ({', '.join(sorted(COMPONENT_KINDS))})")
    addon = reader.flag("addon")
    reader.done()
    return CheckRole(component, addon)


def parse_gap_kind(kind: str, text: str, where: str) -> GapKind:
    """One gap kind's record from the TOML text of its file (`where` names it in errors)."""
    if not _KIND.match(kind):
        raise GapKindError(
            f"{where}: {kind!r} is not a gap kind name (lower case letters, digits, underscores); "
            "rename the file"
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GapKindError(f"{where} is not valid TOML: {exc}; fix the file") from None
    top = _Reader(data, where)
    title, summary = top.text("title"), top.text("summary")
    severity_text = top.get(
        "severity", lambda v: v in {s.value for s in Severity}, "HIGH, MEDIUM or LOW", need=True
    )
    proposed = top.get(
        "proposed_class",
        lambda v: isinstance(v, str) and bool(_CLASS.match(v)),
        "a class name ending in Layer",
        need=False,
    )
    role = _check_role(top.table("check"))
    formulas = top.table("formulas")
    code = formulas.flag("code")
    flops, kv_cache = formulas.optional_text("flops"), formulas.optional_text("kv_cache")
    formulas.done()
    references = None
    found = top.optional_table("references")
    if found is not None:
        references = References(
            pytorch_ops=found.texts("pytorch_ops"),
            vllm=_paths(found, "vllm"),
            sglang=_paths(found, "sglang"),
            papers=_citations(found, "papers"),
            other=_citations(found, "other"),
        )
        found.done()
    parallelism = []
    for item in top.tables("parallelism"):
        parallelism.append(
            Strategy(item.text("strategy"), item.text("split"), item.text("communication"))
        )
        item.done()
    test_suite = top.texts("test_suite")
    top.done()
    return GapKind(
        kind=kind,
        title=title,
        severity=Severity(severity_text),
        proposed_class=proposed,
        summary=summary,
        check=role,
        formula_code=code,
        flops_formula=flops,
        kv_cache_formula=kv_cache,
        references=references,
        parallelism=tuple(parallelism),
        test_suite=test_suite,
    )


def load_gap_kinds(folder: str | Path | None = None) -> dict[str, GapKind]:
    """Every gap kind of a folder of `<kind>.toml` files (default: the packaged registry)."""
    if folder is None:
        root: Any = resources.files("harness.catalog").joinpath(KINDS_FOLDER)
        where = f"harness/catalog/{KINDS_FOLDER}"
    else:
        root, where = Path(folder), str(folder)
    kinds: dict[str, GapKind] = {}
    for item in sorted(root.iterdir(), key=lambda entry: entry.name):
        if not item.name.endswith(".toml"):
            continue
        kind = item.name.removesuffix(".toml")
        kinds[kind] = parse_gap_kind(kind, item.read_text(encoding="utf-8"), f"{where}/{item.name}")
    proposals: dict[str, str] = {}
    for record in kinds.values():
        if record.proposed_class is None:
            continue
        other = proposals.setdefault(record.proposed_class, record.kind)
        if other != record.kind:
            raise GapKindError(
                f"{where}: gap kinds {other!r} and {record.kind!r} both propose "
                f"{record.proposed_class}; a proposed class names one kind, rename one"
            )
    return kinds


@cache
def gap_kinds() -> dict[str, GapKind]:
    """The packaged registry, read once."""
    return load_gap_kinds()


def gap_kind(kind: str) -> GapKind:
    """The record of one gap kind; GapKindError when the registry has none."""
    record = gap_kinds().get(kind)
    if record is None:
        raise GapKindError(
            f"gap kind {kind!r} has no record: add harness/catalog/{KINDS_FOLDER}/{kind}.toml "
            "(docs/architecture.md, 'A gap kind')"
        )
    return record


def proposed_class(kind: str) -> str:
    """The class name proposed for a gap kind's components (mapping's class of the gap entry)."""
    record = gap_kind(kind)
    if record.proposed_class is None:
        raise GapKindError(
            f"gap kind {kind!r} proposes no class of its own; its entries keep the class they name"
        )
    return record.proposed_class


def proposed_classes() -> dict[str, str]:
    """Gap kind -> proposed class, for every kind that proposes one (the kinds mapping emits)."""
    return {k: r.proposed_class for k, r in gap_kinds().items() if r.proposed_class is not None}


def implied_role(class_name: str, kind: str | None = None) -> CheckRole | None:
    """What an entry is when nothing else is written: its gap kind's `[check]` role (the kind of a
    stand-in or an unsupported entry), else its class's (a catalog class, or a gap's proposed
    class picked up from the target layer set); None for a class neither knows."""
    if kind is not None and kind in gap_kinds() and not gap_kinds()[kind].check.reads_class:
        return gap_kinds()[kind].check
    if class_name in CLASS_COMPONENTS:
        return CheckRole(CLASS_COMPONENTS[class_name])
    picked = kind_of_class(class_name)
    return None if picked is None else gap_kinds()[picked].check


def kind_of_class(class_name: str) -> str | None:
    """The gap kind whose proposed class this is (a picked-up gap class), else None."""
    return next((k for k, cls in proposed_classes().items() if cls == class_name), None)


@cache
def sources() -> Sources:
    """The releases and commits the cited sources were read at (sources.toml)."""
    where = f"harness/catalog/{SOURCES_FILE}"
    text = resources.files("harness.catalog").joinpath(SOURCES_FILE).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GapKindError(f"{where} is not valid TOML: {exc}; fix the file") from None
    tables = {}
    for key in ("checked", "releases"):
        table = data.get(key)
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise GapKindError(f"{where}: `{key}` must be a table of repository = version")
        tables[key] = dict(table)
    return Sources(tables["checked"], tables["releases"])
