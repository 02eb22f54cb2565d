"""What official configs contain and transformers reads: Infinity, zero for an absent size, a
`_name_or_path` that is a local path, a Hub id known only from the file or an option, and a native
class named behind an `auto_map` (built only by an explicit opt-in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import errors
from harness.api import build_case, build_model_config, inspect_model_structure
from harness.cli import main
from harness.pipeline.cases import Fact, ModelCase

from ..conftest import ROOT, TINY_LLAMA, vendor_snapshot

MAMBA2 = {
    "architectures": ["Mamba2ForCausalLM"],
    "model_type": "mamba2",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_heads": 8,
    "head_dim": 16,
    "n_groups": 1,
    "state_size": 16,
    "expand": 2,
    "vocab_size": 256,
    "tie_word_embeddings": False,
}
QWEN3_MOE = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "hidden_size": 64,
    "intermediate_size": 128,
    "moe_intermediate_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "num_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 256,
}
# Kimi-K2's shape: its own model_type and Hub code in auto_map, a transformers class by name.
KIMI_LIKE = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "kimi_k2_tiny",
    "auto_map": {
        "AutoConfig": "configuration_deepseek.DeepseekV3Config",
        "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM",
    },
    "hidden_size": 64,
    "intermediate_size": 128,
    "moe_intermediate_size": 32,
    "num_hidden_layers": 2,
    "first_k_dense_replace": 1,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "n_routed_experts": 4,
    "n_shared_experts": 1,
    "num_experts_per_tok": 2,
    "n_group": 1,
    "topk_group": 1,
    "q_lora_rank": 32,
    "kv_lora_rank": 16,
    "qk_nope_head_dim": 16,
    "qk_rope_head_dim": 8,
    "v_head_dim": 16,
    "vocab_size": 256,
}


def json_text(config: dict, **literals: str) -> str:
    """`config` as JSON text, with each `key=literal` spliced in verbatim (for Infinity, NaN)."""
    text = json.dumps(config)
    for key, literal in literals.items():
        text = text[:-1] + f', "{key}": {literal}' + "}"
    return text


# --------------------------------------------------------------------------- Infinity and NaN


def test_infinity_where_transformers_writes_it_is_read(write_config) -> None:
    """Every Mamba-2 / Nemotron-H config saved by transformers holds time_step_limit
    [0.0, Infinity]; the harness reads it as transformers does."""
    path = write_config(json_text(MAMBA2, time_step_limit="[0.0, Infinity]"))
    inspection = inspect_model_structure(str(path))
    assert inspection.config["time_step_limit"] == [0.0, float("inf")]
    path = write_config(json_text(MAMBA2, time_step_limit="[-Infinity, Infinity]"), "neg")
    assert inspect_model_structure(str(path)).total_params > 0


def test_error_nan_is_still_refused(write_config) -> None:
    path = write_config(json_text(MAMBA2, time_step_limit="[0.0, NaN]"))
    with pytest.raises(errors.InvalidConfigError, match=r"NaN is not a JSON number"):
        inspect_model_structure(str(path))


# --------------------------------------------------------------------------- zero for absent


def test_zero_for_an_absent_optional_size_is_read(write_config) -> None:
    """Qwen3-Coder-480B writes shared_expert_intermediate_size 0: no shared expert."""
    path = write_config({**QWEN3_MOE, "shared_expert_intermediate_size": 0})
    result = build_model_config(str(path))
    (moe,) = [e for e in result.entries if e.name == "moe"]
    assert moe.specs["num_shared_experts"] == 0 and moe.count == 2


def test_error_zero_for_a_required_size_is_still_refused(write_config) -> None:
    path = write_config({**QWEN3_MOE, "hidden_size": 0})
    with pytest.raises(errors.InvalidConfigError, match=r"`hidden_size` is 0"):
        inspect_model_structure(str(path))


# --------------------------------------------------------------------------- model ids


@pytest.mark.parametrize("name_or_path", ["./", "/models", "/data/ckpt/llama-8b", "../x/y"])
def test_a_name_or_path_that_is_no_hub_id_never_names_the_model(
    write_config, name_or_path: str
) -> None:
    """falcon-mamba-7b's official config says `"_name_or_path": "./"`: the id comes from the
    input path, and no Hub id is recorded."""
    path = write_config({**TINY_LLAMA, "_name_or_path": name_or_path}, name="falcon-like")
    result = build_model_config(str(path))
    assert (result.model_id, result.config["hf_model_id"]) == ("falcon-like", None)


def test_a_name_or_path_that_is_a_hub_id_is_recorded(write_config) -> None:
    path = write_config({**TINY_LLAMA, "_name_or_path": "acme/tiny-llama"}, name="local")
    result = build_model_config(str(path))
    assert (result.model_id, result.config["hf_model_id"]) == ("acme_tiny-llama", "acme/tiny-llama")


def test_an_explicit_hub_id_wins_and_a_bad_one_is_refused(write_config) -> None:
    path = write_config({**TINY_LLAMA, "_name_or_path": "./"}, name="local")
    result = build_model_config(str(path), hf_id="acme/tiny")
    assert (result.model_id, result.config["hf_model_id"]) == ("acme_tiny", "acme/tiny")
    with pytest.raises(errors.InvalidConfigError, match=r"'\.\./x' \(--hf-id\) is not a Hub id"):
        build_model_config(str(path), hf_id="../x")


def test_check_of_a_build_from_a_file_needs_no_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A vendored model built from its config file with --hf-id records the id, so `harness
    check` finds the model by itself."""
    config = ROOT / "cases" / "configs" / "meta-llama" / "Llama-3.2-1B" / "config.json"
    out = tmp_path / "out"
    args = ["build", str(config), "--hf-id", "meta-llama/Llama-3.2-1B", "--out", str(out)]
    assert main([*args, "--offline"]) == 0
    written = out / "meta-llama_Llama-3.2-1B.json"
    assert json.loads(written.read_text())["hf_model_id"] == "meta-llama/Llama-3.2-1B"
    capsys.readouterr()
    main(["check", str(written), "--offline"])
    printed = capsys.readouterr()
    assert "cannot tell which model" not in printed.err
    assert "meta-llama/Llama-3.2-1B" in printed.out


