"""Gap reports: committed files current, links resolve, skeletons run, numbers from the build."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from harness import catalog
from harness.api import build_model_config
from harness.catalog import Layer
from harness.catalog.registry import gap_kinds, proposed_classes
from harness.gaps import (
    GENERATED_MARKER,
    INDEX_FILE,
    FileChange,
    collect_gaps,
    extract_skeletons,
    generate_gap_files,
    render_index,
    render_report,
    render_skeleton,
    summarize_layers,
    write_gap_reports,
)
from harness.pipeline.config import BuildResult, entry_lists
from harness.pipeline.mapping import LayerEntry

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
GAPS = ROOT / "gaps"
SEVERITY_ORDER = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}
MLA = "multi_head_latent_attention"
MLA_CLASS = "MultiHeadLatentAttentionLayer"
DEEPSEEK = "deepseek-ai/DeepSeek-V3"


def committed_gap_files() -> list[str]:
    """Names of the committed Markdown files in gaps/ (collected before anything is built)."""
    return sorted(path.name for path in GAPS.glob("*.md") if ".obtained" not in path.name)


@pytest.fixture(scope="session")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[BuildResult]:
    """Every case's build, made once per session offline from the vendored configs."""
    from harness.gaps import case_results

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(tmp_path_factory.mktemp("gaps_hf_home")))
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.chdir(ROOT)
        return case_results(ROOT / "cases")


@pytest.fixture(scope="session")
def generated(results: list[BuildResult]) -> dict[str, str]:
    """The gap files as the current code generates them from the case builds."""
    return generate_gap_files(results)


def by_model(results: list[BuildResult], hf_id: str) -> BuildResult:
    return next(r for r in results if r.inspection.hf_id == hf_id)


def self_attention_parameters(result: BuildResult, layer: int = 0) -> int:
    """Parameters under `model.layers.<layer>.self_attn.`, summed from the tensor shapes."""
    prefix = f"model.layers.{layer}.self_attn."
    total = 0
    for record in result.inspection.params:
        if record.name.startswith(prefix):
            size = 1
            for dim in record.shape:
                size *= dim
            total += size
    return total


def load_skeleton(source: str) -> dict[str, Any]:
    """Execute a skeleton's source and return its namespace (CASES, SKIP_REASON ...)."""
    namespace: dict[str, Any] = {"__name__": "skeleton"}
    exec(compile(source, "skeleton.py", "exec"), namespace)
    return namespace


def fallback_results(results: list[BuildResult]) -> list[BuildResult]:
    """A gpt2 build given three unsupported entries of the kinds with no reference record."""
    base = by_model(results, "openai-community/gpt2")

    def gap(name: str, kind: str, count: int, specs: dict[str, Any]) -> LayerEntry:
        return LayerEntry(
            name=name,
            class_name=proposed_classes()[kind],
            count=count,
            supported=False,
            specs=specs,
            layer_indices=tuple(range(count)),
            gap_kind=kind,
            gap_report=f"gaps/{kind}.md",
        )

    attention = {"hidden_size": 768, "num_heads": 12, "num_kv_heads": 4, "head_dim": 64}
    extra = (
        gap("unknown_thing", "unknown", 2, {"module_class": "FancyBlock", "parameter_count": 10}),
        gap("moe_bias", "moe_bias", 12, {"num_experts": 8, "parameter_count": 1_024}),
        gap(
            "attention",
            "nonstandard_attention",
            12,
            {**attention, "sliding_window": None, "parameter_count": 1_000},
        ),
    )
    return [dataclasses.replace(base, model_id="fallback_model", entries=extra)]


UNBLOCKED = "- Blocks no model case yet"


def blocking_reports(files: Mapping[str, str]) -> dict[str, str]:
    """The reports of kinds some model has (not the index, not the short unblocked ones)."""
    return {k: v for k, v in files.items() if k != INDEX_FILE and UNBLOCKED not in v}


# --------------------------------------------------------------------------- committed files


