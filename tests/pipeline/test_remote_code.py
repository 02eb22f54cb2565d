"""Remote code: transformers is never asked to run Hub code unless a case or the CLI opts in with a
pinned 40-hex revision. Spies on every transformers entry point the harness calls record the
keyword arguments each one receives.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import errors
from harness.api import build_case, inspect_model_structure
from harness.cli import main
from harness.pipeline.cases import Fact, ModelCase
from harness.pipeline.resolve import sha256_of

from ..conftest import ROOT, TINY_LLAMA

PINNED = "0123456789abcdef0123456789abcdef01234567"
REMOTE = dict(
    TINY_LLAMA,
    model_type="my_remote_arch",
    architectures=["MyRemoteForCausalLM"],
    auto_map={
        "AutoConfig": "configuration_my.MyRemoteConfig",
        "AutoModelForCausalLM": "modeling_my.MyRemoteForCausalLM",
    },
)
NATIVE_WITH_AUTO_MAP = dict(TINY_LLAMA, auto_map=REMOTE["auto_map"])
FACTS = {"num_layers": Fact(2, source="https://example.org/card")}


class Spies:
    """Every call the harness makes into transformers' config and model entry points."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def named(self, name: str) -> list[dict[str, Any]]:
        """The keyword arguments of each call to one entry point."""
        return [kwargs for called, kwargs in self.calls if called == name]

    def remote_code_requests(self) -> list[tuple[str, dict[str, Any]]]:
        """Calls that asked for remote code, or handed transformers an auto_map."""
        return [
            (name, kwargs)
            for name, kwargs in self.calls
            if kwargs.get("trust_remote_code") or "auto_map" in kwargs
        ]


@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> Spies:
    """Wrap AutoConfig.for_model/from_pretrained, AutoModelForCausalLM.from_config and the Llama
    class; from_pretrained never reaches the Hub: it returns a small Llama config."""
    import transformers

    # The first access to a model class can swap the module in sys.modules: patch the live one.
    assert transformers.LlamaForCausalLM and transformers.AutoModelForCausalLM
    transformers = sys.modules["transformers"]
    recorded = Spies()
    for_model = transformers.AutoConfig.for_model
    from_config = transformers.AutoModelForCausalLM.from_config

    def spy_for_model(model_type: str, *args: Any, **kwargs: Any) -> Any:
        recorded.calls.append(("AutoConfig.for_model", kwargs))
        return for_model(model_type, *args, **kwargs)

    def spy_from_pretrained(*args: Any, **kwargs: Any) -> Any:
        recorded.calls.append(("AutoConfig.from_pretrained", {"args": args, **kwargs}))
        config = {k: v for k, v in TINY_LLAMA.items() if k not in {"model_type", "architectures"}}
        return transformers.LlamaConfig(**config)

    def spy_from_config(config: Any, *args: Any, **kwargs: Any) -> Any:
        recorded.calls.append(("AutoModelForCausalLM.from_config", kwargs))
        return from_config(config, *args, **kwargs)

    class LlamaForCausalLM(transformers.LlamaForCausalLM):
        def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
            recorded.calls.append(("LlamaForCausalLM", kwargs))
            super().__init__(config, *args, **kwargs)

    monkeypatch.setattr(transformers.AutoConfig, "for_model", spy_for_model)
    monkeypatch.setattr(transformers.AutoConfig, "from_pretrained", spy_from_pretrained)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_config", spy_from_config)
    monkeypatch.setattr(transformers, "LlamaForCausalLM", LlamaForCausalLM)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", _no_network)
    return recorded


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("the network was touched")


def test_native_model_passes_no_remote_code_argument(spies: Spies, write_config) -> None:
    inspection = inspect_model_structure(str(write_config(TINY_LLAMA)))
    assert inspection.model_class == "LlamaForCausalLM"
    assert [name for name, _ in spies.calls] == ["AutoConfig.for_model", "LlamaForCausalLM"]
    assert spies.named("LlamaForCausalLM") == [{}]
    assert spies.remote_code_requests() == []


@pytest.mark.parametrize(
    ("trust", "revision"), [(False, None), (True, None), (True, PINNED)], ids=str
)
def test_native_model_type_ignores_auto_map_even_when_opted_in(
    spies: Spies, write_config, trust: bool, revision: str | None
) -> None:
    inspection = inspect_model_structure(
        str(write_config(NATIVE_WITH_AUTO_MAP)), revision, trust_remote_code=trust
    )
    assert spies.named("AutoConfig.from_pretrained") == []
    assert spies.remote_code_requests() == []
    assert "auto_map" not in inspection.config
    assert "auto_map ignored: the model type is built by transformers itself" in inspection.notes


