"""An entry by name, the LM head, a folder of layer classes with the catalog's constructors."""

from __future__ import annotations

from pathlib import Path

from harness.catalog import CATALOG
from harness.pipeline.config import BuildResult, entry_lists


def entry(result: BuildResult, name: str) -> dict:
    """The entry of that name, from either list."""
    return next(e for e in entry_lists(result.config) if e["name"] == name)


def _head(config: dict) -> dict:
    return next(e for e in entry_lists(config) if e["name"] == "lm_head")


def _layers_folder(folder: Path, extra: str = "") -> Path:
    """A folder of layer classes with the catalog's constructors (read, never imported)."""
    import inspect

    source = "".join(
        f"class {name}:\n    '''{name}.'''\n    def __init__(self, "
        + ", ".join(str(p) for p in inspect.signature(cls).parameters.values())
        + "):\n        pass\n\n"
        for name, cls in CATALOG.items()
    )
    folder.mkdir()
    (folder / "layers.py").write_text(source + extra)
    return folder


_LM_HEAD_CLASS = """
class LMHeadLayer:
    '''The LM head a maintainer wrote from gaps/lm_head.md.'''
    def __init__(self, layer_idx, vocab_size, hidden_size, dtype, tied=False, has_bias=False,
                 parallelism=None):
        pass
"""
