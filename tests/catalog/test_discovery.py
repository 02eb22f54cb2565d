"""Static discovery: classes read from source, never imported."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

from harness.catalog import (
    CATALOG,
    LayerClassInfo,
    get_supported_layers,
    spec_parameters,
)
from harness.catalog.catalog import LAYER_MODULES
from harness.errors import CatalogError

from .conftest import EXPECTED_PARALLELISM, write


def test_get_supported_layers_describes_own_classes() -> None:
    layers = get_supported_layers()
    assert {name for name, info in layers.items() if not info.abstract} == set(CATALOG)
    # module by module in LAYER_MODULES' order, each in its order of definition
    order = [(LAYER_MODULES.index(info.module), info.line) for info in layers.values()]
    assert order == sorted(order) and next(iter(layers)) == "Layer"
    assert layers["Layer"].abstract
    assert layers["Layer"].required == ("layer_idx", "dtype")
    for name, cls in CATALOG.items():
        info = layers[name]
        params = list(inspect.signature(cls).parameters.values())
        assert info.required == tuple(p.name for p in params if p.default is p.empty)
        assert info.optional == {p.name: p.default for p in params if p.default is not p.empty}
        assert info.supported_parallelism == EXPECTED_PARALLELISM[name]
        assert info.docstring == cls.__doc__
        assert (info.spec_required, info.spec_optional) == spec_parameters(cls)
        # read from the file that defines the class
        assert info.module == cls.__module__.rpartition(".")[2]
        assert Path(info.path) == Path(inspect.getfile(cls)).resolve()
    assert layers["SlidingWindowAttentionLayer"].optional == {
        "sliding_window": None,
        "num_sinks": 0,
        "has_bias": False,
        "parallelism": None,
    }
    assert layers["EmbeddingLayer"].required == ("vocab_size", "hidden_size", "dtype")


def test_layer_class_info_as_dict() -> None:
    info = get_supported_layers()["NormLayer"]
    assert isinstance(info, LayerClassInfo)
    data = info.as_dict()
    assert data["supported_parallelism"] == [
        "expert_parallel",
        "pipeline_parallel",
        "tensor_parallel",
    ]
    assert data["required"] == ["layer_idx", "hidden_size", "dtype"]
    assert data["optional"] == {"has_bias": False, "parallelism": None}
    assert data["abstract"] is False
    with pytest.raises(AttributeError):
        info.name = "Other"  # type: ignore[misc]


def test_get_supported_layers_scans_without_importing(layers_dir: Path) -> None:
    layers = get_supported_layers(layers_dir)
    assert list(layers) == ["Layer", "BoomLayer", "DenseLayer", "WideDenseLayer", "PartialLayer"]
    assert not any(name in sys.modules for name in ("base", "dense", "boom"))

    base = layers["Layer"]
    assert (base.docstring, base.module, base.abstract) == ("Base of all layers.", "base", True)
    assert base.supported_parallelism == frozenset()
    assert base.path == str(layers_dir / "base.py")

    dense = layers["DenseLayer"]
    assert dense.required == ("layer_idx", "width", "dtype")
    assert dense.optional == {"scale": 1.5, "act": "Act.GELU", "parallelism": None}
    assert dense.supported_parallelism == {"tensor_parallel", "context_parallel"}
    assert dense.abstract is False
    assert (dense.spec_required, dense.spec_optional) == (
        ("width",),
        {"layer_idx": 0, "scale": 1.5, "act": "Act.GELU"},
    )

    wide = layers["WideDenseLayer"]
    assert (wide.required, wide.optional) == (dense.required, dense.optional)
    assert wide.supported_parallelism == dense.supported_parallelism
    assert (wide.bases, wide.abstract, wide.docstring) == (
        ("DenseLayer",),
        False,
        "Inherits __init__ and parallelism.",
    )

    partial = layers["PartialLayer"]
    assert partial.abstract is True
    assert partial.supported_parallelism == {"pipeline_parallel"}
    assert partial.required == ("layer_idx", "dtype")

    boom = layers["BoomLayer"]
    assert boom.supported_parallelism == {"expert_parallel"}
    assert (boom.required, boom.optional) == (("experts",), {"top_k": 2})


def test_a_constant_imported_from_a_scanned_file_reads_as_its_value(tmp_path: Path) -> None:
    write(tmp_path, "names.py", 'EP = "expert_parallel"\nTP = "tensor_parallel"\n')
    write(
        tmp_path,
        "routed.py",
        """
        from .names import EP as EXPERT, TP
        from elsewhere import PP
        TP = "tp_of_its_own"

        class RoutedLayer:
            SUPPORTED_PARALLELISM = frozenset({EXPERT, TP, PP})
    """,
    )
    layers = get_supported_layers(tmp_path)
    # its own assignment wins; a module not scanned leaves the name as written
    assert layers["RoutedLayer"].supported_parallelism == {"expert_parallel", "tp_of_its_own", "PP"}


def test_error_get_supported_layers_syntax_error(layers_dir: Path) -> None:
    write(layers_dir, "broken.py", "class GoodLayer:\n    pass\n\nclass BadLayer(:\n    pass\n")
    with pytest.raises(CatalogError, match=r"broken\.py: syntax error at line 4"):
        get_supported_layers(layers_dir)


def test_error_get_supported_layers_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"does not exist or is not a folder"):
        get_supported_layers(tmp_path / "nowhere")


def test_error_get_supported_layers_duplicate_class(layers_dir: Path) -> None:
    write(layers_dir, "again.py", 'class DenseLayer:\n    """Second definition."""\n')
    with pytest.raises(CatalogError, match=r"'DenseLayer' is defined twice: .*again\.py line 1"):
        get_supported_layers(layers_dir)
