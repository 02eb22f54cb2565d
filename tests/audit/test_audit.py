"""harness check: defects of hand-written Mantile configs, found against the dry run."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harness import errors
from harness.api import build_model_config
from harness.audit import (
    HANDWRITTEN_SCHEMA,
    AuditFinding,
    audit_config,
    audit_file,
    infer_model,
    load_mantile_config,
    parse_mantile_config,
)
from harness.catalog import get_supported_layers
from harness.catalog.catalog import LAYER_MODULES
from harness.catalog.registry import COMPONENT_KINDS
from harness.cli import main
from harness.pipeline.config import BuildResult
from harness.pipeline.mapping import MODEL_LEVEL

from ..conftest import ROOT, case_options

FIXTURES = ROOT / "tests" / "data" / "mantile_configs"
GOLDEN = ROOT / "golden"
LLAMA_70B = "meta-llama/Llama-3.3-70B-Instruct"
GPT_OSS = "openai/gpt-oss-120b"
MISTRAL = "mistralai/Mistral-7B-v0.1"
QWEN3_VL = "Qwen/Qwen3-VL-2B-Instruct"
GPT2 = "openai-community/gpt2"
OLMOE = "allenai/OLMoE-1B-7B-0924"


@cache
def dry_run(hf_id: str) -> BuildResult:
    return build_model_config(hf_id, offline=True, **case_options(hf_id))


def fixture(name: str) -> dict[str, Any]:
    return load_mantile_config(FIXTURES / name)


def golden(hf_id: str) -> dict[str, Any]:
    return load_mantile_config(GOLDEN / f"{hf_id.replace('/', '_')}.json")


def errors_of(findings: list[AuditFinding]) -> list[AuditFinding]:
    return [f for f in findings if f.severity == "error"]


def one(findings: list[AuditFinding], code: str, entry: str | None = None) -> AuditFinding:
    """The single finding with this code (and entry); fails listing what was found otherwise."""
    __tracebackhide__ = True
    hits = [f for f in findings if f.code == code and (entry is None or f.entry == entry)]
    assert len(hits) == 1, [f.line() for f in findings]
    return hits[0]


def numbers(finding: AuditFinding, expected: int, found: int, percent: str | None = None) -> None:
    """expected/found/difference on the record, and the same numbers in the message."""
    __tracebackhide__ = True
    assert (finding.expected, finding.found) == (expected, found)
    assert finding.difference == found - expected
    assert f"expected {expected:,}, found {found:,}, difference {found - expected:+,}" in (
        finding.message
    )
    if percent is not None:
        assert f"({percent})" in finding.message


# --------------------------------------------------------------------------- Mantile's five


def test_tinyllama_22_norms_no_lm_head_total_is_its_layer_sum() -> None:
    findings = audit_config(
        fixture("TinyLlama_TinyLlama-1.1B-Chat-v1.0.json"),
        dry_run("TinyLlama/TinyLlama-1.1B-Chat-v1.0"),
    )
    assert sorted(f.code for f in errors_of(findings)) == [
        "missing-lm-head",
        "modelled-total",
        "norm-count",
        "total-params",
    ]
    norms = one(findings, "norm-count", "norm")
    numbers(norms, 45, 22)
    assert "(2 per decoder layer × 22 + 1 final): 23 norms missing = 47,104 parameters" in (
        norms.message
    )
    numbers(one(findings, "missing-lm-head"), 65_536_000, 0)
    numbers(one(findings, "total-params"), 1_100_048_384, 1_034_465_280, "-5.962%")
    numbers(one(findings, "modelled-total"), 1_100_048_384, 1_034_465_280, "-5.962%")
    ignored = one(findings, "ignored-spec", "attention")
    assert ignored.severity == "warning"
    assert "input_dim=2048, output_dim=2048 are ignored" in ignored.message


def test_llama_405b_no_parameter_count_and_total_not_its_layer_sum() -> None:
    findings = audit_config(
        fixture("meta-llama_Llama-3.1-405B-Instruct.json"),
        dry_run("meta-llama/Llama-3.1-405B-Instruct"),
    )
    assert sorted(f.code for f in errors_of(findings)) == [
        "layer-sum",
        "missing-lm-head",
        "modelled-total",
    ]
    missing = one(findings, "no-parameter-count")
    assert missing.severity == "warning"
    assert missing.entry == "embedding, attention, feedforward, norm"
    numbers(one(findings, "layer-sum"), 405_853_388_800, 403_752_042_496, "-0.518%")
    numbers(one(findings, "modelled-total"), 405_853_388_800, 403_752_042_496, "-0.518%")
    numbers(one(findings, "missing-lm-head"), 2_101_346_304, 0)


def test_llama_70b_80_norms_no_lm_head_total_short() -> None:
    findings = audit_config(fixture("meta-llama_Llama-3.3-70B-Instruct.json"), dry_run(LLAMA_70B))
    assert sorted(f.code for f in errors_of(findings)) == [
        "missing-lm-head",
        "modelled-total",
        "norm-count",
        "total-params",
    ]
    norms = one(findings, "norm-count")
    numbers(norms, 161, 80)
    assert "81 norms missing = 663,552 parameters (81 × 8,192)" in norms.message
    head = one(findings, "missing-lm-head", "lm_head")
    numbers(head, 1_050_673_152, 0)
    assert "(128,256 × 8,192)" in head.message
    numbers(one(findings, "total-params"), 70_553_706_496, 69_502_369_792, "-1.490%")
    assert one(findings, "total-params").difference == -1_051_336_704


def test_mistral_plain_gqa_despite_sliding_window() -> None:
    findings = audit_config(fixture("mistralai_Mistral-7B-v0.1.json"), dry_run(MISTRAL))
    assert sorted(f.code for f in errors_of(findings)) == [
        "layer-sum",
        "missing-lm-head",
        "modelled-total",
        "norm-count",
        "sliding-window-ignored",
    ]
    window = one(findings, "sliding-window-ignored", "attention")
    numbers(window, 16_777_216, 134_217_728)
    assert "sliding_window=4096" in window.message and "32,768-token context" in window.message
    assert "SlidingWindowAttentionLayer with sliding_window: 4096" in window.message
    assert "33 norms missing = 135,168 parameters" in one(findings, "norm-count").message
    numbers(one(findings, "missing-lm-head"), 131_072_000, 0)
    numbers(one(findings, "layer-sum"), 7_241_732_096, 7_110_524_928, "-1.812%")
    numbers(one(findings, "modelled-total"), 7_241_732_096, 7_110_524_928, "-1.812%")


def test_gpt_oss_attention_sinks_bias_and_counts() -> None:
    findings = audit_config(fixture("openai_GPT-OSS-120B.json"), dry_run(GPT_OSS))
    assert sorted(f.code for f in errors_of(findings)) == [
        "class-parameters",
        "class-parameters",
        "declared-parameters",
        "declared-parameters",
        "dropped-spec",
        "gqa-output-width",
        "layer-sum",
        "missing-lm-head",
        "modelled-total",
        "norm-count",
        "num-sinks",
    ]
    for name in ("attention_sliding", "attention_full"):
        numbers(one(findings, "declared-parameters", name), 26_550_144, 19_365_120, "-27.062%")
    full = one(findings, "class-parameters", "attention_full")
    numbers(full, 26_550_144, 23_040_000, "-13.221%")
    assert "× 18 = -63,182,592" in full.message
    assert "attention_sinks 64" in full.message and "the rest, -3,510,080" in full.message
    sliding = one(findings, "class-parameters", "attention_sliding")
    numbers(sliding, 26_550_144, 26_550_080)
    assert "× 18 = -1,152" in sliding.message
    bias = one(findings, "dropped-spec", "attention_full")
    assert "has_bias=true" in bias.message and "8,000 per layer" in bias.message
    width = one(findings, "gqa-output-width", "attention_full")
    numbers(width, 11_796_480, 8_294_400)
    assert "57,193,529,344 instead of 71,538,049,024 FLOPs per layer" in width.message
    sinks = one(findings, "num-sinks", "attention_sliding")
    numbers(sinks, 262_144, 393_216, "+50.000%")
    assert "from 128 to 192" in sinks.message and "one per query head (64 heads)" in sinks.message
    numbers(one(findings, "norm-count"), 73, 72)
    numbers(one(findings, "missing-lm-head"), 579_133_440, 0)
    numbers(one(findings, "layer-sum"), 116_829_156_672, 115_991_359_488, "-0.717%")
    numbers(one(findings, "modelled-total"), 116_829_156_672, 116_186_836_608, "-0.550%")
    assert not [f for f in findings if f.code == "total-params"]


# --------------------------------------------------------------------------- not noisy


# Goldens whose check still reports errors: `harness check` guesses each entry's role from its
# name (vision_patch_embedding read as a second text embedding, the DSA indexer as a second
# attention, vision and router-scale entries as extra text layers). Reading roles from what build
# wrote comes with the new config format (issue 13); each mark flips to a failure once fixed.
@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_every_golden_passes_and_its_gaps_are_out_of_the_loaders_way(path: Path) -> None:
    """No errors; every class the loader reads exists; gaps sit in unsupported_layer_types;
    every component kind of the dry run is one the registry's roles can name."""
    config = load_mantile_config(path)
    build = dry_run(config["hf_model_id"])
    findings = audit_config(config, build)
    assert errors_of(findings) == [], [f.line() for f in findings]
    assert {c.kind for c in build.structure.components} <= COMPONENT_KINDS
    assert not [f for f in findings if f.code in {"unknown-class", "supported-ignored"}]
    assert all(e["supported"] is False for e in config["unsupported_layer_types"])


