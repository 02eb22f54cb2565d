"""`harness cache info|clear`: show or clear the inspection cache."""

from __future__ import annotations

import argparse

from .common import say

__all__ = ["add_parser", "clear", "info"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness cache` and its two actions."""
    cache = commands.add_parser("cache", help="show or clear the inspection cache")
    cache_commands = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    cache_commands.add_parser("info", help="cache folder, entries and size").set_defaults(func=info)
    cache_commands.add_parser(
        "clear", help="delete the cache entries (only files the harness wrote)"
    ).set_defaults(func=clear)


def info(args: argparse.Namespace) -> int:
    """Folder, entries by kind, size."""
    from ..cache import cache_info

    say(*cache_info().lines())
    return 0


def clear(args: argparse.Namespace) -> int:
    """Delete what the harness wrote in the cache folder; list what it left."""
    from ..cache import clear_cache

    say(*clear_cache().lines())
    return 0