# --------------------------------------------------------------------------- native class


def test_error_a_native_class_behind_auto_map_is_never_built_silently(write_config) -> None:
    path = write_config(KIMI_LIKE)
    with pytest.raises(errors.RemoteCodeRefusedError, match=r"--native-class") as caught:
        inspect_model_structure(str(path))
    assert "DeepseekV3ForCausalLM is a transformers class" in str(caught.value)


def test_checkpoint_of_a_native_class_behind_auto_map_needs_the_same_opt_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`harness checkpoint` builds the model too, so it takes --native-class like build does."""
    cases = tmp_path / "cases"
    vendor_snapshot(cases / "configs" / "acme" / "kimi-like", KIMI_LIKE)
    monkeypatch.setenv("HARNESS_SNAPSHOTS_DIR", str(cases / "configs"))
    argv = ["checkpoint", "acme/kimi-like", "--cases-dir", str(cases), "--offline"]
    argv += ["--total", "123", "--source", "https://example.org/recorded"]
    assert main(argv) == 2
    assert "--native-class" in capsys.readouterr().err
    assert main([*argv, "--native-class"]) == 0
    assert "wrote" in capsys.readouterr().out


def test_a_native_class_behind_auto_map_builds_by_opt_in_and_says_so(write_config) -> None:
    path = write_config(KIMI_LIKE)
    result = build_model_config(str(path), native_class=True, use_cache=False)
    assert result.inspection.model_class == "DeepseekV3ForCausalLM"
    notes = result.config["provenance"]["notes"]
    assert any(n.startswith("built natively: DeepseekV3ForCausalLM") for n in notes), notes
    assert any(e.gap_kind == "multi_head_latent_attention" for e in result.entries)


def test_error_a_cached_native_build_does_not_answer_a_call_without_the_opt_in(
    write_config,
) -> None:
    path = write_config(KIMI_LIKE)
    assert inspect_model_structure(str(path), native_class=True, use_cache=True).total_params
    with pytest.raises(errors.RemoteCodeRefusedError):
        inspect_model_structure(str(path), use_cache=True)


def test_error_native_class_needs_a_transformers_class(write_config) -> None:
    path = write_config({**KIMI_LIKE, "architectures": ["KimiK2ForCausalLM"]})
    with pytest.raises(errors.RemoteCodeRefusedError, match=r"'KimiK2ForCausalLM' is not a class"):
        inspect_model_structure(str(path), native_class=True)


def test_a_case_opts_in_with_native_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case field travels to the build: a vendored snapshot built natively."""
    snapshots = tmp_path / "configs"
    folder = snapshots / "acme" / "kimi-like"
    folder.mkdir(parents=True)
    data = json.dumps(KIMI_LIKE).encode()
    (folder / "config.json").write_bytes(data)
    from harness.pipeline.resolve import sha256_of

    meta = {"hf_id": "acme/kimi-like", "revision": None, "sha256": sha256_of(data)}
    (folder / "snapshot.json").write_text(json.dumps(meta))
    monkeypatch.setenv("HARNESS_SNAPSHOTS_DIR", str(snapshots))
    facts = {"num_layers": Fact(2, source="https://example.org/card")}
    refused = ModelCase(hf_id="acme/kimi-like", revision=None, facts=facts)
    with pytest.raises(errors.RemoteCodeRefusedError):
        build_case(refused, use_cache=False)
    opted = ModelCase(hf_id="acme/kimi-like", revision=None, facts=facts, native_class=True)
    result, checks = build_case(opted, use_cache=False)
    assert [c.status for c in checks] == ["pass"]
    assert result.inspection.model_class == "DeepseekV3ForCausalLM"