@pytest.mark.parametrize("name", committed_gap_files())
def test_committed_gap_file_is_current(
    name: str, generated: dict[str, str], file_regression: Any
) -> None:
    """Each committed gaps/<file> is byte-identical to what the code generates now."""
    assert name in generated, f"gaps/{name} is stale: no gap kind produces it; delete it"
    file_regression.check(
        generated[name], fullpath=GAPS / name, extension=".md", encoding="utf-8", newline="\n"
    )


def test_committed_gap_files_are_exactly_the_generated_ones(generated: dict[str, str]) -> None:
    """No generated file is missing from gaps/ and no stale generated file is left there."""
    committed = {
        path.name
        for path in GAPS.glob("*.md")
        if path.read_text(encoding="utf-8").startswith(GENERATED_MARKER)
    }
    assert committed == set(generated), (
        "gaps/ is out of date; regenerate with `harness gaps` (missing "
        f"{sorted(set(generated) - committed)}, stale {sorted(committed - set(generated))})"
    )


def test_every_config_gap_link_exists(
    results: list[BuildResult], generated: dict[str, str]
) -> None:
    """Every unsupported entry of every case config links to an existing gaps/<kind>.md."""
    links = 0
    for result in results:
        for entry in entry_lists(result.config):
            if entry["supported"] and "stand_in_for" not in entry:
                continue
            links += 1
            kind = entry.get("stand_in_for") or entry["gap_kind"]
            assert entry["gap_report"] == f"gaps/{kind}.md"
            assert (ROOT / entry["gap_report"]).is_file(), (result.model_id, entry["name"])
            assert Path(entry["gap_report"]).name in generated
    assert links >= len(results)  # every model has at least its lm_head gap or stand-in


def test_every_kind_the_mapper_can_emit_has_a_report(generated: dict[str, str]) -> None:
    """A build of any model (not only the cases) links only to reports that exist: kinds no case
    has get a short report saying so, with no skeleton, listed apart in the index."""
    assert {f"{kind}.md" for kind in proposed_classes()} <= set(generated)
    blocked = blocking_reports(generated)
    for kind in proposed_classes():
        text = generated[f"{kind}.md"]
        if f"{kind}.md" in blocked:
            continue
        assert f"- Gap kind: `{kind}`" in text and extract_skeletons(text) == [], kind
        assert f"[`{kind}`]({kind}.md)" in generated[INDEX_FILE].split("no case has yet")[1]


def test_every_gap_link_of_the_goldens_and_the_coverage_sweep_resolves() -> None:
    """Every gap_report of the committed goldens, and every gap kind the committed coverage sweep
    met, names a report that exists in gaps/."""
    links = set()
    for golden in sorted((ROOT / "golden").glob("*.json")):
        config = json.loads(golden.read_text(encoding="utf-8"))
        for part in ("layer_types", "unsupported_layer_types"):
            links |= {e["gap_report"] for e in config.get(part, []) if e.get("gap_report")}
    coverage = json.loads((ROOT / "coverage" / "coverage.json").read_text(encoding="utf-8"))
    links |= {f"gaps/{kind}.md" for row in coverage["architectures"] for kind in row["gap_kinds"]}
    assert {"gaps/unknown.md", "gaps/lm_head.md"} <= links
    missing = sorted(link for link in links if not (ROOT / link).is_file())
    assert missing == []


def test_index_ranks_every_kind_by_models_blocked(
    results: list[BuildResult], generated: dict[str, str]
) -> None:
    """The index lists every kind once, with the models it blocks, ranked as documented."""
    blocked: dict[str, set[str]] = {}
    for result in results:
        for entry in result.entries:
            if not entry.supported or entry.stand_in_for:
                blocked.setdefault(str(entry.gap_kind), set()).add(result.model_id)
    rows = re.findall(
        r"^\| (\d+) \| \[`(\w+)`\]\((\w+)\.md\) \| \*\*(\w+)\*\* \| (\d+) \|",
        generated[INDEX_FILE],
        flags=re.MULTILINE,
    )
    kinds = [kind for _, kind, _, _, _ in rows]
    assert sorted(kinds) == sorted(blocked)
    assert [int(rank) for rank, *_ in rows] == list(range(1, len(rows) + 1))
    for _, kind, link, severity, models in rows:
        assert link == kind
        assert int(models) == len(blocked[kind]), kind
        assert f"- Severity: **{severity}**" in generated[f"{kind}.md"]
        assert severity == gap_kinds()[kind].severity.value
    keys = [(-int(models), SEVERITY_ORDER[sev], kind) for _, kind, _, sev, models in rows]
    assert keys == sorted(keys)
    assert kinds[0] == "lm_head" and int(rows[0][4]) == len(results)