# --------------------------------------------------------------------------- mutations


def _entry(config: dict[str, Any], name: str) -> dict[str, Any]:
    entries = [*config["layer_types"], *config.get("unsupported_layer_types", [])]
    return next(e for e in entries if e["name"] == name)


def _specs(name: str, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        specs = _entry(config, name)["specs"]
        for key, value in changes.items():
            if value is _DELETE:
                del specs[key]
            else:
                specs[key] = value

    return mutate


def _field(name: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        _entry(config, name)[key] = value

    return mutate


def _unset(name: str, key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        del _entry(config, name)[key]

    return mutate


def _top(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        config[key] = value

    return mutate


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        for key in ("layer_types", "unsupported_layer_types"):
            config[key] = [e for e in config.get(key, []) if e["name"] != name]

    return mutate


def _load_gap(name: str) -> Callable[[dict[str, Any]], None]:
    """Move an unsupported entry into layer_types, as if Mantile could load its class."""

    def mutate(config: dict[str, Any]) -> None:
        gap = _entry(config, name)
        config["unsupported_layer_types"].remove(gap)
        config["layer_types"].append(gap)

    return mutate


def _rename_key(name: str, old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        specs = _entry(config, name)["specs"]
        specs[new] = specs.pop(old)

    return mutate


def _add(entry: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        config["layer_types"].append(entry)

    return mutate


def _as_mha(config: dict[str, Any]) -> None:
    entry = _entry(config, "attention_full")
    entry["class"] = "AttentionLayer"
    entry["specs"] = {"hidden_size": 2880, "num_heads": 64, "head_dim": 64, "parameter_count": 0}


_DELETE = object()
_MOE = {
    "name": "moe",
    "class": "MoELayer",
    "count": 1,
    "specs": {"hidden_size": 8192, "intermediate_size": 64, "num_experts": 2, "top_k": 1},
}


@dataclass(frozen=True)
class Mutation:
    """A golden, changed in one way, and the finding that change must produce."""

    id: str
    model: str
    mutate: Callable[[dict[str, Any]], None]
    code: str
    severity: str
    entry: str
    text: str
    expected: int | None = None
    found: int | None = None


M = Mutation
# fmt: off
MUTATIONS = [
    M("wrong-count", LLAMA_70B, _field("attention", "count", 79), "layer-count", "error",
      "attention", "1 full-attention layer missing = 150,994,944 parameters", 80, 79),
    M("wrong-norm-count", LLAMA_70B, _field("norm", "count", 160), "norm-count", "error",
      "norm", "1 norm missing = 8,192 parameters", 161, 160),
    M("unknown-class", LLAMA_70B, _field("attention", "class", "GroupedQueryAttentionLayr"),
      "unknown-class", "error", "attention", "did you mean 'GroupedQueryAttentionLayer'?"),
    M("supported-false-known-class", LLAMA_70B, _field("mlp", "supported", False),
      "supported-ignored", "warning", "mlp", "704,643,072 parameters per instance"),
    M("missing-required-spec", LLAMA_70B, _specs("attention", num_kv_heads=_DELETE),
      "missing-spec", "error", "attention", "'num_kv_heads'"),
    M("typo-in-spec", LLAMA_70B, _rename_key("attention", "num_kv_heads", "num_kv_head"),
      "ignored-spec", "warning", "attention", "'num_kv_head' -> 'num_kv_heads'"),
    M("dtype-in-specs", LLAMA_70B, _specs("mlp", dtype="bf16"), "reserved-spec", "error",
      "mlp", "multiple values for keyword"),
    M("has-bias-on-gqa", LLAMA_70B, _specs("attention", has_bias=True), "dropped-spec",
      "error", "attention", "18,432 per layer"),
    M("wrong-parameter-count", LLAMA_70B, _specs("attention", parameter_count=150_994_945),
      "declared-parameters", "error", "attention", "× 80 = +80", 150_994_944, 150_994_945),
    M("wrong-size", LLAMA_70B, _specs("mlp", intermediate_size=28_671), "spec-mismatch",
      "error", "mlp", "intermediate_size", 28_672, 28_671),
    M("wrong-size-parameters", LLAMA_70B, _specs("mlp", intermediate_size=28_671),
      "class-parameters", "error", "mlp", "× 80 = -1,966,080", 704_643_072, 704_618_496),
    M("wrong-size-total", LLAMA_70B, _specs("mlp", intermediate_size=28_671),
      "modelled-total", "error", "<config>", "-0.003%", 70_553_706_496, 70_551_740_416),
    M("no-lm-head", LLAMA_70B, _drop("lm_head"), "missing-lm-head", "error", "lm_head",
      'add this exact stand-in to layer_types (same parameters, weight bytes and FLOPs at '
      'parallelism 1): {"name": "lm_head", "class": "MLPLayer"', 1_050_673_152, 0),
    M("gap-class-in-layer-types", GPT_OSS, _load_gap("attention_sinks"), "unknown-class",
      "error", "attention_sinks", "HTTP 500), whatever `supported` says"),
    M("gap-class-in-layer-types-advice", GPT_OSS, _load_gap("attention_sinks"),
      "unknown-class", "error", "attention_sinks", "move the entry to unsupported_layer_types"),
    M("duplicate-over-both-lists", GPT_OSS, _field("attention_sinks", "name", "moe"),
      "duplicate-name", "error", "moe", "unique over both lists"),
    M("stand-in-wrong-width", LLAMA_70B, _specs("lm_head", intermediate_size=64_127),
      "class-parameters", "error", "lm_head", "MLPLayer on these specs gives 1,050,656,768",
      1_050_673_152, 1_050_656_768),
    M("no-lm-head-layer-sum", LLAMA_70B, _drop("lm_head"), "layer-sum", "error",
      "total_params", "-1.489%", 70_553_706_496, 69_503_033_344),
    M("no-mlp", LLAMA_70B, _drop("mlp"), "missing-component", "error", "mlp",
      "80 MLP layers", 56_371_445_760, 0),
    M("extra-moe", LLAMA_70B, _add(_MOE), "extra-component", "error", "moe", "no MoE layer",
      0, 2_113_536),
    M("wrong-total", LLAMA_70B, _top("total_params", 70_000_000_000), "total-params",
      "error", "total_params", "-0.785%", 70_553_706_496, 70_000_000_000),
    M("total-not-a-number", LLAMA_70B, _top("total_params", None), "schema", "error",
      "total_params", "None is not of type 'integer'"),
    M("duplicate-name", LLAMA_70B, _field("mlp", "name", "attention"), "duplicate-name",
      "error", "attention", "ValueError"),
    M("count-as-text", LLAMA_70B, _field("attention", "count", "80"), "schema", "error",
      "attention", "layer_types[1].count: '80' is not of type 'integer'"),
    M("empty-layer-types", LLAMA_70B, _top("layer_types", []), "schema", "error",
      "layer_types", "should be non-empty"),
    M("wrong-hidden-size", LLAMA_70B, _top("hidden_size", 4096), "info-mismatch", "warning",
      "hidden_size", "never read by Mantile", 8192, 4096),
    M("other-model-id", LLAMA_70B, _top("hf_model_id", "meta-llama/Llama-3.1-8B-Instruct"),
      "model-id", "warning", "hf_model_id", "checked against"),
    M("narrower-window", MISTRAL, _specs("attention", sliding_window=2048), "sliding-window",
      "error", "attention", "Set sliding_window to 4096", 16_777_216, 8_388_608),
    M("sinks-in-a-model-without", MISTRAL, _specs("attention", num_sinks=4), "num-sinks",
      "warning", "attention", "no attention-sink parameters"),
    M("sinks-as-tokens", GPT_OSS, _specs("attention_sliding", num_sinks=64), "num-sinks",
      "error", "attention_sliding", "from 128 to 192", 262_144, 393_216),
    M("sinks-entry-dropped", GPT_OSS, _drop("attention_sinks"), "class-parameters", "error",
      "attention_sliding", "attention_sinks 64 per attention layer", 26_550_144, 26_550_080),
    M("mha-for-wider-heads", GPT_OSS, _as_mha, "mha-width", "error", "attention_full",
      "Use SlidingWindowAttentionLayer", 47_185_920, 33_177_600),
    M("qk-norm-entry-dropped", "Qwen/Qwen3-Next-80B-A3B-Instruct", _drop("qk_norm"),
      "missing-component", "error", "qk_norm", "QKNormLayer, 12 × 512", 6_144, 0),
    # What build writes where the class or gap kind does not say it (harness/pipeline/origin.py)
    M("vision-part-unset", QWEN3_VL, _unset("vision_attention", "part"), "missing-component",
      "error", "vision_attention", "24 vision full-attention layers", 100_761_600, 0),
    M("vision-part-unset-counts", QWEN3_VL, _unset("vision_attention", "part"), "layer-count",
      "error", "attention, vision_attention", "24 full-attention layers extra", 28, 52),
    M("component-unset", GPT2, _unset("position_embedding", "component"), "missing-component",
      "error", "position_embedding", "1 position embeddings", 786_432, 0),
    M("split-from-unset", OLMOE, _unset("q_norm", "split_from"), "norm-count", "error",
      "q_norm, norm", "2 per decoder layer × 16 + 1 final", 33, 49),
    M("split-from-unset-part", OLMOE, _unset("q_norm", "split_from"), "missing-component",
      "error", "q_norm", "while other attention parts have their own entries", 32_768, 0),
]
# fmt: on


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_each_check_catches_its_mutation_of_a_golden(mutation: Mutation) -> None:
    config = copy.deepcopy(golden(mutation.model))
    mutation.mutate(config)
    finding = one(audit_config(config, dry_run(mutation.model)), mutation.code, mutation.entry)
    assert finding.severity == mutation.severity
    assert mutation.text in finding.message
    assert (finding.expected, finding.found) == (mutation.expected, mutation.found)


def test_layers_dir_decides_which_classes_the_loader_knows(tmp_path: Path) -> None:
    # the catalog's layer modules, with GatedMLPLayer renamed away
    for name in LAYER_MODULES:
        source = (ROOT / "harness" / "catalog" / f"{name}.py").read_text()
        (tmp_path / f"{name}.py").write_text(source.replace("class GatedMLPLayer(", "class Gated("))
    findings = audit_config(golden(LLAMA_70B), dry_run(LLAMA_70B), get_supported_layers(tmp_path))
    assert one(findings, "unknown-class", "mlp").severity == "error"

    # A maintainer implemented AttentionSinksLayer: the gap may now be loaded from layer_types.
    config = copy.deepcopy(golden(GPT_OSS))
    _load_gap("attention_sinks")(config)
    assert one(audit_config(config, dry_run(GPT_OSS)), "unknown-class", "attention_sinks")
    (tmp_path / "mlp.py").write_text((ROOT / "harness" / "catalog" / "mlp.py").read_text())
    (tmp_path / "sinks.py").write_text(
        "from .base import Layer\n"
        + "\n\nclass AttentionSinksLayer(Layer):\n"
        + "    def __init__(self, layer_idx, num_heads, dtype, parallelism=None):\n"
        + "        pass\n"
        + "    def parameter_count(self):\n"
        + "        return 0\n"
        + "    def flops(self, batch_size, seq_len, *, phase='prefill', context_len=None):\n"
        + "        return 0\n"
    )
    findings = audit_config(config, dry_run(GPT_OSS), get_supported_layers(tmp_path))
    assert not [f for f in findings if f.code == "unknown-class"]
    assert one(findings, "supported-ignored", "attention_sinks").severity == "warning"
    assert errors_of(findings) == [], [f.line() for f in findings]


def test_finding_difference_and_percent() -> None:
    finding = AuditFinding("error", "x", "e", "m", expected=200, found=150)
    assert (finding.difference, finding.percent) == (-50, -0.25)
    assert AuditFinding("warning", "x", "e", "m").percent is None
    assert finding.line(4) == "error   x     e: m"


# --------------------------------------------------------------------------- loading


def test_error_bad_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"layer_types": [\n  {"name": "x",}\n]}')
    with pytest.raises(
        errors.InvalidConfigError,
        match=r"broken\.json is not valid JSON: .* "
        r"at line 2, column 16",
    ):
        load_mantile_config(path)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ('{"layer_types": [], "total_params": NaN}', "NaN is not a JSON number"),
        ('{"layer_types": [], "layer_types": []}', "layer_types"),
    ],
    ids=["nan", "duplicate-key"],
)
def test_error_json_that_python_accepts_but_is_not_strict(
    tmp_path: Path, text: str, refused: str
) -> None:
    path = tmp_path / "loose.json"
    path.write_text(text)
    with pytest.raises(
        errors.InvalidConfigError, match=rf"loose\.json is not strict JSON: .*{refused}"
    ):
        load_mantile_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "holds a JSON list, not an object"),
        ('{"name": "x"}', 'has no "layer_types" field'),
        ('{"layer_types": {}}', '"layer_types" is a JSON dict, not a list'),
    ],
)
def test_error_config_shape(text: str, message: str) -> None:
    with pytest.raises(errors.InvalidConfigError, match=message):
        parse_mantile_config(text, "mine.json")


