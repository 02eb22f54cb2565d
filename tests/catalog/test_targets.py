"""Target layer sets: specs bound as the loader binds them, a folder's classes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from harness.catalog import (
    NormLayer,
    layer_set,
)


def test_bind_replays_the_loader() -> None:
    """Unknown keys dropped, layer_idx injected, dtype in specs and missing keys fail the call."""
    signature = layer_set().get("MLPLayer")
    assert signature is not None
    binding = signature.bind({"hidden_size": 8, "intermediate_size": 4, "parameter_count": 64})
    assert binding.kwargs == {"hidden_size": 8, "intermediate_size": 4, "layer_idx": 0}
    assert binding.dropped == ("parameter_count",) and binding.exact
    binding = signature.bind({"hidden_size": 8, "dtype": "bf16", "has_bias": True})
    assert binding.missing == ("intermediate_size",) and binding.reserved == ("dtype",)
    assert binding.meaningful_drops == ("has_bias",) and not binding.loads


def test_layer_set_of_a_folder_reads_constructors_and_keeps_formulas_of_equal_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "layers.py").write_text(
        textwrap.dedent(
            """
            class NormLayer:
                def __init__(self, layer_idx, hidden_size, dtype, has_bias=False,
                             parallelism=None):
                    pass

            class MLPLayer:
                def __init__(self, layer_idx, hidden_size, dtype, parallelism=None):
                    pass

            class LMHeadLayer:
                def __init__(self, layer_idx, vocab_size, hidden_size, dtype, parallelism=None):
                    pass
            """
        )
    )
    target = layer_set(tmp_path)
    assert target.names() == ["LMHeadLayer", "MLPLayer", "NormLayer"]
    norm, mlp, head = (target.get(n) for n in ("NormLayer", "MLPLayer", "LMHeadLayer"))
    assert norm is not None and norm.formula is NormLayer
    assert mlp is not None and mlp.formula is None  # another constructor: not the catalog's
    assert head is not None and head.formula is None
    assert target.layer("NormLayer", {"hidden_size": 8}).parameter_count() == 8
    assert target.layer("MLPLayer", {"hidden_size": 8}) is None
    assert target.get("GatedMLPLayer") is None