def test_report_sections_and_models(results: list[BuildResult], generated: dict[str, str]) -> None:
    """Each report has every section, and its table lists exactly the models with that kind."""
    sections = [
        "## Summary",
        "## Models blocked",
        "## Example tensors from the dry run",
        "## Specs per model",
        "## References",
        "### vLLM",
        "### SGLang",
        "### Papers",
        "## Parallelism strategies",
        "## FLOPs",
        "## KV cache",
        "## Test-suite specification",
        "## Generated pytest skeleton",
    ]
    blocked = blocking_reports(generated)
    cased = {
        kind: record
        for kind, record in gap_kinds().items()
        if f"{kind}.md" in blocked and record.references is not None
    }
    # Kinds first met by the coverage sweep block no case;
    # pipeline/structure/test_gap_kinds.py renders them.
    assert {"lm_head", "multi_head_latent_attention", "mamba_mixer"} <= cased.keys()
    for kind, record in cased.items():
        text = generated[f"{kind}.md"]
        positions = [text.index(section) for section in sections]
        assert positions == sorted(positions), kind
        assert f"- Severity: **{record.severity.value}**" in text
        assert record.references is not None
        for source in (*record.references.vllm, *record.references.sglang):
            assert f"| `{source.path}` | `{source.symbol}` |" in text
        for item in record.test_suite:
            assert item.replace("*", "\\*") in text
        table = text.split("## Models blocked")[1].split("## Example tensors")[0]
        listed = set(re.findall(r"^\| `([^`]+)` \| `", table, flags=re.MULTILINE))
        expected = {
            r.inspection.hf_id for r in results if any(e.gap_kind == kind for e in r.entries)
        }
        assert listed == expected, kind


def test_example_tensors_are_the_first_instance_of_each_model(generated: dict[str, str]) -> None:
    """The MLA report shows DeepSeek-V3's layer-0 tensors with their exact shapes and dtypes."""
    text = generated[f"{MLA}.md"]
    assert "### `deepseek-ai/DeepSeek-V3`: entry `attention`, layer 0" in text
    assert "| `model.layers.0.self_attn.kv_b_proj.weight` | param | [32768, 512] |" in text
    assert "model.layers.1." not in text
    lm_head = generated["lm_head.md"]
    assert "| `model.embed_tokens.weight` | param | [256000, 3584] | torch.float32 |" in lm_head


# --------------------------------------------------------------------------- skeletons


def _run_skeletons(pytester: pytest.Pytester, files: Mapping[str, str]) -> pytest.HookRecorder:
    for name, source in files.items():
        (pytester.path / name).write_text(source, encoding="utf-8")
    return pytester.inline_run(
        *sorted(files), "-p", "no:cacheprovider", "-p", "no:harness", "--strict-markers"
    )


