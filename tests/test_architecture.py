"""The direction rule as code: a module imports only modules of its own or an earlier layer.

The layers, in order, are declared once in `LAYERS` (docs/architecture.md draws them). Every
import counts: at module level, inside functions, under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "harness"

# (layer, modules): a module covers its sub-modules; the layers are listed first to last.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "harness.version",
            "harness.enums",
            "harness.errors",
            "harness.files",
            "harness.dtypes",
            "harness.limits",
            "harness.writers",
        ),
    ),
    ("resolve", ("harness.pipeline", "harness.pipeline.resolve", "harness.pipeline.checkpoint")),
    ("inventory", ("harness.pipeline.inventory", "harness.pipeline.storage")),
    ("structure", ("harness.pipeline.structure",)),
    ("catalog", ("harness.catalog",)),
    ("mapping", ("harness.pipeline.mapping",)),
    ("config", ("harness.pipeline.origin", "harness.pipeline.config", "harness.pipeline.estimate")),
    (
        "validation",
        (
            "harness.pipeline.cases",
            "harness.pipeline.check",
            "harness.pipeline.reconcile",
            "harness.pipeline.flops",
        ),
    ),
    ("cache", ("harness.cache",)),
    ("api", ("harness.api",)),
    (
        "users",
        (
            "harness.output",
            "harness.gaps",
            "harness.gap_reports",
            "harness.audit",
            "harness.coverage",
            "harness.coverage_gate",
            "harness.coverage_report",
            "harness.bench",
            "harness.scaffold",
            "harness.plugin",
        ),
    ),
    ("cli", ("harness.cli",)),
    ("facade", ("harness",)),
)
# Packages whose __init__ is declared on its own: their other modules need a declaration each.
CONTAINERS = frozenset({"harness", "harness.pipeline"})


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it is, and the layers of both ends."""

    module: str
    line: int
    target: str


def module_names(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name (a package by its __init__)."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def layer_of(module: str, layers: Sequence[tuple[str, Sequence[str]]] = LAYERS) -> int | None:
    """The index of the layer that declares `module` (the longest declared prefix), or None."""
    best: tuple[int, int] | None = None
    for index, (_, modules) in enumerate(layers):
        for declared in modules:
            covers = module == declared or (
                declared not in CONTAINERS and module.startswith(f"{declared}.")
            )
            if covers and (best is None or len(declared) > best[0]):
                best = (len(declared), index)
    return None if best is None else best[1]


def _imports(module: str, path: Path, known: set[str]) -> Iterator[Import]:
    """The harness modules `module` imports, anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                # `from . import cache` imports the module harness.cache, not the package
                submodule = f"{source}.{alias.name}"
                yield Import(module, node.lineno, submodule if submodule in known else source)


def back_imports(
    root: Path, layers: Sequence[tuple[str, Sequence[str]]] = LAYERS
) -> list[str]:
    """Every import of a later layer, and every module no layer declares, as readable lines."""
    modules = module_names(root)
    known = set(modules)
    problems = []
    for module, path in modules.items():
        own = layer_of(module, layers)
        if own is None:
            problems.append(f"{module}: no layer declares it; add it to LAYERS")
            continue
        for found in _imports(module, path, known):
            if found.target != PACKAGE and not found.target.startswith(f"{PACKAGE}."):
                continue
            target = layer_of(found.target, layers)
            if target is not None and target > own:
                problems.append(
                    f"{path.relative_to(root)}:{found.line}: {module} ({layers[own][0]}) imports "
                    f"{found.target} ({layers[target][0]}), a later layer"
                )
    return problems


def test_every_import_goes_to_the_same_or_an_earlier_layer() -> None:
    assert back_imports(ROOT) == []


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


PLANTED = {
    # a step reaching up to the API inside a function, as inspection once did
    "function": "def inspect():\n    from ..api import inspect_cached\n    return inspect_cached\n",
    "type_checking": (
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
        "    from harness.pipeline.config import BuildResult\n"
    ),
    "module_level": "import harness.cli\n",
    "package": "from .. import cli\n",
}


@pytest.mark.parametrize("how", list(PLANTED))
def test_error_a_planted_back_import_is_reported(tmp_path: Path, how: str) -> None:
    root = _plant(
        tmp_path,
        {
            "harness/__init__.py": "",
            "harness/errors.py": "",
            "harness/api.py": "from .pipeline.inventory import x\n",
            "harness/cli/__init__.py": "from ..api import y\n",
            "harness/pipeline/__init__.py": "",
            "harness/pipeline/config.py": "",
            "harness/pipeline/inventory.py": PLANTED[how],
        },
    )
    (problem,) = back_imports(root)
    assert problem.startswith("harness/pipeline/inventory.py:")
    assert "harness.pipeline.inventory (inventory) imports" in problem
    assert problem.endswith("a later layer")


def test_error_a_module_no_layer_declares_is_reported(tmp_path: Path) -> None:
    root = _plant(
        tmp_path,
        {"harness/__init__.py": "", "harness/errors.py": "", "harness/pipeline/newstep.py": ""},
    )
    assert back_imports(root) == [
        "harness.pipeline.newstep: no layer declares it; add it to LAYERS"
    ]


def test_earlier_and_same_layer_imports_pass(tmp_path: Path) -> None:
    root = _plant(
        tmp_path,
        {
            "harness/__init__.py": "from .api import z\n",
            "harness/errors.py": "",
            "harness/api.py": "from .pipeline import inventory\nfrom . import cache\n",
            "harness/cache.py": "from .pipeline.config import x\n",
            "harness/pipeline/__init__.py": "",
            "harness/pipeline/config.py": "from .estimate import y\nfrom ..errors import E\n",
            "harness/pipeline/estimate.py": "from .inventory import t\n",
            "harness/pipeline/inventory.py": "",
        },
    )
    assert back_imports(root) == []


def test_every_path_the_architecture_doc_names_exists() -> None:
    """docs/architecture.md lists the files to touch; a move that leaves it behind fails here."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:harness|tests)/[\w/.]+)`", text))
    assert {"harness/pipeline/structure/attention.py", "harness/catalog/catalog.py"} <= named
    assert sorted(path for path in named if not (ROOT / path).exists()) == []
