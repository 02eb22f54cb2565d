"""Reading config.json strictly: one JSON object, finite numbers, sizes of sane width."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ...errors import ConfigNotFoundError, InvalidConfigError
from ...files import NotARegularFileError, read_regular_file

__all__ = ["MAX_CONFIG_BYTES", "load_config_file", "parse_config_text"]


MAX_CONFIG_BYTES = 16 * 2**20
MAX_SIZE_DIGITS = 18  # a size, count or parameter total of a Mantile config is below 10^18
_MAX_INT_DIGITS = 100
_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_TYPES[type(None)] = "null"


class _NotStrictJSON(ValueError):
    """Raised by the parser hooks: a value Python's json accepts but JSON does not (NaN, 1e999)."""


def _refuse_constant(text: str) -> Any:
    raise _NotStrictJSON(f"{text} is not a JSON number; write a plain number or null")


def _infinity_only(text: str) -> Any:
    """`Infinity` and `-Infinity` as floats: transformers writes them itself (Mamba-2 and
    Nemotron-H save `time_step_limit` as [0.0, Infinity]) and reads them back. NaN stays
    refused: nothing real writes it."""
    if text in {"Infinity", "-Infinity"}:
        return float(text)
    return _refuse_constant(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotStrictJSON(f"{text} overflows to {value}; write a plain number or null")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise _NotStrictJSON(
            f"an integer of {len(text.lstrip('-')):,} digits is no config value; fix the number"
        )
    return int(text)


def _size_int(text: str) -> int:
    """An integer that can be a size or count: at most MAX_SIZE_DIGITS digits."""
    digits = len(text.lstrip("-"))
    if digits > MAX_SIZE_DIGITS:
        raise _NotStrictJSON(f"an integer of {digits:,} digits is no size or count; fix the number")
    return int(text)


def _size_float(text: str) -> float:
    value = _finite_float(text)
    if abs(value) >= 10**MAX_SIZE_DIGITS:
        raise _NotStrictJSON(f"{text} is no size or count (10^{MAX_SIZE_DIGITS} or more); fix it")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _NotStrictJSON(f"key {key!r} appears twice in one object; keep one of them")
        result[key] = value
    return result


def parse_config_text(
    data: bytes,
    where: str,
    fix: str = "fix the file or download config.json again",
    *,
    sizes_only: bool = False,
    allow_infinity: bool = False,
) -> Any:
    """Parse strict JSON: no NaN/Infinity, no duplicate keys, no lone surrogates.

    Raises InvalidConfigError naming `where`. With `sizes_only` (a Mantile config, whose numbers
    are sizes, counts and totals), a number of MAX_SIZE_DIGITS digits or more is refused too, so no
    later arithmetic on it can overflow a float. `allow_infinity`: accept `Infinity`/`-Infinity`,
    as a transformers config.json may hold them.
    """
    parsed = _parse_strict(data, where, fix, sizes_only, allow_infinity)
    try:
        # A lone surrogate ("\ud800") parses, but cannot be written out or printed as UTF-8.
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        shown = ascii(exc.object[exc.start : exc.end])[1:-1]
        raise InvalidConfigError(
            f"{where} holds a lone UTF-16 surrogate ({shown}) in a string, which is not text; {fix}"
        ) from None
    except RecursionError:
        raise InvalidConfigError(f"{where} nests JSON too deeply to be a config; {fix}") from None
    return parsed


def _parse_strict(
    data: bytes, where: str, fix: str, sizes_only: bool, allow_infinity: bool = False
) -> Any:
    try:
        return json.loads(
            data.decode("utf-8"),
            parse_constant=_infinity_only if allow_infinity else _refuse_constant,
            parse_float=_size_float if sizes_only else _finite_float,
            parse_int=_size_int if sizes_only else _bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except UnicodeDecodeError as exc:
        raise InvalidConfigError(
            f"{where} is not UTF-8 text (byte {exc.start}); a config.json must be JSON text"
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidConfigError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; {fix}"
        ) from None
    except _NotStrictJSON as exc:
        raise InvalidConfigError(f"{where} is not strict JSON: {exc}") from None
    except RecursionError:
        raise InvalidConfigError(
            f"{where} nests JSON too deeply to be a config.json; download config.json again"
        ) from None
    except ValueError as exc:
        raise InvalidConfigError(
            f"{where} is not valid JSON: {_first_line(exc)}; download config.json again"
        ) from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def load_config_file(path: Path) -> tuple[dict[str, Any], bytes]:
    """Read and parse a config.json, raising InvalidConfigError with file, line and column."""
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES)
    except NotARegularFileError as exc:
        if exc.kind == "a folder":
            raise InvalidConfigError(f"{path} is a folder, not a config.json file") from None
        raise InvalidConfigError(
            f"{path} {exc.strerror}; pass the {path.name} file itself"
        ) from None
    except OSError as exc:
        raise ConfigNotFoundError(
            f"cannot read {path}: {exc.strerror or exc}; check the path and its permissions"
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidConfigError(
            f"{path} is larger than {MAX_CONFIG_BYTES // 2**20} MiB; a config.json is a few KB "
            "of settings, so this is not one: pass the model's config.json"
        )
    parsed = parse_config_text(data, str(path), allow_infinity=True)
    if not isinstance(parsed, dict):
        raise InvalidConfigError(
            f"{path} holds a JSON {_JSON_TYPES.get(type(parsed), 'value')}, not an object; "
            "a config.json is one JSON object of model settings"
        )
    return parsed, data