def test_skeletons_compile_and_every_test_skips_for_the_stated_reason(
    pytester: pytest.Pytester, results: list[BuildResult], generated: dict[str, str]
) -> None:
    """Every report of a kind some model has holds one skeleton; run with pytest, all of its
    tests skip naming the class."""
    reports = blocking_reports(generated)
    fallback = blocking_reports(generate_gap_files(fallback_results(results)))
    reports.update(
        {k: v for k, v in fallback.items() if gap_kinds()[k.removesuffix(".md")].references is None}
    )
    files: dict[str, str] = {}
    expected: dict[str, str] = {}
    for name, text in sorted(reports.items()):
        kind = name.removesuffix(".md")
        skeletons = extract_skeletons(text)
        assert len(skeletons) == 1, name
        compile(skeletons[0], f"test_{kind}.py", "exec")
        files[f"test_{kind}.py"] = skeletons[0]
        expected[f"test_{kind}.py"] = (
            f"{proposed_classes()[kind]} is not in harness.catalog yet; see gaps/{kind}.md"
        )
    assert {"test_unknown.py", "test_moe_bias.py", "test_nonstandard_attention.py"} <= set(files)

    recorder = _run_skeletons(pytester, files)
    passed, skipped, failed = recorder.listoutcomes()
    assert recorder.getfailedcollections() == []
    assert passed == [] and failed == []
    assert recorder.ret == pytest.ExitCode.OK
    per_file: dict[str, int] = {}
    for report in skipped:
        file = report.nodeid.split("::")[0]
        assert isinstance(report.longrepr, tuple)
        assert report.longrepr[2] == f"Skipped: {expected[file]}", report.nodeid
        per_file[file] = per_file.get(file, 0) + 1
    for file, source in files.items():
        cases = len(load_skeleton(source)["CASES"])
        assert per_file.get(file, 0) >= 2 * cases, file  # weight memory, FLOPs scaling


