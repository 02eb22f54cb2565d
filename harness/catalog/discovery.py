"""Layer classes read from source, never imported: `get_supported_layers(layers_dir)`."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CatalogError
from .base import _spec_view
from .catalog import LAYER_MODULES

__all__ = ["LayerClassInfo", "get_supported_layers"]


@dataclass(frozen=True)
class LayerClassInfo:
    """A layer class as read from source, never run: docstring, constructor, parallelism."""

    name: str
    docstring: str
    module: str
    path: str
    line: int
    bases: tuple[str, ...]
    required: tuple[str, ...]
    # Defaults are literals where ast.literal_eval can read them, else their source text.
    optional: dict[str, object] = field(hash=False)
    # None: declared in a form static reading cannot evaluate.
    supported_parallelism: frozenset[str] | None
    abstract: bool

    @property
    def spec_required(self) -> tuple[str, ...]:
        """Required keys of a config entry's specs (no dtype, parallelism or layer_idx)."""
        return _spec_view(self.required, self.optional)[0]

    @property
    def spec_optional(self) -> dict[str, object]:
        """Optional spec keys with defaults (layer_idx 0, as Mantile's loader injects)."""
        return _spec_view(self.required, self.optional)[1]

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict: lists for tuples and sets, parallelism sorted."""
        return {
            "name": self.name,
            "docstring": self.docstring,
            "module": self.module,
            "path": self.path,
            "line": self.line,
            "bases": list(self.bases),
            "required": list(self.required),
            "optional": dict(self.optional),
            "supported_parallelism": (
                None if self.supported_parallelism is None else sorted(self.supported_parallelism)
            ),
            "abstract": self.abstract,
        }


@dataclass(frozen=True)
class _ClassSource:
    node: ast.ClassDef
    module: str
    path: Path
    constants: Mapping[str, ast.expr]


class _Undeclared:
    """Marker: a class body that says nothing about SUPPORTED_PARALLELISM (look at its bases)."""


_UNSET = _Undeclared()
_SET_BUILDERS = ("frozenset", "set", "tuple", "list")
_ABSTRACT_BASES = ("ABC", "ABCMeta")
_MAX_SOURCE_BYTES = 16 * 2**20  # a layer module is a few KB of Python


def _parse(path: Path) -> ast.Module:
    from ..files import NotARegularFileError, read_regular_file

    skip = f"move it out of {path.parent} (files starting with '_' are skipped)"
    try:
        source = read_regular_file(path, _MAX_SOURCE_BYTES)
    except NotARegularFileError as e:
        raise CatalogError(f"cannot scan layer file {path}: it {e.strerror}; {skip}") from None
    except OSError as e:
        raise CatalogError(
            f"cannot scan layer file {path}: {e.strerror or type(e).__name__}; {skip}"
        ) from None
    if len(source) > _MAX_SOURCE_BYTES:
        raise CatalogError(f"cannot scan layer file {path}: it is larger than 16 MiB; {skip}")
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as e:
        raise CatalogError(
            f"cannot scan layer file {path}: syntax error at line {e.lineno}: {e.msg}. "
            f"Fix the file, or {skip}"
        ) from None
    except (MemoryError, RecursionError):
        raise CatalogError(
            f"cannot scan layer file {path}: it nests too deeply for Python's parser; {skip}"
        ) from None
    except ValueError as e:
        raise CatalogError(f"cannot scan layer file {path}: {e}. Fix or remove the file") from None


def _name_of(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript):
        return _name_of(expr.value)
    return None


def _string_element(expr: ast.expr, constants: Mapping[str, ast.expr]) -> str:
    """A string literal, or a module constant bound to one; anything else as its source text."""
    if isinstance(expr, ast.Name) and expr.id in constants:
        expr = constants[expr.id]
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return ast.unparse(expr)


def _string_set(
    expr: ast.expr | None, constants: Mapping[str, ast.expr], depth: int = 0
) -> frozenset[str] | None:
    """Read a set/frozenset/list/tuple literal of parallelism names; None when not a literal."""
    if expr is None or depth > 8:
        return None
    if isinstance(expr, (ast.Set, ast.List, ast.Tuple)):
        return frozenset(_string_element(elt, constants) for elt in expr.elts)
    if isinstance(expr, ast.Call) and _name_of(expr.func) in _SET_BUILDERS and not expr.keywords:
        if not expr.args:
            return frozenset()
        if len(expr.args) == 1:
            return _string_set(expr.args[0], constants, depth + 1)
        return None
    if isinstance(expr, ast.Name) and expr.id in constants:
        return _string_set(constants[expr.id], constants, depth + 1)
    return None


def _declared_parallelism(source: _ClassSource) -> frozenset[str] | _Undeclared | None:
    """Return the class's own SUPPORTED_PARALLELISM (frozenset or None), or _UNSET if none."""
    for stmt in source.node.body:
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "SUPPORTED_PARALLELISM" for t in targets):
            return _string_set(stmt.value, source.constants)
    for stmt in source.node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            stmt.name == "get_supported_parallelism"
        ):
            for inner in ast.walk(stmt):
                if isinstance(inner, ast.Return):
                    found = _string_set(inner.value, source.constants)
                    if found is not None:
                        return found
    return _UNSET


def _own_init(node: ast.ClassDef) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == "__init__":
            return stmt
    return None


def _default(expr: ast.expr) -> object:
    try:
        return ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ast.unparse(expr)