def test_error_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigNotFoundError, match=r"cannot read Mantile config .*nope"):
        load_mantile_config(tmp_path / "nope.json")
    with pytest.raises(errors.InvalidConfigError, match="is a folder"):
        load_mantile_config(tmp_path)


def test_model_is_inferred_from_the_config_fields() -> None:
    assert infer_model({"hf_model_id": LLAMA_70B}, "whatever.json") == LLAMA_70B
    assert infer_model(fixture("openai_GPT-OSS-120B.json"), "x.json") == GPT_OSS
    assert infer_model({"name": "Llama 3.3 70B Instruct"}, "x.json") == LLAMA_70B
    assert infer_model({}, "configs/mistralai_Mistral-7B-v0.1.json") == MISTRAL


def test_error_model_cannot_be_inferred(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidConfigError) as raised:
        infer_model({"name": "My model"}, "mine.json")
    message = str(raised.value)
    assert "name 'My model'" in message and "file name 'mine'" in message
    assert "--model HF_ID" in message and '"hf_model_id": "org/name"' in message
    for org in ("a", "b"):
        (tmp_path / org / "same").mkdir(parents=True)
        (tmp_path / org / "same" / "config.json").write_text("{}")
    with pytest.raises(
        errors.InvalidConfigError,
        match=r"several vendored models \(a/same, "
        r"b/same\); pass the one you mean with --model",
    ):
        infer_model({"name": "same"}, "x.json", snapshots_dir=tmp_path)


