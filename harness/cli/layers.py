"""`harness layers`: list the layer classes of the catalog or of a folder."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .common import say, say_json

if TYPE_CHECKING:
    from ..catalog import LayerClassInfo

__all__ = ["add_parser", "layer_lines", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness layers`."""
    layers = commands.add_parser("layers", help="list the layer classes of the catalog or a folder")
    layers.add_argument(
        "--layers-dir", help="folder of Python files to read instead of the catalog"
    )
    layers.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    layers.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Describe every class (read, never imported), as text or JSON."""
    from ..catalog import get_supported_layers

    layers = get_supported_layers(args.layers_dir)
    if args.json:
        say_json({name: info.as_dict() for name, info in layers.items()})
    else:
        say(*layer_lines(layers))
    return 0


def layer_lines(layers: Mapping[str, LayerClassInfo]) -> list[str]:
    """Per concrete class: its docstring, required and optional specs, parallelism."""
    lines = []
    for name, info in layers.items():
        if info.abstract:
            continue
        optional = ", ".join(f"{k}={v!r}" for k, v in info.spec_optional.items())
        parallel = ", ".join(sorted(info.supported_parallelism or ())) or "-"
        lines.append(f"{name}: {info.docstring}")
        lines.append(f"  required: {', '.join(info.spec_required)}")
        lines.append(f"  optional: {optional or '-'}")
        lines.append(f"  parallelism: {parallel}")
    return lines
