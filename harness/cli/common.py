"""What the sub-commands share: printing untrusted text safely, the common options, the token."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from ..errors import json_printable, printable

if TYPE_CHECKING:
    from ..pipeline.check import CheckResult
    from ..pipeline.config import BuildResult

__all__ = [
    "add_model_arguments",
    "add_native_class",
    "add_no_cache",
    "build_with_case",
    "hub_token",
    "say",
    "say_json",
]


def say(*lines: str) -> None:
    """Print each argument as one line on stdout, through `printable`: untrusted text (architecture
    names, entry names, docstrings of --layers-dir classes, paths) never reaches the terminal raw,
    and a newline inside it is shown as `\\n`, never starts a line of its own."""
    for line in lines:
        print(printable(line))


def say_json(data: Any) -> None:
    """Write `data` as JSON on stdout, with terminal-active characters as JSON escapes."""
    from ..writers import dump_json

    sys.stdout.write(json_printable(dump_json(data)))


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The model, its revision, --offline, --trust-remote-code, --native-class and --no-cache."""
    parser.add_argument("model", help="HF id (org/name), a config.json, or a folder holding one")
    parser.add_argument("--revision", help="Hub revision (branch, tag or 40-hex commit)")
    parser.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="never touch the network (also on when HF_HUB_OFFLINE=1)",
    )
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow Hub code for model types transformers lacks; needs a pinned 40-hex --revision. "
        "This runs code from the Hub on this machine: review it first",
    )
    add_native_class(parser)
    add_no_cache(parser)


def add_native_class(parser: argparse.ArgumentParser) -> None:
    """--native-class: build the transformers class a config names behind its auto_map."""
    parser.add_argument(
        "--native-class",
        action="store_true",
        help="build the transformers class that `architectures` names even though `auto_map` "
        "points at Hub code for a model type transformers lacks (Kimi-K2 names "
        "DeepseekV3ForCausalLM); no Hub code runs, and the output's provenance notes it",
    )


def add_no_cache(parser: argparse.ArgumentParser) -> None:
    """--no-cache: build on the meta device instead of reading the inspection cache."""
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="build on the meta device instead of reading the inspection cache "
        "(see `harness cache info`); the cache is neither read nor written",
    )


def hub_token() -> str | None:
    """The Hub token from $HF_TOKEN, if set (huggingface_hub finds a logged-in one itself)."""
    return os.environ.get("HF_TOKEN") or None


def build_with_case(args: argparse.Namespace) -> tuple[BuildResult, list[CheckResult] | None]:
    """Build the model; when a case file declares it, check its facts and embed the report."""
    from ..api import build_model_config, with_validation
    from ..pipeline.cases import find_case

    result = build_model_config(
        args.model,
        args.revision,
        offline=args.offline,
        token=hub_token(),
        trust_remote_code=args.trust_remote_code,
        layers_dir=getattr(args, "layers_dir", None),
        use_cache=not args.no_cache,
        stand_ins=not getattr(args, "no_stand_ins", False),
        hf_id=getattr(args, "hf_id", None),
        native_class=args.native_class,
    )
    hf_id = result.config["hf_model_id"]
    case = find_case(hf_id) if hf_id else None
    if case is None:
        return result, None
    return with_validation(case, result)
