"""A corpus of bad inputs: each is refused with one clear HarnessError, exit 2, and nothing written.

Every entry lays out its input under tmp_path and says how the library and the `harness` command
are called on it. The library call must raise the named HarnessError leaf with a message that
names the file, field or model and says what to do; the command must exit with status 2, print
exactly one line on stderr (no traceback) and leave its output folder empty.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import errors
from harness.api import build_model_config
from harness.audit import load_mantile_config
from harness.cli import main
from harness.dtypes import bytes_per_element
from harness.gaps import case_results
from harness.output import save_tensor_inspection, write_build
from harness.pipeline.cases import load_case_file
from harness.pipeline.resolve import MAX_CONFIG_BYTES, get_model_config, sha256_of

from .conftest import ROOT, TINY_LLAMA

PINNED = "0123456789abcdef0123456789abcdef01234567"
CONFIG_TAIL = r"model/config\.json"


@dataclass(frozen=True)
class Place:
    """Where one bad input is laid out: a scratch folder, the output folder, and the environment."""

    tmp: Path
    out: Path
    monkeypatch: pytest.MonkeyPatch


Call = Callable[[], object]


@dataclass(frozen=True)
class BadInput:
    """One bad input: how to lay it out and call it, the error leaf, and what the message says."""

    id: str
    setup: Callable[[Place], tuple[Call, list[str]]]
    error: type[errors.HarnessError]
    says: tuple[str, ...]


def write_config(place: Place, content: dict[str, Any] | str | bytes) -> Path:
    """Write `content` as tmp/model/config.json (a dict as JSON, text or bytes as they are)."""
    path = place.tmp / "model" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def build_and_write(model: str, place: Place, **kwargs: Any) -> Call:
    """The library path of `harness build`: build the model, then write it into place.out."""

    def call() -> object:
        result = build_model_config(model, offline=True, use_cache=False, **kwargs)
        return write_build(result, place.out)

    return call


def config_input(
    content: dict[str, Any] | str | bytes,
) -> Callable[[Place], tuple[Call, list[str]]]:
    """A config.json with this content, built by the library and by `harness build`."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        path = str(write_config(place, content))
        return build_and_write(path, place), ["build", path, "--out", str(place.out), "--offline"]

    return setup


def tiny(**changes: Any) -> dict[str, Any]:
    """The tiny Llama config with some keys changed (a value of `...` drops the key)."""
    config = dict(TINY_LLAMA, **changes)
    return {key: value for key, value in config.items() if value is not ...}


def with_text(old: str, new: str) -> str:
    """The tiny Llama config as JSON text with one literal replaced (for NaN and friends)."""
    text = json.dumps(TINY_LLAMA)
    assert old in text
    return text.replace(old, new)


def model_input(model: str, *extra: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """A model argument (id or path) that resolves to nothing usable."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        revision = extra[extra.index("--revision") + 1] if "--revision" in extra else None

        def call() -> object:
            return get_model_config(model, revision, offline=True)

        return call, ["build", model, *extra, "--out", str(place.out), "--offline"]

    return setup


def unreadable_file(place: Place) -> tuple[Call, list[str]]:
    path = write_config(place, TINY_LLAMA)
    path.chmod(0)
    return model_input(str(path))(place)


def folder_without_config(place: Place) -> tuple[Call, list[str]]:
    (place.tmp / "empty").mkdir()
    return model_input(str(place.tmp / "empty"))(place)


def oversized_file(place: Place) -> tuple[Call, list[str]]:
    path = write_config(place, "")
    with path.open("wb") as stream:
        stream.write(b'{"pad": "' + b"x" * MAX_CONFIG_BYTES + b'"}')
    return model_input(str(path))(place)


def remote_code_with(*flags: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """An unknown model type that names Hub code in `auto_map`, with these CLI flags."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        config = tiny(
            model_type="my_remote_arch",
            architectures=["MyRemoteForCausalLM"],
            auto_map={"AutoModelForCausalLM": "modeling_my.MyRemoteForCausalLM"},
        )
        path = str(write_config(place, config))
        trust = "--trust-remote-code" in flags
        revision = flags[flags.index("--revision") + 1] if "--revision" in flags else None

        def call() -> object:
            result = build_model_config(
                path, revision, offline=True, use_cache=False, trust_remote_code=trust
            )
            return write_build(result, place.out)

        return call, ["build", path, *flags, "--out", str(place.out), "--offline"]

    return setup


def snapshot_input(
    meta: dict[str, Any] | str, config: dict[str, Any] | None = None
) -> Callable[[Place], tuple[Call, list[str]]]:
    """A vendored snapshot of org/model whose snapshot.json holds `meta` (text or a dict)."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        snapshots = place.tmp / "snapshots"
        folder = snapshots / "org" / "model"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps(config or TINY_LLAMA))
        (folder / "snapshot.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
        place.monkeypatch.setenv("HARNESS_SNAPSHOTS_DIR", str(snapshots))

        def call() -> object:
            return get_model_config("org/model", offline=True, snapshots_dir=snapshots)

        return call, ["build", "org/model", "--out", str(place.out), "--offline"]

    return setup


CASE_HEADER = "from harness import TODO, Claim, Fact, ModelCase\n"
GOOD_FACTS = 'facts={"num_layers": Fact(16, source="https://example.org/card")}'


def case_input(body: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """A cases/ folder whose only case file has this body, loaded and run by `harness gaps`."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        folder = place.tmp / "cases"
        folder.mkdir()
        path = folder / "test_bad.py"
        path.write_text(CASE_HEADER + body)

        def call() -> object:
            return load_case_file(path)

        return call, ["gaps", "--cases-dir", str(folder), "--out", str(place.out), "--offline"]

    return setup