class _FakeMLA(Layer):
    """MLA written from the DeepSeek-V2 paper, for checking that the skeleton's numbers bind."""

    def __init__(
        self,
        layer_idx: int,
        hidden_size: int,
        num_heads: int,
        q_lora_rank: int | None,
        kv_lora_rank: int,
        qk_nope_head_dim: int,
        qk_rope_head_dim: int,
        v_head_dim: int,
        dtype: str,
        parallelism: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(layer_idx, dtype, parallelism)
        self.hidden_size, self.num_heads = hidden_size, num_heads
        self.q_lora_rank, self.kv_lora_rank = q_lora_rank, kv_lora_rank
        self.qk_nope_head_dim, self.qk_rope_head_dim = qk_nope_head_dim, qk_rope_head_dim
        self.v_head_dim = v_head_dim

    def _matrices(self) -> int:
        h, n, rq, rkv = self.hidden_size, self.num_heads, self.q_lora_rank, self.kv_lora_rank
        dn, dr, dv = self.qk_nope_head_dim, self.qk_rope_head_dim, self.v_head_dim
        # q_lora_rank None or 0 (DeepSeek-V2-Lite): one full q_proj instead of q_a, q_b
        query = h * rq + rq * n * (dn + dr) if rq else h * n * (dn + dr)
        return query + h * (rkv + dr) + rkv * n * (dn + dv) + n * dv * h

    def parameter_count(self) -> int:
        # plus the latent norms: kv_a_layernorm, and q_a_layernorm when q is compressed
        return self._matrices() + (self.q_lora_rank or 0) + self.kv_lora_rank

    def flops(
        self, batch_size: int, seq_len: int, *, phase: Any = "prefill", context_len: Any = None
    ) -> int:
        batch, new, keys = self._step(batch_size, seq_len, phase, context_len)
        assert keys is not None
        n, dn, dr, dv = (
            self.num_heads,
            self.qk_nope_head_dim,
            self.qk_rope_head_dim,
            self.v_head_dim,
        )
        if phase == "prefill":
            attention = 2 * batch * new * keys * n * (dn + dr + dv)
        else:
            attention = 2 * batch * keys * n * (2 * self.kv_lora_rank + dr)
        return 2 * batch * new * self._matrices() + attention

    def kv_cache_bytes(self, batch_size: int, context_len: int) -> float:
        latent = self.kv_lora_rank + self.qk_rope_head_dim
        return batch_size * context_len * latent * self.bytes_per_element


class _FakeMLAWithoutNorms(_FakeMLA):
    """The same layer forgetting its latent norms (q_a_layernorm, kv_a_layernorm)."""

    def parameter_count(self) -> int:
        return self._matrices()


MLA_SKELETON_TESTS = {
    "test_weight_memory",
    "test_kv_cache",
    "test_prefill_flops_one_token",
    "test_decode_flops",
    "test_flops_scale_with_batch",
}


def _test_names(reports: Any) -> set[str]:
    """The test functions of pytester reports, without their parameters."""
    return {report.nodeid.split("::")[1].split("[")[0] for report in reports}


@pytest.fixture
def mla_skeleton(generated: dict[str, str]) -> dict[str, str]:
    return {f"test_{MLA}.py": extract_skeletons(generated[f"{MLA}.md"])[0]}


def test_skeleton_becomes_a_real_check_once_the_class_exists(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mla_skeleton: dict[str, str]
) -> None:
    """With a correct class in the package every MLA test passes; nothing is skipped."""
    monkeypatch.setattr(catalog, MLA_CLASS, _FakeMLA, raising=False)
    passed, skipped, failed = _run_skeletons(pytester, mla_skeleton).listoutcomes()
    assert skipped == [] and failed == []
    assert _test_names(passed) == MLA_SKELETON_TESTS


def test_skeleton_fails_a_wrong_class(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    mla_skeleton: dict[str, str],
    results: list[BuildResult],
) -> None:
    """A class that forgets the latent norms fails exactly the weight-memory test, for every MLA
    model the cases hold."""
    monkeypatch.setattr(catalog, MLA_CLASS, _FakeMLAWithoutNorms, raising=False)
    _, skipped, failed = _run_skeletons(pytester, mla_skeleton).listoutcomes()
    assert skipped == []
    cases = load_skeleton(mla_skeleton[f"test_{MLA}.py"])["CASES"]
    assert f"{DEEPSEEK.replace('/', '_')}-attention" in cases
    assert sorted(report.nodeid.split("::")[1] for report in failed) == sorted(
        f"{test}[{case}]"
        for case in cases
        for test in ("test_weight_memory",)
    )


TINY_MLA_WITHOUT_Q_LORA = {
    "architectures": ["DeepseekV2ForCausalLM"],
    "model_type": "deepseek_v2",
    "hidden_size": 64,
    "intermediate_size": 128,
    "moe_intermediate_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "vocab_size": 256,
    "q_lora_rank": None,  # DeepSeek-V2-Lite's form: a full q_proj, no q_a_layernorm
    "kv_lora_rank": 16,
    "qk_nope_head_dim": 8,
    "qk_rope_head_dim": 4,
    "v_head_dim": 8,
    "n_routed_experts": 4,
    "n_shared_experts": 1,
    "num_experts_per_tok": 2,
    "first_k_dense_replace": 1,
    "tie_word_embeddings": False,
}


@pytest.fixture(scope="module")
def mla_without_q_lora(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """Built before any pytester fixture, whose sys.modules restore would drop torch again."""
    path = tmp_path_factory.mktemp("mla") / "config.json"
    path.write_text(json.dumps(TINY_MLA_WITHOUT_Q_LORA))
    return build_model_config(str(path), offline=True, use_cache=False)


def test_skeleton_of_mla_without_q_compression_binds_the_paper_class(
    mla_without_q_lora: BuildResult, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`q_lora_rank: null` reaches the skeleton as None, and a class that handles it passes."""
    result = mla_without_q_lora
    skeleton = render_skeleton(collect_gaps([result])[MLA])
    (case,) = load_skeleton(skeleton)["CASES"].values()
    assert case["specs"]["q_lora_rank"] is None
    assert case["parameter_count"] == self_attention_parameters(result)
    monkeypatch.setattr(catalog, MLA_CLASS, _FakeMLA, raising=False)
    passed, skipped, failed = _run_skeletons(pytester, {"test_mla.py": skeleton}).listoutcomes()
    assert skipped == [] and failed == []
    assert _test_names(passed) == MLA_SKELETON_TESTS


# A stand-alone estimator package written the way Mantile's backend.layers is: its own Phase
# enum, dtype strings, and an LMHeadLayer with Mantile's method names (bytes and FLOPs per package).
_ESTIMATOR = """
from enum import Enum

class Phase(Enum):
    PREFILL = "prefill"
    DECODE = "decode"

BYTES = {"bf16": 2, "fp32": 4}

class LMHeadLayer:
    SUPPORTED_PARALLELISM = {"tensor_parallel"}

    def __init__(self, layer_idx, vocab_size, hidden_size, dtype, tied=False, has_bias=False,
                 parallelism=None):
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.tied, self.has_bias, self.dtype = tied, has_bias, dtype

    def compute_weight_memory(self):
        weights = 0 if self.tied else self.vocab_size * self.hidden_size
        return (weights + (self.vocab_size if self.has_bias else 0)) * BYTES[self.dtype]

    def compute_flops(self, batch_size, seq_len, phase):
        tokens = batch_size * (1 if phase == Phase.DECODE else seq_len)
        bias_adds = tokens * self.vocab_size if self.has_bias else 0  # elementwise, allowed
        return 2 * tokens * self.hidden_size * self.vocab_size + bias_adds

    def compute_kv_cache(self, batch_size, seq_len):
        return 0
"""
# The same class with two mistakes: the bias forgotten in weight memory, FLOPs halved.
_WRONG = {
    "(self.vocab_size if self.has_bias else 0)": "0",
    "return 2 * tokens": "return tokens",
}


@pytest.fixture(scope="module")
def head_skeleton(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The lm_head skeleton of three tiny builds: a tied head, a biased one, a stand-in."""
    from .conftest import TINY_LLAMA, TINY_PHI

    folder = tmp_path_factory.mktemp("heads")
    paths = []
    for name, config in (
        ("tied", {**TINY_LLAMA, "tie_word_embeddings": True}),
        ("biased", TINY_PHI),
        ("untied", TINY_LLAMA),
    ):
        (folder / name).mkdir()
        (folder / name / "config.json").write_text(json.dumps(config))
        paths.append(str(folder / name / "config.json"))
    results = [build_model_config(path, offline=True) for path in paths]
    report = collect_gaps(results)["lm_head"]
    assert [m.model_id for m in report.models] == ["biased", "tied", "untied"]
    assert report.models[2].entries[0].stand_in == "MLPLayer"
    return render_skeleton(report)


def _run_in_estimator(folder: Path, skeleton: str, package: str) -> subprocess.CompletedProcess:
    """Run the skeleton unchanged next to `package`, selected by HARNESS_LAYERS_PACKAGE only."""
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "test_lm_head.py").write_text(skeleton, encoding="utf-8")
    env = {**os.environ, "HARNESS_LAYERS_PACKAGE": "estimator.layers"}
    (folder / "estimator" / "layers").mkdir(parents=True)
    (folder / "estimator" / "__init__.py").write_text("")
    (folder / "estimator" / "layers" / "__init__.py").write_text(package)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_lm_head.py", "-q", "-rA",
         "-p", "no:cacheprovider", "-p", "no:harness", "-p", "no:randomly"],
        capture_output=True, text=True, env=env, cwd=folder, check=False,
    )  # fmt: skip