@pytest.mark.parametrize("config", [NATIVE_WITH_AUTO_MAP, REMOTE], ids=["native", "remote"])
def test_a_config_file_cannot_opt_in_by_itself(spies: Spies, write_config, config: dict) -> None:
    """`"trust_remote_code": true` inside config.json is data, never the caller's consent."""
    path = str(write_config(dict(config, trust_remote_code=True)))
    if config is REMOTE:
        with pytest.raises(errors.RemoteCodeRefusedError):
            inspect_model_structure(path, PINNED)
    else:
        inspect_model_structure(path, PINNED)
    assert spies.remote_code_requests() == []


def test_vendored_falcon_with_auto_map_is_built_by_transformers(spies: Spies) -> None:
    inspection = inspect_model_structure("tiiuae/falcon-7b", offline=True)
    assert inspection.model_class == "FalconForCausalLM"
    assert spies.named("AutoConfig.from_pretrained") == []
    assert spies.remote_code_requests() == []


def test_unknown_architecture_falls_back_without_remote_code(spies: Spies, write_config) -> None:
    config = dict(NATIVE_WITH_AUTO_MAP, architectures=["SomethingElseForCausalLM"])
    inspect_model_structure(str(write_config(config)), PINNED, trust_remote_code=True)
    assert spies.named("AutoModelForCausalLM.from_config") == [{}]
    assert spies.remote_code_requests() == []


@pytest.mark.parametrize(
    ("trust", "revision"),
    [
        (False, None),
        (False, PINNED),
        (True, None),
        (True, "main"),
        (True, "v1.0"),
        (True, PINNED[:-1]),
        (True, PINNED.upper()),
        (True, PINNED + "0"),
    ],
    ids=["default", "pinned-only", "opt-in-only", "branch", "tag", "39-hex", "upper-hex", "41-hex"],
)
def test_error_unknown_type_with_auto_map_is_refused(
    spies: Spies, write_config, trust: bool, revision: str | None
) -> None:
    with pytest.raises(errors.RemoteCodeRefusedError, match="pinned 40-hex revision"):
        inspect_model_structure(str(write_config(REMOTE)), revision, trust_remote_code=trust)
    assert spies.calls == []


def test_error_a_local_folder_runs_no_remote_code_even_opted_in_and_pinned(
    spies: Spies, write_config
) -> None:
    """A 40-hex revision names a Hub commit: it pins nothing of a folder's Python files."""
    path = str(write_config(REMOTE))
    with pytest.raises(errors.RemoteCodeRefusedError, match="a revision pins nothing"):
        inspect_model_structure(path, PINNED, trust_remote_code=True)
    assert spies.calls == []


def test_opt_in_with_pinned_revision_asks_transformers_for_that_revision(
    spies: Spies, remote_snapshot: Path
) -> None:
    inspection = inspect_model_structure("org/remote-model", PINNED, trust_remote_code=True)
    assert spies.named("AutoConfig.from_pretrained") == [
        {
            "args": ("org/remote-model",),
            "revision": PINNED,
            "trust_remote_code": True,
            "local_files_only": True,
        }
    ]
    assert spies.named("AutoConfig.for_model") == []
    assert "built with reviewed remote code" in inspection.notes


def test_error_unknown_type_without_auto_map_is_unknown_not_remote(
    spies: Spies, write_config
) -> None:
    config = {k: v for k, v in REMOTE.items() if k != "auto_map"}
    with pytest.raises(errors.UnknownModelTypeError, match="'my_remote_arch' is not known"):
        inspect_model_structure(str(write_config(config)), PINNED, trust_remote_code=True)
    assert spies.calls == []


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        ([], "needs code from the Hub"),
        (["--trust-remote-code"], "needs code from the Hub"),
        (["--revision", PINNED], "needs code from the Hub"),
        (["--trust-remote-code", "--revision", "main"], "needs code from the Hub"),
        (["--trust-remote-code", "--revision", PINNED], "a revision pins nothing"),
    ],
    ids=["no-flags", "trust-only", "pin-only", "trust-branch", "trust-pinned"],
)
def test_error_cli_runs_no_code_of_a_local_folder(
    spies: Spies,
    write_config,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    says: str,
) -> None:
    status = main(["inspect", str(write_config(REMOTE)), "--no-cache", *flags])
    err = capsys.readouterr().err
    assert status == 2, err
    assert spies.named("AutoConfig.from_pretrained") == []
    assert says in err and "--trust-remote-code" in err


