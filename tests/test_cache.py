"""The inspection cache: lossless entries, every bad entry rebuilt, a warm run without torch."""

from __future__ import annotations

import json
import math
import os
import pkgutil
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import cache
from harness.api import flops_cached, inspect_cached, inspect_model_structure
from harness.cache import (
    CODE_MODULES,
    FLOPS,
    INSPECTION,
    CacheKey,
    CacheWriteWarning,
    UncacheableError,
    cache_info,
    cache_key,
    cached,
    clear_cache,
    code_digest,
    decode_value,
    encode_value,
    entry_path,
    inspection_from_payload,
    inspection_payload,
    read_entry,
    write_entry,
)
from harness.cli import main
from harness.pipeline.resolve import get_model_config

from .conftest import MODEL, TINY_LLAMA


@pytest.fixture(autouse=True)
def _own_cache(empty_cache: Path) -> Path:
    """The cache's own tests start from an empty cache each, never the session's shared one."""
    return empty_cache

pytest_plugins = ["pytester"]

KEY = CacheKey(
    kind="inspection",
    config_sha256="a" * 64,
    revision=None,
    trust_remote_code=False,
    transformers="5.24.0",
    torch="2.13.0+cpu",
    harness="0.1.0",
    code="c" * 64,
)
PAYLOAD = {"value": [1, 2, 3], "name": "x"}
Version = type("Version", (str,), {})  # like torch's TorchVersion: a str subclass