def _init_parameters(
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
) -> tuple[tuple[str, ...], dict[str, object]]:
    args = fn.args
    positional = [*args.posonlyargs, *args.args][1:]  # drop self
    first_default = len(positional) - len(args.defaults)
    required: list[str] = []
    optional: dict[str, object] = {}
    for index, arg in enumerate(positional):
        if index >= first_default:
            optional[arg.arg] = _default(args.defaults[index - first_default])
        else:
            required.append(arg.arg)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is None:
            required.append(arg.arg)
        else:
            optional[arg.arg] = _default(default)
    return tuple(required), optional


def _is_abstract_method(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return any(_name_of(d) == "abstractmethod" for d in stmt.decorator_list)


class _Scan:
    """Classes of a set of parsed files, with name lookup for resolving bases."""

    def __init__(self, sources: list[_ClassSource]) -> None:
        self.sources = sources
        self.by_name: dict[str, list[_ClassSource]] = {}
        for source in sources:
            self.by_name.setdefault(source.node.name, []).append(source)

    def base(self, name: str, near: _ClassSource) -> _ClassSource | None:
        candidates = self.by_name.get(name, [])
        same_file = [c for c in candidates if c.path == near.path]
        return (same_file or candidates or [None])[0]

    def lineage(self, source: _ClassSource) -> Iterator[_ClassSource]:
        """Yield the class, then its scanned bases depth-first, left to right, each once."""
        seen: set[int] = set()
        stack = [source]
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            yield current
            bases = [self.base(n, current) for n in map(_name_of, current.node.bases) if n]
            stack.extend(reversed([b for b in bases if b is not None]))

    def describe(self, source: _ClassSource) -> LayerClassInfo:
        chain = list(self.lineage(source))
        required: tuple[str, ...] = ()
        optional: dict[str, object] = {}
        for ancestor in chain:
            init = _own_init(ancestor.node)
            if init is not None:
                required, optional = _init_parameters(init)
                break
        parallelism: frozenset[str] | _Undeclared | None = _UNSET
        for ancestor in chain:
            parallelism = _declared_parallelism(ancestor)
            if not isinstance(parallelism, _Undeclared):
                break
        return LayerClassInfo(
            name=source.node.name,
            docstring=(ast.get_docstring(source.node) or "").strip().split("\n")[0].strip(),
            module=source.module,
            path=str(source.path),
            line=source.node.lineno,
            bases=tuple(n for n in map(_name_of, source.node.bases) if n),
            required=required,
            optional=optional,
            supported_parallelism=(
                frozenset() if isinstance(parallelism, _Undeclared) else parallelism
            ),
            abstract=self._abstract(chain),
        )

    @staticmethod
    def _abstract(chain: list[_ClassSource]) -> bool:
        own = chain[0].node
        if any(_name_of(base) in _ABSTRACT_BASES for base in own.bases) or any(
            kw.arg == "metaclass" and _name_of(kw.value) in _ABSTRACT_BASES for kw in own.keywords
        ):
            return True
        pending: set[str] = set()
        for ancestor in reversed(chain):  # farthest base first, so overrides win
            for stmt in ancestor.node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if _is_abstract_method(stmt):
                        pending.add(stmt.name)
                    else:
                        pending.discard(stmt.name)
        return bool(pending)


def _module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    constants: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                constants[target.id] = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and stmt.value is not None
            and isinstance(stmt.target, ast.Name)
        ):
            constants[stmt.target.id] = stmt.value
    return constants


def _imported_names(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """Names a module imports from another: local name -> (module's last part, its name there)."""
    imported: dict[str, tuple[str, str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module:
            source = stmt.module.rpartition(".")[2]
            for alias in stmt.names:
                imported[alias.asname or alias.name] = (source, alias.name)
    return imported


def _scan_files(paths: list[Path]) -> dict[str, LayerClassInfo]:
    trees = {path: _parse(path) for path in paths}
    own = {path.stem: _module_constants(tree) for path, tree in trees.items()}
    sources: list[_ClassSource] = []
    for path, tree in trees.items():
        # A constant imported from another scanned file (`from .base import TENSOR`) reads as
        # that file's value; the file's own assignments win.
        constants = {
            name: own[source][original]
            for name, (source, original) in _imported_names(tree).items()
            if original in own.get(source, {})
        }
        constants.update(own[path.stem])
        sources.extend(
            _ClassSource(node=node, module=path.stem, path=path, constants=constants)
            for node in tree.body
            if isinstance(node, ast.ClassDef)
        )
    scan = _Scan(sources)
    found: dict[str, LayerClassInfo] = {}
    for source in sources:
        if not source.node.name.endswith("Layer"):
            continue
        info = scan.describe(source)
        if info.name in found:
            raise CatalogError(
                f"layer class {info.name!r} is defined twice: {found[info.name].path} line "
                f"{found[info.name].line} and {info.path} line {info.line}; rename or remove one"
            )
        found[info.name] = info
    return found


def get_supported_layers(layers_dir: str | Path | None = None) -> dict[str, LayerClassInfo]:
    """Describe every *Layer class in a folder of Python files by reading (never importing) them."""
    if layers_dir is None:
        folder = Path(__file__).resolve().parent
        return _scan_files([folder / f"{name}.py" for name in LAYER_MODULES])
    folder = Path(layers_dir)
    if not folder.is_dir():
        raise CatalogError(
            f"layers directory {str(folder)!r} does not exist or is not a folder; pass the folder "
            f"holding the layer modules (e.g. a Mantile checkout's backend/layers)"
        )
    paths = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    return _scan_files(paths)