def golden_input(text: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """A golden (Mantile config) file with this text, read by `harness check`."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        path = place.tmp / "golden" / "meta-llama_Llama-3.2-1B.json"
        path.parent.mkdir()
        path.write_text(text)
        argv = ["check", str(path), "--model", "meta-llama/Llama-3.2-1B", "--offline"]
        return (lambda: load_mantile_config(path)), argv

    return setup


def unknown_dtype(place: Place) -> tuple[Call, list[str]]:
    target = str(place.out / "tensors.csv")
    argv = ["inspect", "meta-llama/Llama-3.2-1B", "--dtype", "int4", "--tensors-out", target]
    return (lambda: bytes_per_element("int4")), argv


def tensors_out_format(place: Place) -> tuple[Call, list[str]]:
    target = place.out / "tensors.txt"
    return (lambda: save_tensor_inspection([], target)), [
        "inspect",
        "meta-llama/Llama-3.2-1B",
        "--offline",
        "--tensors-out",
        str(target),
    ]


def out_is_a_file(place: Place) -> tuple[Call, list[str]]:
    blocker = place.tmp / "not-a-folder"
    blocker.write_text("in the way\n")
    path = str(write_config(place, TINY_LLAMA))

    def call() -> object:
        return write_build(build_model_config(path, offline=True, use_cache=False), blocker)

    return call, ["build", path, "--out", str(blocker), "--offline"]


def layers_dir_missing(place: Place) -> tuple[Call, list[str]]:
    path = str(write_config(place, TINY_LLAMA))
    missing = str(place.tmp / "no-such-layers")
    argv = ["build", path, "--layers-dir", missing, "--out", str(place.out), "--offline"]
    return build_and_write(path, place, layers_dir=missing), argv


# --- round 2 (issue 16): special files, hostile text, field types, model size

TINY_MIXTRAL = dict(
    TINY_LLAMA,
    model_type="mixtral",
    architectures=["MixtralForCausalLM"],
    num_local_experts=4,
    num_experts_per_tok=2,
)
TINY_OPT = {
    "architectures": ["OPTForCausalLM"],
    "model_type": "opt",
    "hidden_size": 64,
    "ffn_dim": 128,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "vocab_size": 256,
    "word_embed_proj_dim": 64,
    "max_position_embeddings": 128,
}


def special_config(kind: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """tmp/model/config.json as a FIFO, a symlink to a device, or a folder."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        path = place.tmp / "model" / "config.json"
        path.parent.mkdir(parents=True)
        make_special(path, kind)
        return model_input(str(path))(place)

    return setup


def make_special(path: Path, kind: str) -> None:
    """Put a FIFO, a symlink to /dev/null or /dev/zero, or a folder at `path`."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(f"/dev/{kind}")


def device_model(place: Place) -> tuple[Call, list[str]]:
    return model_input("/dev/null")(place)


def special_snapshot(
    missing: str = "", fifo: str = ""
) -> Callable[[Place], tuple[Call, list[str]]]:
    """A vendored snapshot of org/model with one file missing or replaced by a FIFO."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        snapshots = place.tmp / "snapshots"
        folder = snapshots / "org" / "model"
        folder.mkdir(parents=True)
        data = json.dumps(TINY_LLAMA).encode()
        files = {"config.json": data, "snapshot.json": json.dumps({"sha256": sha256_of(data)})}
        for name, content in files.items():
            if name == fifo:
                os.mkfifo(folder / name)
            elif name != missing:
                (folder / name).write_bytes(
                    content if isinstance(content, bytes) else content.encode()
                )
        place.monkeypatch.setenv("HARNESS_SNAPSHOTS_DIR", str(snapshots))

        def call() -> object:
            return get_model_config("org/model", offline=True, snapshots_dir=snapshots)

        return call, ["build", "org/model", "--out", str(place.out), "--offline"]

    return setup


def special_golden(kind: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """The file given to `harness check` is a FIFO, a device or a folder."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        path = place.tmp / "golden.json"
        make_special(path, kind)
        argv = ["check", str(path), "--model", "meta-llama/Llama-3.2-1B", "--offline"]
        return (lambda: load_mantile_config(path)), argv

    return setup


def golden_bytes(make: Callable[[Path], None]) -> Callable[[Place], tuple[Call, list[str]]]:
    """A file for `harness check` written by `make`."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        path = place.tmp / "golden.json"
        make(path)
        argv = ["check", str(path), "--model", "meta-llama/Llama-3.2-1B", "--offline"]
        return (lambda: load_mantile_config(path)), argv

    return setup


def oversized_golden(path: Path) -> None:
    with path.open("wb") as stream:
        stream.write(b'{"layer_types": [], "pad": "' + b"x" * MAX_CONFIG_BYTES + b'"}')


def golden_with(**fields: Any) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        entry = {"name": "attention", "class": "AttentionLayer", "count": 16, "specs": {}}
        config = {"model_id": "m", "layer_types": [dict(entry, **fields)]}
        path.write_text(json.dumps(config).replace('"__BIG__"', "1" + "0" * 99))

    return make


def special_output(kind: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """--tensors-out names a FIFO, a symlink to /dev/null, a folder or a symlink to a file."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        target = place.tmp / "tensors.csv"
        if kind == "file-symlink":
            (place.tmp / "real.csv").write_text("old\n")
            target.symlink_to(place.tmp / "real.csv")
        else:
            make_special(target, kind)
        argv = ["inspect", "meta-llama/Llama-3.2-1B", "--offline", "--tensors-out", str(target)]
        return (lambda: save_tensor_inspection([], target)), argv

    return setup


def output_json_is_a_folder(place: Place) -> tuple[Call, list[str]]:
    path = str(write_config(place, TINY_LLAMA))
    out = place.tmp / "elsewhere"
    (out / "model.json").mkdir(parents=True)

    def call() -> object:
        return write_build(build_model_config(path, offline=True, use_cache=False), out)

    return call, ["build", path, "--out", str(out), "--offline"]


def layers_file(make: Callable[[Path], None]) -> Callable[[Place], tuple[Call, list[str]]]:
    """A --layers-dir holding one layer file made by `make`."""

    def setup(place: Place) -> tuple[Call, list[str]]:
        folder = place.tmp / "layers"
        folder.mkdir()
        make(folder / "attention.py")
        path = str(write_config(place, TINY_LLAMA))
        argv = ["build", path, "--layers-dir", str(folder), "--out", str(place.out), "--offline"]
        return build_and_write(path, place, layers_dir=str(folder)), argv

    return setup


def deeply_nested_source(path: Path) -> None:
    """200,000 unary minus signs: MemoryError inside Python's parser."""
    path.write_text("x = " + "-" * 200_000 + "1\n")


def long_chained_source(path: Path) -> None:
    """A sum of 200,000 terms: RecursionError while the parser builds the tree."""
    path.write_text("x = 1" + " + 1" * 200_000 + "\n")


def case_fifo(place: Place) -> tuple[Call, list[str]]:
    folder = place.tmp / "cases"
    folder.mkdir()
    path = folder / "test_bad.py"
    os.mkfifo(path)
    argv = ["gaps", "--cases-dir", str(folder), "--out", str(place.out), "--offline"]
    return (lambda: load_case_file(path)), argv


def cases_dir_fifo(place: Place) -> tuple[Call, list[str]]:
    folder = place.tmp / "cases"
    os.mkfifo(folder)
    argv = ["gaps", "--cases-dir", str(folder), "--out", str(place.out), "--offline"]
    return (lambda: case_results(folder)), argv


def claim(**fields: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """A case whose total_params Claim has these keyword arguments (Python source text)."""
    given = {"value": "1_000_000", "source": '"https://example.org"', "scope": '"all"', **fields}
    arguments = ", ".join(f"{key}={value}" for key, value in given.items())
    return case_input(
        'CASE = ModelCase(hf_id="org/model", revision=None, '
        f'facts={{"total_params": Claim({arguments})}})\n'
    )


def model_case(**fields: str) -> Callable[[Place], tuple[Call, list[str]]]:
    """A case with these ModelCase keyword arguments (Python source text) added."""
    given = {"hf_id": '"org/model"', "revision": "None", "facts": GOOD_FACTS[6:], **fields}
    arguments = ", ".join(f"{key}={value}" for key, value in given.items())
    return case_input(f"CASE = ModelCase({arguments})\n")


CORPUS: tuple[BadInput, ...] = (
    # --- the config file itself
    BadInput(
        "truncated-json",
        config_input('{"model_type": "llama", "hidden_'),
        errors.InvalidConfigError,
        (CONFIG_TAIL, r"is not valid JSON: .* line 1, column \d+", "download config.json again"),
    ),
    BadInput(
        "not-json",
        config_input("model_type = 'llama'\nhidden_size = 64\n"),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "is not valid JSON", "fix the file"),
    ),
    BadInput(
        "empty-file",
        config_input(""),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "is not valid JSON: Expecting value at line 1, column 1"),
    ),
    BadInput(
        "not-utf8",
        config_input(b'{"model_type": "ll\xffama"}'),
        errors.InvalidConfigError,
        (CONFIG_TAIL, r"is not UTF-8 text \(byte 18\)", "must be JSON text"),
    ),
    BadInput(
        "json-array",
        config_input("[1, 2]"),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "holds a JSON array, not an object", "one JSON object of model settings"),
    ),
    BadInput(
        "json-string",
        config_input('"llama"'),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "holds a JSON string, not an object"),
    ),
    BadInput(
        "json-null",
        config_input("null"),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "holds a JSON null, not an object"),
    ),
    BadInput(
        "nan",
        config_input(with_text('"hidden_size": 64', '"hidden_size": 64, "rms_norm_eps": NaN')),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "is not strict JSON: NaN is not a JSON number", "write a plain number"),
    ),
    BadInput(
        # transformers writes Infinity itself (time_step_limit), so it parses; as a size it is
        # refused by the limits
        "infinity-as-a-size",
        config_input(with_text('"hidden_size": 64', '"hidden_size": Infinity')),
        errors.InvalidConfigError,
        (CONFIG_TAIL, r"`hidden_size` is Infinity \(a JSON number\); it must be a positive"),
    ),
    BadInput(
        "float-overflowing-to-infinity",
        config_input(with_text('"hidden_size": 64', '"hidden_size": 64, "rope_theta": 1e999')),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "1e999 overflows to inf"),
    ),
    BadInput(
        "integer-with-5000-digits",
        config_input(with_text('"vocab_size": 256', '"vocab_size": ' + "9" * 5000)),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "an integer of 5,000 digits is no config value; fix the number"),
    ),
    BadInput(
        "duplicate-key",
        config_input(with_text('"hidden_size": 64', '"hidden_size": 64, "hidden_size": 128')),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "key 'hidden_size' appears twice in one object; keep one of them"),
    ),
    BadInput(
        "nested-100000-deep",
        config_input("[" * 100_000 + "]" * 100_000),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "nests JSON too deeply"),
    ),
    BadInput(
        "larger-than-16-mib",
        oversized_file,
        errors.InvalidConfigError,
        (CONFIG_TAIL, "is larger than 16 MiB", "pass the model's config.json"),
    ),
    # --- fields: types, signs, divisibility, limits
    BadInput(
        "hidden-size-string",
        config_input(tiny(hidden_size="4096")),
        errors.InvalidConfigError,
        (CONFIG_TAIL, r'`hidden_size` is "4096" \(a JSON string\); it must be a positive integer'),
    ),
    BadInput(
        "layers-fractional",
        config_input(tiny(num_hidden_layers=2.5)),
        errors.InvalidConfigError,
        (r"`num_hidden_layers` is 2\.5 \(a JSON number\)", "fix the config.json"),
    ),
    BadInput(
        "hidden-size-null",
        config_input(tiny(hidden_size=None)),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "`hidden_size` is null; set it to a positive integer"),
    ),
    BadInput(
        "vocab-boolean",
        config_input(tiny(vocab_size=True)),
        errors.InvalidConfigError,
        (r"`vocab_size` is true \(a JSON boolean\)",),
    ),
    BadInput(
        "hidden-size-zero",
        config_input(tiny(hidden_size=0)),
        errors.InvalidConfigError,
        ("`hidden_size` is 0; a size or count must be a positive integer",),
    ),
    BadInput(
        "layers-negative",
        config_input(tiny(num_hidden_layers=-2)),
        errors.InvalidConfigError,
        ("`num_hidden_layers` is -2; a size or count must be a positive integer",),
    ),
    BadInput(
        "intermediate-size-zero",
        config_input(tiny(intermediate_size=0)),
        errors.InvalidConfigError,
        ("`intermediate_size` is 0",),
    ),
    BadInput(
        "heads-not-dividing-hidden-size",
        config_input(tiny(num_attention_heads=6)),
        errors.InvalidConfigError,
        (
            r"`num_attention_heads` \(6\) does not divide `hidden_size` \(64\) and there is no "
            "`head_dim`",
        ),
    ),
    BadInput(
        "kv-heads-not-dividing-heads",
        config_input(tiny(num_key_value_heads=3)),
        errors.InvalidConfigError,
        (r"`num_key_value_heads` \(3\) does not divide `num_attention_heads` \(4\)",),
    ),
    BadInput(
        "kv-heads-above-heads",
        config_input(tiny(num_key_value_heads=8)),
        errors.InvalidConfigError,
        (r"`num_key_value_heads` \(8\) does not divide `num_attention_heads` \(4\)",),
    ),
    BadInput(
        "vocab-10-to-the-12",
        config_input(tiny(vocab_size=10**12)),
        errors.InvalidConfigError,
        (r"`vocab_size` is 1,000,000,000,000, above the limit of 16,777,216", "a typo"),
    ),
    BadInput(
        "a-million-layers",
        config_input(tiny(num_hidden_layers=10**6)),
        errors.InvalidConfigError,
        (r"`num_hidden_layers` is 1,000,000, above the limit of 1,024",),
    ),
    BadInput(
        "total-above-10-to-the-14",
        config_input(tiny(hidden_size=2**23, vocab_size=2**24)),
        errors.InvalidConfigError,
        (CONFIG_TAIL, r"counts 703,693,926,170,624 parameters, above the limit", "for a typo"),
    ),
    BadInput(
        "per-layer-intermediate-size-with-a-zero",
        config_input(tiny(intermediate_size=[128, 0])),
        errors.InvalidConfigError,
        (CONFIG_TAIL, r"`intermediate_size\[1\]` is 0; a size or count must be a positive"),
    ),
    BadInput(
        "pad-token-outside-vocab",
        config_input(tiny(pad_token_id=256)),
        errors.ModelBuildError,
        (CONFIG_TAIL, "Padding_idx must be within num_embeddings", "check the config values"),
    ),
    BadInput(
        "boolean-field-as-string",
        config_input(tiny(tie_word_embeddings="yes")),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "transformers rejected the config", "tie_word_embeddings", "expected bool"),
    ),
    BadInput(
        "architectures-missing",
        config_input(tiny(architectures=...)),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "has no `architectures` list", '"architectures": \\["LlamaForCausalLM"\\]'),
    ),
    BadInput(
        "architectures-a-string",
        config_input(tiny(architectures="LlamaForCausalLM")),
        errors.InvalidConfigError,
        ("has no `architectures` list",),
    ),
    BadInput(
        "model-type-missing",
        config_input(tiny(model_type=...)),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "has no `model_type`", '"model_type": "llama"'),
    ),
    BadInput(
        "model-type-unknown",
        config_input(tiny(model_type="llama_from_the_future")),
        errors.UnknownModelTypeError,
        ("'llama_from_the_future' is not known to the installed transformers", "upgrade"),
    ),
    BadInput(
        "remote-code-not-opted-in",
        remote_code_with(),
        errors.RemoteCodeRefusedError,
        ("needs code from the Hub", "trust_remote_code=True", "pinned 40-hex revision"),
    ),
    BadInput(
        "remote-code-opted-in-without-pin",
        remote_code_with("--trust-remote-code", "--revision", "main"),
        errors.RemoteCodeRefusedError,
        ("needs code from the Hub", "pinned 40-hex revision"),
    ),
    # --- model ids and paths
    BadInput(
        "id-path-traversal",
        model_input("../../x"),
        errors.ConfigNotFoundError,
        ("'../../x' is neither an existing path nor a Hub id", "org/name"),
    ),
    BadInput(
        "absolute-path-missing",
        model_input("/nonexistent/harness/config.json"),
        errors.ConfigNotFoundError,
        ("no config file at '/nonexistent/harness/config.json'", "pass a config.json"),
    ),
    BadInput(
        "absolute-folder-missing",
        model_input("/nonexistent/harness"),
        errors.ConfigNotFoundError,
        ("'/nonexistent/harness' is neither an existing path nor a Hub id",),
    ),
    BadInput(
        "id-with-shell-characters",
        model_input("org/name;rm -rf ~"),
        errors.ConfigNotFoundError,
        ("'org/name;rm -rf ~' is neither",),
    ),
    BadInput(
        "id-with-newline",
        model_input("org/na\nme"),
        errors.ConfigNotFoundError,
        (r"'org/na\\nme' is neither",),
    ),
    BadInput(
        "id-with-nul",
        model_input("org/name\x00"),
        errors.ConfigNotFoundError,
        (r"'org/name\\x00' is neither",),
    ),
    BadInput(
        "id-5000-characters",
        model_input("x" * 5000),
        errors.ConfigNotFoundError,
        ("'x{100}…' is neither",),
    ),
    BadInput(
        "id-empty",
        model_input(""),
        errors.ConfigNotFoundError,
        ("the model is empty; pass an HF id",),
    ),
    BadInput(
        "revision-traversal",
        model_input("some-org/some-model", "--revision", "../../../etc"),
        errors.ConfigNotFoundError,
        ("revision '../../../etc' of some-org/some-model is not a branch, tag or commit",),
    ),
    BadInput(
        "unreadable-file",
        unreadable_file,
        errors.ConfigNotFoundError,
        ("cannot read .*config.json: Permission denied", "check the path and its permissions"),
    ),
    BadInput(
        "folder-without-config",
        folder_without_config,
        errors.ConfigNotFoundError,
        ("no config file at '.*empty/config.json'", "a folder that holds one"),
    ),
    # --- vendored snapshots
    BadInput(
        "snapshot-json-empty",
        snapshot_input(""),
        errors.InvalidConfigError,
        ("snapshot.json is not valid JSON",),
    ),
    BadInput(
        "snapshot-json-without-sha256",
        snapshot_input({"revision": PINNED}),
        errors.InvalidConfigError,
        ("snapshot.json: `sha256` is null, not the 64-hex sha256", "sha256sum config.json"),
    ),
    BadInput(
        "snapshot-sha256-a-number",
        snapshot_input({"sha256": 12345}),
        errors.InvalidConfigError,
        ("snapshot.json: `sha256` is 12345",),
    ),
    BadInput(
        "snapshot-sha256-mismatch",
        snapshot_input({"sha256": "0" * 64}),
        errors.InvalidConfigError,
        ("does not match the sha256 recorded in .*snapshot.json", "re-vendor with `harness add`"),
    ),
    BadInput(
        "snapshot-revision-a-number",
        snapshot_input({"sha256": sha256_of(json.dumps(TINY_LLAMA).encode()), "revision": 7}),
        errors.InvalidConfigError,
        ("snapshot.json: `revision` is 7, not a string",),
    ),
    # --- case files
    BadInput(
        "case-file-without-case",
        case_input("OTHER = 1\n"),
        errors.CaseError,
        ("test_bad.py defines no CASE = ModelCase", "add one or rename the file"),
    ),
    BadInput(
        "case-of-wrong-type",
        case_input('CASE = {"hf_id": "org/model"}\n'),
        errors.CaseError,
        ("test_bad.py defines no CASE = ModelCase",),
    ),
    BadInput(
        "case-without-hf-id",
        case_input(f"CASE = ModelCase(revision=None, {GOOD_FACTS})\n"),
        errors.CaseError,
        ("test_bad.py fails to import: TypeError", "hf_id", "fix the file"),
    ),
    BadInput(
        "case-hf-id-traversal",
        case_input(f'CASE = ModelCase(hf_id="../../x", revision=None, {GOOD_FACTS})\n'),
        errors.CaseError,
        ("test_bad.py: ModelCase hf_id '../../x' is not a Hub id", "use the model's id"),
    ),
    BadInput(
        "claim-without-source",
        case_input(
            'CASE = ModelCase(hf_id="org/model", revision=None, '
            'facts={"total_params": Claim(1_000_000)})\n'
        ),
        errors.CaseError,
        ("test_bad.py: org/model: fact 'total_params' has no source", "every fact needs one"),
    ),
    BadInput(
        "claim-todo-as-text",
        case_input(
            'CASE = ModelCase(hf_id="org/model", revision=None, '
            'facts={"total_params": Claim("TODO", source="https://example.org")})\n'
        ),
        errors.CaseError,
        ("Claim value must be a positive int or TODO, got 'TODO'",),
    ),
    BadInput(
        "claim-boolean",
        case_input(
            'CASE = ModelCase(hf_id="org/model", revision=None, '
            'facts={"total_params": Claim(True, source="https://example.org")})\n'
        ),
        errors.CaseError,
        ("Claim value must be a positive int or TODO, got True",),
    ),
    BadInput(
        "structural-fact-as-claim",
        case_input(
            'CASE = ModelCase(hf_id="org/model", revision=None, '
            'facts={"num_layers": Claim(16, source="https://example.org")})\n'
        ),
        errors.CaseError,
        ("fact 'num_layers' must be a Fact",),
    ),
    BadInput(
        "case-remote-code-unpinned",
        case_input(
            f'CASE = ModelCase(hf_id="org/model", revision="main", trust_remote_code=True, '
            f"{GOOD_FACTS})\n"
        ),
        errors.CaseError,
        ("trust_remote_code=True needs a pinned 40-hex revision, got 'main'",),
    ),
    BadInput(
        "case-syntax-error",
        case_input("CASE = ModelCase(\n"),
        errors.CaseError,
        ("test_bad.py fails to import: SyntaxError",),
    ),
    # --- goldens and command-line arguments
    BadInput(
        "golden-not-json",
        golden_input("<<<<<<< HEAD\n{}\n"),
        errors.InvalidConfigError,
        ("meta-llama_Llama-3.2-1B.json is not valid JSON", "a Mantile config is one JSON object"),
    ),
    BadInput(
        "unknown-dtype",
        unknown_dtype,
        errors.HarnessError,
        ("int4",),
    ),
    BadInput(
        "tensors-out-unknown-format",
        tensors_out_format,
        errors.HarnessError,
        (r"tensors\.txt: format 'txt' is not csv or json; name the file \.csv or \.json",),
    ),
    BadInput(
        "out-is-a-file",
        out_is_a_file,
        errors.OutputWriteError,
        ("cannot write .*not-a-folder.*: File exists", "choose another output path"),
    ),
    BadInput(
        "layers-dir-missing",
        layers_dir_missing,
        errors.CatalogError,
        ("no-such-layers",),
    ),
    # --- round 2: inputs that are not regular files (never read, never block)
    BadInput(
        "config-is-a-fifo",
        special_config("fifo"),
        errors.InvalidConfigError,
        (CONFIG_TAIL, r"is a FIFO \(named pipe\), not a regular file", "config.json file"),
    ),
    BadInput(
        "config-links-to-dev-zero",
        special_config("zero"),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "is a character device, not a regular file"),
    ),
    BadInput(
        "config-json-is-a-folder",
        special_config("folder"),
        errors.ConfigNotFoundError,
        ("no config file at .*config.json/config.json",),
    ),
    BadInput(
        "model-is-dev-null",
        device_model,
        errors.InvalidConfigError,
        ("/dev/null is a character device, not a regular file",),
    ),
    BadInput(
        "snapshot-without-snapshot-json",
        special_snapshot(missing="snapshot.json"),
        errors.InvalidConfigError,
        ("org/model has no snapshot.json", "its sha256", "harness add"),
    ),
    BadInput(
        "snapshot-json-is-a-fifo",
        special_snapshot(fifo="snapshot.json"),
        errors.InvalidConfigError,
        (r"snapshot.json is a FIFO \(named pipe\), not a regular file",),
    ),
    BadInput(
        "snapshot-config-is-a-fifo",
        special_snapshot(fifo="config.json"),
        errors.InvalidConfigError,
        (r"model/config.json is a FIFO \(named pipe\), not a regular file",),
    ),
    BadInput(
        "check-file-is-a-fifo",
        special_golden("fifo"),
        errors.InvalidConfigError,
        (r"golden.json is a FIFO \(named pipe\), not a regular file",),
    ),
    BadInput(
        "check-file-links-to-dev-zero",
        special_golden("zero"),
        errors.InvalidConfigError,
        ("golden.json is a character device, not a regular file",),
    ),
    BadInput(
        "check-file-larger-than-16-mib",
        golden_bytes(oversized_golden),
        errors.InvalidConfigError,
        ("golden.json is larger than 16 MiB", "a Mantile config"),
    ),
    BadInput(
        "check-with-20000-entries",
        golden_bytes(
            lambda path: path.write_text(json.dumps({"layer_types": [{"name": "n"}] * 20_000}))
        ),
        errors.InvalidConfigError,
        ('"layer_types" has 20,000 entries, more than 16,384', "not a model config"),
    ),
    BadInput(
        "check-spec-near-10-to-the-99",
        golden_bytes(golden_with(specs={"hidden_size": "__BIG__", "num_heads": 4})),
        errors.InvalidConfigError,
        ("golden.json is not strict JSON", "100 digits", "no size or count"),
    ),
    BadInput(
        "check-count-1e99",
        golden_bytes(lambda path: path.write_text('{"layer_types": [{"count": 1e99}]}')),
        errors.InvalidConfigError,
        ("golden.json is not strict JSON", "1e99", "no size or count"),
    ),
    BadInput(
        "check-entry-name-with-a-lone-surrogate",
        golden_bytes(lambda path: path.write_text('{"layer_types": [{"name": "a\\udc80"}]}')),
        errors.InvalidConfigError,
        ("golden.json", "lone UTF-16 surrogate", r"\\udc80"),
    ),
    BadInput(
        "layers-dir-deeply-nested-source",
        layers_file(deeply_nested_source),
        errors.CatalogError,
        ("cannot scan layer file .*attention.py", "nests too deeply"),
    ),
    BadInput(
        "layers-dir-very-long-expression",
        layers_file(long_chained_source),
        errors.CatalogError,
        ("cannot scan layer file .*attention.py", "nests too deeply"),
    ),
    BadInput(
        "layers-dir-file-is-a-fifo",
        layers_file(os.mkfifo),
        errors.CatalogError,
        (r"cannot scan layer file .*attention.py: it is a FIFO \(named pipe\)",),
    ),
    BadInput(
        "cases-dir-is-a-fifo",
        cases_dir_fifo,
        errors.CaseError,
        (r"cases is a FIFO \(named pipe\), not a folder of case files", "--cases-dir"),
    ),
    BadInput(
        "case-file-is-a-fifo",
        case_fifo,
        errors.CaseError,
        (r"test_bad.py is a FIFO \(named pipe\), not a regular file",),
    ),
    # --- round 2: output paths that are not regular files (never replaced)
    BadInput(
        "tensors-out-is-a-fifo",
        special_output("fifo"),
        errors.OutputWriteError,
        (r"cannot write .*tensors.csv: it is a FIFO \(named pipe\)", "choose another output path"),
    ),
    BadInput(
        "tensors-out-links-to-dev-null",
        special_output("null"),
        errors.OutputWriteError,
        ("cannot write .*tensors.csv: it is a symbolic link", "choose another output path"),
    ),
    BadInput(
        "tensors-out-links-to-a-file",
        special_output("file-symlink"),
        errors.OutputWriteError,
        ("cannot write .*tensors.csv: it is a symbolic link",),
    ),
    BadInput(
        "tensors-out-is-a-folder",
        special_output("folder"),
        errors.OutputWriteError,
        ("cannot write .*tensors.csv: it is a folder",),
    ),
    BadInput(
        "output-json-is-a-folder",
        output_json_is_a_folder,
        errors.OutputWriteError,
        ("cannot write .*model.json: it is a folder",),
    ),
    # --- round 2: hostile text in a config
    BadInput(
        "lone-surrogate-in-a-value",
        config_input(with_text('"hidden_size": 64', '"hidden_size": 64, "name": "x\\ud800"')),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "lone UTF-16 surrogate", r"\\ud800", "download config.json again"),
    ),
    BadInput(
        "lone-surrogate-in-a-key",
        config_input(with_text('"hidden_size": 64', '"hidden_size": 64, "\\udfff": 1')),
        errors.InvalidConfigError,
        (CONFIG_TAIL, "lone UTF-16 surrogate"),
    ),
    BadInput(
        "id-with-trailing-newline",
        model_input("org/name\n"),
        errors.ConfigNotFoundError,
        (r"'org/name\\n' is neither an existing path nor a Hub id",),
    ),
    BadInput(
        "revision-with-trailing-newline",
        model_input("some-org/some-model", "--revision", "main\n"),
        errors.ConfigNotFoundError,
        (r"revision 'main\\n' of some-org/some-model is not a branch, tag or commit",),
    ),
    BadInput(
        "pinned-revision-with-trailing-newline",
        remote_code_with("--trust-remote-code", "--revision", PINNED + "\n"),
        errors.RemoteCodeRefusedError,
        ("needs code from the Hub", "pinned 40-hex revision"),
    ),
    BadInput(
        "local-folder-remote-code-under-a-pinned-revision",
        remote_code_with("--trust-remote-code", "--revision", PINNED),
        errors.RemoteCodeRefusedError,
        ("model/config.json", "local folder", "a revision pins nothing", "harness add"),
    ),
    # --- round 2: silent wrong numbers
    BadInput(
        "top-k-above-experts",
        config_input(dict(TINY_MIXTRAL, num_experts_per_tok=5)),
        errors.InvalidConfigError,
        (r"`num_experts_per_tok` \(5\) is above `num_local_experts` \(4\)", "routed"),
    ),
    BadInput(
        "top-k-above-default-experts",
        config_input(
            {
                k: v
                for k, v in dict(TINY_MIXTRAL, num_experts_per_tok=9).items()
                if k != "num_local_experts"
            }
        ),
        errors.InvalidConfigError,
        (r"`num_experts_per_tok` \(9\) is above `num_local_experts` \(8\)",),
    ),
    BadInput(
        "position-table-of-10-to-the-12-rows",
        config_input(dict(TINY_OPT, max_position_embeddings=10**12)),
        errors.InvalidConfigError,
        (r"`max_position_embeddings` is 1,000,000,000,000, above the limit",),
    ),
    BadInput(
        "largest-tensor-above-the-limit",
        config_input(tiny(vocab_size=2**24, hidden_size=2**15)),
        errors.InvalidConfigError,
        (
            CONFIG_TAIL,
            r"largest tensor .*embed_tokens.weight has 549,755,813,888 elements",
            "above the limit",
        ),
    ),
    BadInput(
        "sliding-window-zero",
        config_input(
            tiny(model_type="mistral", architectures=["MistralForCausalLM"], sliding_window=0)
        ),
        errors.InvalidConfigError,
        ("`sliding_window` is 0", "null"),
    ),
    BadInput(
        "sliding-window-negative",
        config_input(
            tiny(model_type="mistral", architectures=["MistralForCausalLM"], sliding_window=-4096)
        ),
        errors.InvalidConfigError,
        ("`sliding_window` is -4096",),
    ),
    BadInput(
        "sliding-window-boolean",
        config_input(
            tiny(model_type="mistral", architectures=["MistralForCausalLM"], sliding_window=True)
        ),
        errors.InvalidConfigError,
        (r"`sliding_window` is true \(a JSON boolean\)",),
    ),
    # --- round 2: case files with fields of the wrong type
    BadInput(
        "case-sources-a-string",
        model_case(sources='"https://x"'),
        errors.CaseError,
        ("org/model: `sources` is a string", "a list of URLs"),
    ),
    BadInput(
        "case-sources-holding-a-number",
        model_case(sources='["https://x", 7]'),
        errors.CaseError,
        (r"`sources\[1\]` is 7",),
    ),
    BadInput(
        "case-revision-a-number",
        model_case(revision="7"),
        errors.CaseError,
        ("org/model: `revision` is 7", "a string or None"),
    ),
    BadInput(
        "case-revision-with-a-newline",
        model_case(revision='"main\\n"'),
        errors.CaseError,
        (r"`revision` 'main\\n' is not a branch, tag or commit",),
    ),
    BadInput(
        "case-trust-remote-code-a-string",
        model_case(trust_remote_code='"yes"'),
        errors.CaseError,
        ("`trust_remote_code` is 'yes'", "True or False"),
    ),
    BadInput(
        "case-notes-a-list",
        model_case(notes='["a"]'),
        errors.CaseError,
        (r"`notes` is \['a'\]", "a string"),
    ),
    BadInput(
        "case-fact-source-a-number",
        model_case(facts='{"num_layers": Fact(16, source=7)}'),
        errors.CaseError,
        ("Fact `source` is 7", "a string"),
    ),
    BadInput(
        "case-fact-value-a-list",
        model_case(facts='{"num_layers": Fact([16], source="https://example.org")}'),
        errors.CaseError,
        (r"Fact `value` is \[16\]", "a number, string, boolean or None"),
    ),
    BadInput(
        "claim-scope-a-number",
        claim(scope="7"),
        errors.CaseError,
        ("Claim `scope` is 7", "a string"),
    ),
    BadInput(
        "claim-expected-difference-equal-to-the-value",
        claim(expected_difference="1_000_000", reason='"stored twice"'),
        errors.CaseError,
        ("`expected_difference` 1,000,000 is not smaller than the value 1,000,000",),
    ),
    BadInput(
        "claim-expected-difference-a-string",
        claim(expected_difference='"5"', reason='"x"'),
        errors.CaseError,
        ("Claim `expected_difference` is '5'", "an int"),
    ),
    BadInput(
        "claim-tolerance-a-string",
        claim(tolerance='"0.1"', reason='"rounded"'),
        errors.CaseError,
        ("Claim `tolerance` is '0.1'", r"a number in \[0, 1\)"),
    ),
    BadInput(
        "claim-reason-a-number",
        claim(tolerance="0.05", reason="5"),
        errors.CaseError,
        ("Claim `reason` is 5", "a string"),
    ),
)
IDS = [bad.id for bad in CORPUS]
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
NEEDS_NON_ROOT = {"unreadable-file"}