def test_skeleton_runs_unchanged_in_another_estimator(tmp_path: Path, head_skeleton: str) -> None:
    """Copied into a stand-alone package's tree, the skeleton passes with the right formulas."""
    done = _run_in_estimator(tmp_path, head_skeleton, _ESTIMATOR)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" not in done.stdout and " passed" in done.stdout
    assert "harness" not in head_skeleton.split("LAYERS_PACKAGE =")[1].split("\n")[0].split(",")[0]


def test_skeleton_fails_wrong_formulas_in_another_estimator(
    tmp_path: Path, head_skeleton: str
) -> None:
    wrong = _ESTIMATOR
    for old, new in _WRONG.items():
        assert old in wrong
        wrong = wrong.replace(old, new)
    done = _run_in_estimator(tmp_path, head_skeleton, wrong)
    assert done.returncode == 1
    failed = sorted(re.findall(r"^FAILED tests/test_lm_head.py::(\S+)", done.stdout, re.M))
    assert "test_weight_memory[biased-lm_head]" in failed
    assert "test_weight_memory[tied-lm_head]" not in failed  # no bias, no weights: right
    assert {f"test_decode_flops[{m}-lm_head]" for m in ("biased", "tied", "untied")} <= set(failed)


# --------------------------------------------------------------------------- numbers


