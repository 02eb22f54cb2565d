"""Property tests: a mutated reference config builds with closed accounting, or fails clearly.

Each example takes one of a few small reference configs (decoder layers cut to 4, vocabulary to 512
so an example builds in tens of milliseconds), applies one to three mutations (drop a key, set it
to null, set another int including 0, negatives and huge values, change its JSON type), writes it
to a fresh folder and runs resolve -> inspect -> build -> write in-process. The outcome must be a
config whose accounting closes, written whole, or a HarnessError with nothing written.

The examples are derandomized and no example database is kept: CI and every developer explore the
same inputs, so a red run reproduces locally from the test's source alone, and no `.hypothesis/`
folder appears in the work tree. A randomized search for new failures is one flag away:
`pytest tests/test_properties.py --hypothesis-seed=N` with `derandomize` turned off locally.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.api import build_model_config
from harness.catalog.loader import loader_problems
from harness.errors import HarnessError
from harness.output import write_build
from harness.pipeline.config import accounting_problems

from .conftest import SNAPSHOTS

BASES = (
    "meta-llama/Llama-3.2-1B",
    "openai-community/gpt2",
    "mistralai/Mixtral-8x7B-v0.1",
    "Qwen/Qwen3-8B",
    "openai/gpt-oss-20b",
    "state-spaces/mamba-2.8b-hf",
    "tiiuae/falcon-7b",
    "deepseek-ai/DeepSeek-V3",
)
MAX_LAYERS = 4
VOCAB = 512

PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def small_config(hf_id: str) -> dict[str, Any]:
    """A reference config with at most MAX_LAYERS decoder layers and a VOCAB-token vocabulary."""
    config = json.loads((SNAPSHOTS / hf_id / "config.json").read_text())
    for key in ("num_hidden_layers", "n_layer"):
        if key in config:
            config[key] = min(config[key], MAX_LAYERS)
    layers = config.get("num_hidden_layers") or config.get("n_layer")
    if isinstance(config.get("layer_types"), list):
        config["layer_types"] = config["layer_types"][:layers]
    config["vocab_size"] = VOCAB
    for key in ("pad_token_id", "bos_token_id", "eos_token_id"):
        if isinstance(config.get(key), int) and config[key] >= VOCAB:
            config[key] = VOCAB - 1
    return config


SMALL = {hf_id: small_config(hf_id) for hf_id in BASES}
SIZES = st.one_of(
    st.sampled_from([0, -1, 1, 2, 3, 5, 7, 64, 1000, 2**24, 2**24 + 1, 10**12, 2**63]),
    st.integers(min_value=-8, max_value=4096),
)


def retyped(value: Any, kind: str) -> Any:
    """`value` as another JSON type (string, float, bool, list, object, NaN)."""
    return {
        "str": str(value),
        "float": float(value) + 0.5 if isinstance(value, int | float) else 1.5,
        "bool": True,
        "list": [value],
        "dict": {"value": value},
        "nan": float("nan"),
    }[kind]


@st.composite
def mutated_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], list[str]]:
    """A small reference config with one to three mutations, and what was done (for the report)."""
    hf_id = draw(st.sampled_from(BASES))
    config = dict(SMALL[hf_id])
    done: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if not config:
            break
        key = draw(st.sampled_from(sorted(config)))
        action = draw(st.sampled_from(["drop", "null", "size", "size", "retype"]))
        if action == "drop":
            del config[key]
        elif action == "null":
            config[key] = None
        elif action == "size":
            config[key] = draw(SIZES)
        else:
            kind = draw(st.sampled_from(["str", "float", "bool", "list", "dict", "nan"]))
            config[key] = retyped(config[key], kind)
        done.append(f"{action} {key} -> {config.get(key, '<dropped>')!r}")
    return hf_id, config, done


def build_and_write(config: dict[str, Any], folder: Path) -> tuple[Any, Path]:
    """Write `config` as folder/model/config.json, build it in-process, write into folder/out."""
    source = folder / "model" / "config.json"
    source.parent.mkdir(parents=True)
    source.write_text(json.dumps(config))
    out = folder / "out"
    out.mkdir()
    result = build_model_config(str(source), offline=True, use_cache=False)
    write_build(result, out)
    return result, out


@pytest.mark.parametrize("hf_id", BASES)
def test_every_base_config_builds_and_closes(hf_id: str, tmp_path: Path) -> None:
    result, out = build_and_write(SMALL[hf_id], tmp_path)
    assert accounting_problems(result.config, result.inspection.total_params) == []
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.tensors.csv"]


@PROPERTY_SETTINGS
@given(mutated_configs())
def test_mutated_config_closes_or_fails_clearly(
    case: tuple[str, dict[str, Any], list[str]],
) -> None:
    hf_id, config, done = case
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        try:
            result, out = build_and_write(config, folder)
        except HarnessError as error:
            message = str(error)
            assert message and "\n" not in message.strip(), (hf_id, done, message)
            written = sorted(p.name for p in (folder / "out").iterdir())
            assert written == [], (hf_id, done, written)
            return
        config_out = json.loads((out / "model.json").read_text())
        layer_sum = sum(
            entry["count"] * entry["specs"]["parameter_count"]
            for entry in [*config_out["layer_types"], *config_out["unsupported_layer_types"]]
        )
        assert loader_problems(config_out) == [], (hf_id, done)
        assert layer_sum == config_out["total_params"] == result.inspection.total_params, (
            hf_id,
            done,
        )
        assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.tensors.csv"]


def test_mutations_reach_both_outcomes() -> None:
    """The strategy is not degenerate: some mutations still build, some are refused."""
    outcomes: set[str] = set()

    @settings(max_examples=20, deadline=None, derandomize=True, database=None)
    @given(mutated_configs())
    def probe(case: tuple[str, dict[str, Any], list[str]]) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            try:
                build_and_write(case[1], Path(scratch))
                outcomes.add("built")
            except HarnessError:
                outcomes.add("refused")

    probe()
    assert outcomes == {"built", "refused"}