class Counter:
    """A compute function that counts its calls and returns a fresh payload."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return dict(PAYLOAD)


def through_cache(directory: Path, compute: Counter, key: CacheKey = KEY) -> dict[str, Any]:
    return cached(key, compute, encode=dict, decode=dict, directory=directory)


# ----------------------------------------------------------------------------- lossless values

_keys = st.one_of(st.text(max_size=5), st.integers(), st.booleans(), st.none())
_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(_keys, inner, max_size=4),
        st.dictionaries(st.just("$type"), inner, max_size=1),
    ),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same container types all the way down (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            _same(ka, kb) and _same(a[ka], b[kb]) for ka, kb in zip(a, b, strict=True)
        )
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@given(_values)
def test_encoded_values_survive_json_exactly(value: Any) -> None:
    text = json.dumps(encode_value(value), allow_nan=False)
    assert _same(decode_value(json.loads(text)), value)


def test_int_keys_tuples_and_non_finite_floats_are_kept() -> None:
    value = {"id2label": {0: "LABEL_0"}, "shape": (1, 2), "cap": math.inf, "low": -math.inf}
    decoded = decode_value(json.loads(json.dumps(encode_value(value), allow_nan=False)))
    assert decoded == value
    assert math.isnan(decode_value(json.loads(json.dumps(encode_value(math.nan)))))


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", Version("2.13.0")])
def test_error_values_json_cannot_carry_exactly_are_refused(value: Any) -> None:
    with pytest.raises(UncacheableError, match=r"cannot cache a \w+ value losslessly"):
        encode_value({"field": [value]})


def test_error_unknown_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown cache tag 'set'"):
        decode_value({"$type": "set", "items": []})


# ----------------------------------------------------------------------------- real inspections


@pytest.mark.parametrize("model", ["meta-llama/Llama-3.2-1B", "google/gemma-3-1b-it"])
def test_inspection_round_trips_through_an_entry(model: str) -> None:
    inspection = inspect_model_structure(model, offline=True)
    payload = json.loads(json.dumps(inspection_payload(inspection), allow_nan=False))
    assert inspection_from_payload(payload, inspection.resolved) == inspection


def test_inspect_cached_builds_once_then_reads(
    write_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.pipeline.inventory

    resolved = get_model_config(str(write_config(TINY_LLAMA)))
    builds: list[str] = []
    real = harness.pipeline.inventory.inspect_resolved

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append(resolved.model)
        return real(*args, **kwargs)

    monkeypatch.setattr(harness.pipeline.inventory, "inspect_resolved", counting)
    first = inspect_cached(resolved, directory=tmp_path)
    second = inspect_cached(resolved, directory=tmp_path)
    assert builds == [resolved.model]
    assert second == first
    inspect_cached(resolved, directory=tmp_path, use_cache=False)
    assert len(builds) == 2


def test_the_cache_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "here"))
    assert cache.cache_dir() == tmp_path / "here"
    monkeypatch.delenv("HARNESS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "harness"


def test_key_identity_follows_config_revision_and_remote_code_only(write_config) -> None:
    resolved = get_model_config(str(write_config(TINY_LLAMA)))
    key = cache_key(resolved)
    assert key.config_sha256 == resolved.sha256
    assert key.transformers == cache.package_versions()["transformers"]
    assert replace(key, transformers="0.0.1").identity == key.identity
    assert replace(key, config_sha256="b" * 64).identity != key.identity
    assert cache_key(resolved, revision="abc").identity != key.identity
    assert cache_key(resolved, trust_remote_code=True).identity != key.identity
    assert cache_key(replace(resolved, revision="abc")) == cache_key(resolved, revision="abc")


# ----------------------------------------------------------------------------- bad entries


def test_a_written_entry_is_a_hit(tmp_path: Path) -> None:
    compute = Counter()
    assert through_cache(tmp_path, compute) == PAYLOAD
    assert through_cache(tmp_path, compute) == PAYLOAD
    assert compute.calls == 1
    assert read_entry(KEY, tmp_path).status == "hit"


def _rewrite(path: Path, edit: Any) -> None:
    header, payload = path.read_text().splitlines()
    new_header, new_payload = edit(json.loads(header), payload)
    path.write_text(f"{json.dumps(new_header)}\n{new_payload}\n")


def _without(data: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != name}


def _other_key(field: str, value: Any) -> Any:
    return lambda header, payload: ({**header, "key": {**header["key"], field: value}}, payload)


BAD_ENTRIES = {
    "garbage": ("corrupt", lambda path: path.write_bytes(b"\x00\xffnot json")),
    "truncated": ("corrupt", lambda path: path.write_text(path.read_text()[:-40])),
    "empty": ("corrupt", lambda path: path.write_text("")),
    "not an entry": ("corrupt", lambda path: path.write_text("[1, 2]\n{}\n")),
    "nested too deeply": (
        "corrupt",
        lambda path: path.write_text("[" * 100_000 + "]" * 100_000 + "\n{}\n"),
    ),
    "payload edited": (
        "corrupt",
        lambda path: path.write_text(path.read_text().replace('"x"', '"y"')),
    ),
    "old format": (
        "stale",
        lambda path: _rewrite(path, lambda h, p: ({**h, "format": 0}, p)),
    ),
    "other transformers": ("stale", lambda path: _rewrite(path, _other_key("transformers", "4"))),
    "other harness code": ("stale", lambda path: _rewrite(path, _other_key("code", "d" * 64))),
    "missing key field": (
        "stale",
        lambda path: _rewrite(path, lambda h, p: ({**h, "key": _without(h["key"], "torch")}, p)),
    ),
    "other config sha256": (
        "mismatch",
        lambda path: _rewrite(path, _other_key("config_sha256", "b" * 64)),
    ),
    "other kind": ("mismatch", lambda path: _rewrite(path, _other_key("kind", "flops"))),
}


@pytest.mark.parametrize("mistake", list(BAD_ENTRIES))
def test_error_a_bad_entry_is_never_trusted_and_is_rewritten(tmp_path: Path, mistake: str) -> None:
    status, spoil = BAD_ENTRIES[mistake]
    compute = Counter()
    through_cache(tmp_path, compute)
    spoil(entry_path(KEY, tmp_path))
    assert read_entry(KEY, tmp_path).status == status
    assert through_cache(tmp_path, compute) == PAYLOAD
    assert compute.calls == 2
    assert read_entry(KEY, tmp_path).status == "hit"


MALFORMED_PAYLOADS = {
    "shape holds a string": lambda p: p["tensors"]["shape"].__setitem__(0, ["128256", 2048]),
    "fields of different lengths": lambda p: p["tensors"]["name"].pop(),
    "unknown tensor kind": lambda p: p["tensors"]["kind"].__setitem__(0, "weight"),
    "missing tensor field": lambda p: p["tensors"].pop("aliases"),
    "alias not a string": lambda p: p["tensors"]["aliases"].__setitem__(0, [7]),
    "notes not strings": lambda p: p.__setitem__("notes", [1]),
    "unknown config tag": lambda p: p.__setitem__("config", {"$type": "set", "items": []}),
    "version not a string": lambda p: p["versions"].__setitem__("torch", 2.13),
    "no tensors": lambda p: p.pop("tensors"),
}


@pytest.mark.parametrize("mistake", list(MALFORMED_PAYLOADS))
def test_error_a_well_formed_entry_with_a_malformed_payload_is_rebuilt(
    tmp_path: Path, mistake: str
) -> None:
    resolved = get_model_config(MODEL, offline=True)
    key = cache_key(resolved)
    inspection = inspect_cached(resolved, directory=tmp_path)
    payload = inspection_payload(inspection)
    MALFORMED_PAYLOADS[mistake](payload)
    write_entry(key, payload, tmp_path)
    assert read_entry(key, tmp_path).hit
    with pytest.raises((KeyError, ValueError)):
        inspection_from_payload(read_entry(key, tmp_path).payload or {}, resolved)
    assert inspect_cached(resolved, directory=tmp_path) == inspection
    assert read_entry(key, tmp_path).payload == inspection_payload(inspection)


def test_error_an_unwritable_cache_warns_and_still_returns(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    compute = Counter()
    with pytest.warns(
        CacheWriteWarning, match="inspection cache entry not written for config aaaa"
    ):
        assert through_cache(blocker, compute) == PAYLOAD
    assert compute.calls == 1


def test_error_an_uncacheable_result_warns_and_still_returns(tmp_path: Path) -> None:
    compute = Counter()
    with pytest.warns(CacheWriteWarning, match="cannot cache a set value losslessly.*harness bug"):
        cached(KEY, compute, encode=lambda _: encode_value({1}), decode=dict, directory=tmp_path)
    assert compute.calls == 1
    assert read_entry(KEY, tmp_path).status == "missing"


# ----------------------------------------------------------------------------- flops results


def test_flop_reports_are_cached_by_config_and_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.api import build_model_config
    from harness.pipeline import flops

    result = build_model_config(MODEL, offline=True, use_cache=False)
    calls: list[int] = []

    def fake_cross_check(resolved: Any, entries: Any, **_: Any) -> flops.FlopsReport:
        calls.append(len(entries))
        row = flops.ComponentFlops("attn", "X", "prefill", "m", 1, 1, flops.Status.MATCH)
        return flops.FlopsReport(
            resolved.hf_id,
            resolved.sha256,
            1,
            8,
            None,
            "eager",
            None,
            {"torch": Version("2")},
            (row,),
        )

    monkeypatch.setattr(flops, "cross_check", fake_cross_check)
    resolved, entries = result.inspection.resolved, result.entries
    first = flops_cached(resolved, entries, directory=tmp_path)
    assert flops_cached(resolved, entries, directory=tmp_path) == first
    assert first.model == MODEL
    assert len(calls) == 1
    flops_cached(resolved, entries[:-1], directory=tmp_path)
    assert len(calls) == 2


# ----------------------------------------------------------------------------- code digest


def test_the_code_digest_names_the_modules_that_compute_each_result() -> None:
    from harness import api
    from harness.catalog import CATALOG, instantiate
    from harness.catalog.formulas import formula_for
    from harness.pipeline import flops, inventory

    computed_by = {
        INSPECTION: (
            api.inspect_cached,
            inventory.inspect_resolved,
            cache.inspection_payload,
            cache.inspection_from_payload,
        ),
        FLOPS: (api.flops_cached, flops.cross_check, instantiate, formula_for, cache.flops_payload),
    }
    for kind, functions in computed_by.items():
        assert {f.__module__ for f in functions} <= set(CODE_MODULES[kind]), kind
        assert len(code_digest(*CODE_MODULES[kind])) == 64
    # the FLOP formulas: every catalog class's module and its bases'
    formulas = {
        cls.__module__
        for layer in CATALOG.values()
        for cls in layer.__mro__
        if cls.__module__.startswith("harness.")
    }
    assert formulas <= set(CODE_MODULES[FLOPS])
    # every module of the flops step
    step = {f"{flops.__name__}.{module.name}" for module in pkgutil.iter_modules(flops.__path__)}
    assert step <= set(CODE_MODULES[FLOPS])


def test_a_source_change_changes_the_code_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "probe_step.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = code_digest("probe_step")
    (tmp_path / "probe_step.py").write_text("x = 2\n")
    code_digest.cache_clear()
    assert code_digest("probe_step") != first


def test_error_a_module_the_digest_names_is_not_found() -> None:
    with pytest.raises(ModuleNotFoundError, match=r"'harness\.nowhere', which is not found"):
        code_digest("harness.nowhere")


# ----------------------------------------------------------------------------- info and clear


def test_info_counts_and_clear_removes_only_entries(tmp_path: Path) -> None:
    through_cache(tmp_path, Counter())
    through_cache(tmp_path, Counter(), replace(KEY, kind="flops"))
    (tmp_path / "entries" / f".{'a' * 64}.inspection.jsonl.k2x_9ab1.tmp").write_text("leftover")
    (tmp_path / "keep.txt").write_text("not ours")
    info = cache_info(tmp_path)
    assert info.entries == {"flops": 1, "inspection": 1}
    assert info.size_bytes == sum(p.stat().st_size for p in (tmp_path / "entries").glob("*.jsonl"))
    assert info.lines()[1] == "entries:   2 (flops: 1, inspection: 1)"
    assert clear_cache(tmp_path).removed == 2
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]
    assert cache_info(tmp_path).total_entries == 0


def test_cli_cache_info_clear_and_no_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    assert main(["inspect", MODEL, "--offline", "--no-cache"]) == 0
    assert cache_info(tmp_path).total_entries == 0
    assert main(["inspect", MODEL, "--offline"]) == 0
    capsys.readouterr()
    assert main(["cache", "info"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"directory: {tmp_path}",
        "entries:   1 (inspection: 1)",
    ]
    assert main(["cache", "clear"]) == 0
    assert capsys.readouterr().out == f"removed 1 entries from {tmp_path}\n"
    assert cache_info(tmp_path).total_entries == 0


# ----------------------------------------------------------------------------- the plugin

PROBE = """
import json
import sys