def test_numbers_come_from_the_dry_run(tmp_path: Path, results: list[BuildResult]) -> None:
    """Halving DeepSeek-V3's kv_lora_rank changes the skeleton to the new build's exact count."""
    config = json.loads((ROOT / "cases/configs" / DEEPSEEK / "config.json").read_text())
    assert config["kv_lora_rank"] == 512
    config["kv_lora_rank"] = 256
    path = tmp_path / "DeepSeek-V3-kv256" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))

    result = build_model_config(str(path), offline=True)
    old = self_attention_parameters(by_model(results, DEEPSEEK))
    new = self_attention_parameters(result)
    assert old == 187_107_328 and new != old

    report = collect_gaps([result])[MLA]
    skeleton = render_skeleton(report)
    assert f"{new:_}" in skeleton and f"{old:_}" not in skeleton and str(old) not in skeleton
    (case,) = load_skeleton(skeleton)["CASES"].values()
    assert case["parameter_count"] == new
    assert case["specs"]["kv_lora_rank"] == 256
    assert case["kv_bytes_per_token"] == (256 + config["qk_rope_head_dim"]) * 2 == 640
    text = render_report(report)
    assert f"| {new:,} |" in text and f"| {old:,} |" not in text
    assert extract_skeletons(text) == [skeleton]


def test_tied_head_has_no_parameters_of_its_own(generated: dict[str, str]) -> None:
    """A tied lm_head is blocked with parameter_count 0 and the embedding tensor it reads."""
    (case,) = [
        case
        for case in load_skeleton(extract_skeletons(generated["lm_head.md"])[0])["CASES"].values()
        if case["model"] == "google/gemma-2-9b"
    ]
    assert case["parameter_count"] == 0
    assert case["prefill_flops_one_token"] == 2 * 3584 * 256_000


# --------------------------------------------------------------------------- determinism, I/O


def test_generation_is_deterministic(results: list[BuildResult], generated: dict[str, str]) -> None:
    """Generating again, from the builds in another order, gives identical text."""
    assert generate_gap_files(list(reversed(results))) == generated
    reports = collect_gaps(results)
    assert render_index(list(reversed(reports.values()))) == generated[INDEX_FILE]


