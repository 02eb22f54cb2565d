"""What is built: only the layers compared, and the full depth when a cut build differs."""

from __future__ import annotations

from dataclasses import replace

from harness.pipeline.flops import cross_check

from ...conftest import TINY_LLAMA
from .conftest import build, check


def test_only_the_layers_compared_are_built(write_config) -> None:
    deep = check(build(write_config, TINY_LLAMA))
    assert deep.layers_built == 1  # two layers of one kind: the first is enough
    single = check(build(write_config, {**TINY_LLAMA, "num_hidden_layers": 1}, name="one"))
    assert single.layers_built is None
    assert [c.pytorch for c in single.components] == [c.pytorch for c in deep.components]


def test_a_cut_build_that_differs_from_the_entries_is_not_used(write_config) -> None:
    result = build(write_config, TINY_LLAMA)
    entries = list(result.entries)
    index = next(i for i, e in enumerate(entries) if e.name == "attention")
    tensors = entries[index].example_tensors
    wrong = replace(tensors[0], shape=(1, 1))
    entries[index] = replace(entries[index], example_tensors=(wrong, *tensors[1:]))
    assert cross_check(result.inspection.resolved, entries).layers_built is None