def test_cli_needs_both_flags_for_a_hub_model(
    spies: Spies, remote_snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (remote_snapshot / "snapshot.json").write_text(
        json.dumps({"sha256": sha256_of((remote_snapshot / "config.json").read_bytes())})
    )
    assert main(["inspect", "org/remote-model", "--no-cache", "--revision", PINNED]) == 2
    assert "needs code from the Hub" in capsys.readouterr().err
    assert main(["inspect", "org/remote-model", "--no-cache", "--trust-remote-code"]) == 2
    assert "pinned 40-hex revision" in capsys.readouterr().err
    flags = ["--trust-remote-code", "--revision", PINNED]
    assert main(["inspect", "org/remote-model", "--no-cache", *flags]) == 0
    requests = spies.named("AutoConfig.from_pretrained")
    assert [(r["revision"], r["trust_remote_code"]) for r in requests] == [(PINNED, True)]


def test_cli_offline_flag_keeps_opted_in_remote_code_off_the_network(
    spies: Spies, remote_snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    flags = ["--trust-remote-code", "--revision", PINNED, "--no-cache"]
    assert main(["inspect", "org/remote-model", "--offline", *flags]) == 0
    assert main(["inspect", "org/remote-model", *flags]) == 0
    requests = spies.named("AutoConfig.from_pretrained")
    assert [r["local_files_only"] for r in requests] == [True, False]
    assert "HF_HUB_OFFLINE" not in os.environ, "--offline is scoped to the command"


def test_error_opted_in_remote_code_that_cannot_load_is_one_line(
    remote_snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Offline with the code in no cache: a harness error, not an OSError traceback."""
    with pytest.raises(errors.ModelBuildError, match="opted-in remote code at revision"):
        inspect_model_structure("org/remote-model", PINNED, trust_remote_code=True, use_cache=False)
    flags = ["--trust-remote-code", "--revision", PINNED, "--no-cache"]
    status = main(["inspect", "org/remote-model", *flags])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "could not be loaded" in err[0]


@pytest.fixture
def remote_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A vendored snapshot of org/remote-model (unknown type, auto_map) pinned to PINNED."""
    folder = tmp_path / "snapshots" / "org" / "remote-model"
    folder.mkdir(parents=True)
    data = json.dumps(REMOTE).encode()
    (folder / "config.json").write_bytes(data)
    meta = {"hf_id": "org/remote-model", "revision": PINNED, "sha256": sha256_of(data)}
    (folder / "snapshot.json").write_text(json.dumps(meta))
    monkeypatch.setenv("HARNESS_SNAPSHOTS_DIR", str(tmp_path / "snapshots"))
    return folder


def test_error_case_without_opt_in_is_refused(spies: Spies, remote_snapshot: Path) -> None:
    case = ModelCase(hf_id="org/remote-model", revision=PINNED, facts=FACTS)
    with pytest.raises(errors.RemoteCodeRefusedError, match="org/remote-model needs code"):
        build_case(case, use_cache=False)
    assert spies.calls == []


def test_error_case_opting_in_without_pin_is_malformed() -> None:
    with pytest.raises(errors.CaseError, match="needs a pinned 40-hex revision, got 'main'"):
        ModelCase(hf_id="org/remote-model", revision="main", facts=FACTS, trust_remote_code=True)


def test_case_opting_in_with_pin_reaches_transformers_once(
    spies: Spies, remote_snapshot: Path
) -> None:
    case = ModelCase(hf_id="org/remote-model", revision=PINNED, facts=FACTS, trust_remote_code=True)
    build_case(case, use_cache=False)
    assert spies.named("AutoConfig.from_pretrained") == [
        {
            "args": ("org/remote-model",),
            "revision": PINNED,
            "trust_remote_code": True,
            "local_files_only": True,
        }
    ]


ENTRY_POINTS = {
    "from_pretrained",
    "from_config",
    "for_model",
    "pipeline",
    "get_class_from_dynamic_module",
}


def remote_code_call_sites() -> list[str]:
    """`file:function` of every harness call into a transformers entry point that passes
    `trust_remote_code` (what a config file holds never can: the runtime tests cover that)."""
    sites = []
    package = ROOT / "harness"
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
                if name not in ENTRY_POINTS:
                    continue
                if any(k.arg == "trust_remote_code" for k in node.keywords):
                    sites.append(f"{path.relative_to(package).as_posix()}:{function.name}")
    return sorted(set(sites))


def test_only_one_call_site_can_ask_for_remote_code() -> None:
    """A new call passing trust_remote_code (or **kwargs) to transformers needs a review here."""
    assert remote_code_call_sites() == ["pipeline/inventory.py:_remote_config"]


def test_the_call_site_scan_sees_a_new_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_root = tmp_path / "repo"
    (fake_root / "harness").mkdir(parents=True)
    (fake_root / "harness" / "sneaky.py").write_text(
        "def load(name):\n"
        "    import transformers\n"
        "    return transformers.AutoModel.from_pretrained(name, trust_remote_code=True)\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", fake_root)
    assert remote_code_call_sites() == ["sneaky.py:load"]
    (fake_root / "harness" / "pipeline").mkdir()
    (fake_root / "harness" / "sneaky.py").rename(fake_root / "harness" / "pipeline" / "sneaky.py")
    assert remote_code_call_sites() == ["pipeline/sneaky.py:load"]