def test_the_corpus_has_110_distinct_inputs() -> None:
    assert len(set(IDS)) == len(IDS) >= 110


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Place:
    """A scratch folder and an empty output folder; skips what root cannot test."""
    if request.node.callspec.id in NEEDS_NON_ROOT and ROOT_USER:
        pytest.skip("root reads files whatever their mode, so chmod 000 cannot make one unreadable")
    out = tmp_path / "out"
    out.mkdir()
    return Place(tmp_path, out, monkeypatch)


@pytest.mark.parametrize("bad", CORPUS, ids=IDS)
def test_error_library_raises_one_clear_harness_error(bad: BadInput, place: Place) -> None:
    call, _ = bad.setup(place)
    with pytest.raises(bad.error) as caught:
        call()
    message = str(caught.value)
    assert isinstance(caught.value, errors.HarnessError)
    assert "\n" not in message and len(message) < 1200
    for pattern in bad.says:
        assert re.search(pattern, message), (pattern, message)
    assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, errors.HarnessError)
    assert list(place.out.iterdir()) == []


@pytest.mark.parametrize("bad", CORPUS, ids=IDS)
def test_error_cli_exits_2_with_one_line_and_writes_nothing(
    bad: BadInput, place: Place, capsys: pytest.CaptureFixture[str]
) -> None:
    _, argv = bad.setup(place)
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    captured = capsys.readouterr()
    assert status == 2, captured
    assert captured.err.count("\n") == 1 and captured.err.endswith("\n"), captured.err
    assert captured.err.startswith("harness") and ": error: " in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert list(place.out.iterdir()) == []


@pytest.mark.parametrize("bad_id", ["hidden-size-string", "unknown-dtype"])
def test_error_cli_in_a_subprocess_prints_no_traceback(bad_id: str, tmp_path: Path) -> None:
    """The real console: status 2, one line on stderr, nothing on stdout, nothing written."""
    bad = CORPUS[IDS.index(bad_id)]
    out = tmp_path / "out"
    out.mkdir()
    with pytest.MonkeyPatch.context() as monkeypatch:
        _, argv = bad.setup(Place(tmp_path, out, monkeypatch))
    env = dict(os.environ, HF_HUB_OFFLINE="1", HARNESS_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert list(out.iterdir()) == []