def pytest_unconfigure(config):
    loaded = sorted({name.split(".")[0] for name in sys.modules} & {"torch", "transformers"})
    (config.rootpath / "loaded.json").write_text(json.dumps(loaded))
"""


def test_a_warm_conformance_run_imports_neither_torch_nor_transformers(
    pytester: pytest.Pytester, project_template: Path
) -> None:
    # The project's own cache (HARNESS_CACHE_DIR of this test) starts empty.
    shutil.copytree(project_template, pytester.path, dirs_exist_ok=True)
    pytester.makeconftest(PROBE)
    entries = Path(os.environ["HARNESS_CACHE_DIR"]) / "entries"

    def run(*args: str) -> list[str]:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
        assert result.ret == 0, result.stdout.str()[-2000:]
        return json.loads((pytester.path / "loaded.json").read_text())

    assert run("--snapshot-update") == ["torch", "transformers"]
    written = {path: path.stat().st_mtime_ns for path in entries.iterdir()}
    assert written
    assert run() == []
    assert run("--harness-no-cache") == ["torch", "transformers"]
    assert {path: path.stat().st_mtime_ns for path in entries.iterdir()} == written


HYPOTHESIS_PROBE = """
import json
import sys


def pytest_unconfigure(config):
    state = {
        "plugin": config.pluginmanager.has_plugin("hypothesispytest"),
        "imported": "hypothesis" in sys.modules,
    }
    (config.rootpath / "hypothesis.json").write_text(json.dumps(state))
"""


def test_hypothesis_plugin_is_dropped_only_when_no_test_imports_hypothesis(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(HYPOTHESIS_PROBE)
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")

    def run() -> dict[str, bool]:
        pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
        return json.loads((pytester.path / "hypothesis.json").read_text())

    assert run() == {"plugin": False, "imported": False}
    (pytester.path / "test_plain.py").write_text(
        "from hypothesis import given, strategies as st\n\n\n"
        "@given(st.integers())\ndef test_plain(n):\n    assert n + 0 == n\n"
    )
    assert run() == {"plugin": True, "imported": True}