def test_generation_does_not_depend_on_the_hash_seed(results: list[BuildResult]) -> None:
    """A subprocess with another PYTHONHASHSEED renders the same files for three models."""
    chosen = [
        "deepseek-ai/DeepSeek-V3",
        "Qwen/Qwen3-Next-80B-A3B-Instruct",
        "openai-community/gpt2",
    ]
    here = generate_gap_files([by_model(results, hf_id) for hf_id in chosen])
    script = (
        "import json, sys\n"
        "from harness.api import build_model_config\n"
        "from harness.gaps import generate_gap_files\n"
        "ids = json.loads(sys.argv[1])\n"
        "builds = [build_model_config(i, offline=True) for i in ids]\n"
        "print(json.dumps(generate_gap_files(builds)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(chosen)],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == here


def test_write_gap_reports_prunes_only_generated_files(
    tmp_path: Path, results: list[BuildResult], generated: dict[str, str]
) -> None:
    """Writing replaces generated files, deletes stale generated ones, keeps hand-written notes."""
    folder = tmp_path / "gaps"
    folder.mkdir()
    (folder / "old_kind.md").write_text(f"{GENERATED_MARKER}\n\n# gone\n")
    (folder / "notes.md").write_text("# hand-written notes\n")
    (folder / "lm_head.md").write_text(f"{GENERATED_MARKER}\nstale\n")

    kept = write_gap_reports(results[:3], folder, prune=False)
    assert (folder / "old_kind.md").exists()
    before = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    written = write_gap_reports(results, folder)

    assert [f.path.name for f in kept] == sorted(generate_gap_files(results[:3]))
    assert {f.path.name: f.change for f in written} == {
        **{
            name: FileChange.UNCHANGED if before.get(name) == text else FileChange.WROTE
            for name, text in generated.items()
        },
        "old_kind.md": FileChange.REMOVED,
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted([*generated, "notes.md"])
    for name, text in generated.items():
        assert (folder / name).read_text(encoding="utf-8") == text


def test_write_gap_reports_says_unchanged_and_leaves_the_file_alone(
    tmp_path: Path, results: list[BuildResult]
) -> None:
    """A second write changes nothing: every file is `unchanged` and keeps its modification time."""
    folder = tmp_path / "gaps"
    first = write_gap_reports(results[:2], folder)
    assert {f.change for f in first} == {FileChange.WROTE}
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    (folder / INDEX_FILE).write_text("edited by hand\n")

    second = write_gap_reports(results[:2], folder)
    changes = {f.path.name: f.change for f in second}
    assert changes.pop(INDEX_FILE) == FileChange.WROTE
    assert set(changes.values()) == {FileChange.UNCHANGED}
    assert all((folder / name).stat().st_mtime_ns == stamps[name] for name in changes)


def test_summarize_layers() -> None:
    """Layer indices read as all / a progression / all but a progression / runs."""
    assert summarize_layers((), 61) == "model level"
    assert summarize_layers(range(61), 61) == "all 61 (0-60)"
    assert summarize_layers(range(3, 48, 4), 48) == "3-47 every 4 (12)"
    jamba_mamba = [i for i in range(32) if i % 8 != 4]
    assert summarize_layers(jamba_mamba, 32) == "all but 4-28 every 8 (28)"
    assert summarize_layers([0, 1, 2, 5], 8) == "0-2, 5 (4)"


def test_extract_skeletons_takes_only_python_fences() -> None:
    """Only ```python blocks are returned, in order, without their fences."""
    text = "# t\n```text\nx = 1\n```\n```python\na = 1\n```\nprose\n```python\nb = 2\n\n```\n"
    assert extract_skeletons(text) == ["a = 1\n", "b = 2\n\n"]


def test_the_skeleton_template_holds_the_module_and_every_test_a_rule_selects(
    monkeypatch: pytest.MonkeyPatch, results: list[BuildResult]
) -> None:
    """skeleton.py.tmpl: one module section, then the tests; a section no rule selects (a test
    added to the template but not to the rules) is refused, not silently dropped."""
    from string import Template

    from harness.gap_reports import skeleton

    sections = skeleton._template()
    assert next(iter(sections)) == "module" and len(sections) == 8
    report = collect_gaps(results)["lm_head"]
    assert render_skeleton(report).count("\n\n\n@pytest.mark.parametrize") == 5
    extra = {**sections, "test_new": Template("def test_new() -> None:\n    pass")}
    monkeypatch.setattr(skeleton, "_template", lambda: extra)
    with pytest.raises(ValueError, match=r"sections no rule selects: \['test_new'\]"):
        render_skeleton(report)


def test_kinds_without_reference_records_render_saying_so(results: list[BuildResult]) -> None:
    """unknown, moe_bias and nonstandard_attention have no references in the registry."""
    reports = collect_gaps(fallback_results(results))
    assert {k: r.severity for k, r in reports.items()} == {
        "moe_bias": "MEDIUM",
        "nonstandard_attention": "MEDIUM",
        "unknown": "HIGH",
    }
    for report in reports.values():
        assert "References: none recorded yet" in render_report(report)
    (case,) = load_skeleton(render_skeleton(reports["nonstandard_attention"]))["CASES"].values()
    assert case["kv_bytes_per_token"] == 2 * 4 * 64 * 2


@pytest.fixture(autouse=True)
def _no_obtained_files_left() -> Iterator[None]:
    """file_regression writes .obtained files in its tmp datadir, never in gaps/."""
    yield
    assert not list(GAPS.glob("*.obtained*"))


@pytest.mark.parametrize("cases", ["casez", "empty"])
def test_error_a_wrong_cases_dir_touches_no_gap_report(
    tmp_path: Path, cases: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in --cases-dir must not prune every committed report: nothing to rebuild them."""
    from harness.cli import main

    (tmp_path / "empty").mkdir()
    out = tmp_path / "gaps"
    shutil.copytree(GAPS, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    status = main(["gaps", "--cases-dir", str(tmp_path / cases), "--out", str(out), "--offline"])
    assert status == 2
    assert "holds no case files" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