def test_audit_file_uses_the_inferred_model() -> None:
    report = audit_file(FIXTURES / "meta-llama_Llama-3.1-405B-Instruct.json", offline=True)
    assert report.model == "meta-llama/Llama-3.1-405B-Instruct"
    assert (report.errors, report.exit_status) == (3, 1)


# --------------------------------------------------------------------------- command line


def test_cli_check_reports_errors_with_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "meta-llama_Llama-3.3-70B-Instruct.json"
    assert main(["check", str(path), "--offline"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("error   missing-lm-head  lm_head: ") and "1,050,673,152" in line
        for line in lines
    )
    assert lines[-1] == (
        f"{path}: 4 errors, 4 warnings against the dry run of {LLAMA_70B} "
        "(70,553,706,496 parameters)"
    )


def test_cli_check_golden_is_clean_with_status_0(capsys: pytest.CaptureFixture[str]) -> None:
    path = GOLDEN / "meta-llama_Llama-3.3-70B-Instruct.json"
    assert main(["check", str(path), "--offline"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{path}: 0 errors, 0 warnings against the dry run of {LLAMA_70B} "
        "(70,553,706,496 parameters)"
    ]


def test_cli_check_unknown_class_in_layer_types_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gap class put back into layer_types (what Mantile crashes on) fails the check."""
    config = copy.deepcopy(golden(GPT_OSS))
    _load_gap("attention_sinks")(config)
    path = tmp_path / "openai_gpt-oss-120b.json"
    path.write_text(json.dumps(config))
    assert main(["check", str(path), "--offline"]) == 1
    out = capsys.readouterr().out
    assert "error   unknown-class" in out and "AttentionSinksLayer" in out and "HTTP 500" in out


def test_cli_check_json_and_explicit_model(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "openai_GPT-OSS-120B.json"
    assert main(["check", str(path), "--model", GPT_OSS, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["model"], report["errors"]) == (GPT_OSS, 11)
    total = next(f for f in report["findings"] if f["code"] == "modelled-total")
    assert (total["difference"], round(total["percent"], 5)) == (-642_320_064, -0.0055)


def test_cli_check_bad_json_exits_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hand_written.json"
    path.write_text("{oops")
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"harness check: error: {path} is not valid JSON")
    assert "line 1, column 2" in captured.err


def test_cli_check_without_a_model_says_to_pass_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "unnamed.json"
    path.write_text(json.dumps({"layer_types": []}))
    assert main(["check", str(path)]) == 2
    assert "pass the model with --model HF_ID" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("field", "value"),
    [("gap_report", 5), ("supported", "yes"), ("layer_indices", ["a"])],
)
def test_a_malformed_field_the_loader_ignores_is_a_warning_and_the_entry_is_still_audited(
    field: str, value: object
) -> None:
    config = golden("mistralai/Mistral-7B-v0.1")
    attention = next(e for e in config["layer_types"] if e["name"] == "attention")
    attention[field] = value
    findings = audit_config(config, dry_run("mistralai/Mistral-7B-v0.1"))
    assert errors_of(findings) == []
    schema = one(findings, "schema", "attention")
    assert schema.severity == "warning"
    assert f"Mantile's loader never reads {field}" in schema.message


def test_the_handwritten_schema_file_takes_model_level_layer_indices() -> None:
    layer_type = HANDWRITTEN_SCHEMA["$defs"]["layer_type"]["properties"]
    assert layer_type["layer_indices"]["items"]["minimum"] == MODEL_LEVEL
