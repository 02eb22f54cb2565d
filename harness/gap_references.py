"""Reference notes for the layer kinds the Mantile catalog cannot model yet, one per gap kind.

Each `GapReference` says what the layer computes, why the catalog classes (EmbeddingLayer,
AttentionLayer, GroupedQueryAttentionLayer, SlidingWindowAttentionLayer, MLPLayer, GatedMLPLayer,
MoELayer, NormLayer) cannot represent it exactly, where vLLM and SGLang implement it, which papers
define it, how it is split under tensor / expert / context / pipeline parallelism, its FLOP and
KV-cache formulas, and the tests a future implementer must pass.

Provenance (see `SOURCES_CHECKED` and `SOURCE_RELEASES`):

- vLLM and SGLang paths and symbols were read in the released source of vLLM 0.33.0 (built from
  commit 4ba787ec9) and SGLang 0.5.23 (its release records no commit id), and every path was also
  confirmed to exist in the upstream repository; SGLang paths carry the repository's `python/`
  prefix.
- HuggingFace paths were read in transformers 5.24.0; each URL pins a commit at which the file
  and the named class exist under that path (it may predate 5.24.0, whose behaviour the text
  describes).
- Reference implementations (state-spaces/mamba, fla-org/flash-linear-attention, openai/gpt-oss,
  deepseek-ai/DeepSeek-V3, NVlabs/GatedDeltaNet, qiuzh20/gated_attention) were read at the pinned
  commits in `SOURCES_CHECKED`; papers are arXiv abstract pages whose titles were checked.
- Parameter counts in `test_spec` were computed from the transformers 5.24.0 modules on the meta
  device with the named configs.

Formulas count 2*M*K*N FLOPs per matmul and are per token per layer unless stated; `beta` is bytes
per element of the cached dtype, `T` the tokens in a step and `tp` the tensor-parallel degree. No
code from the cited projects is reproduced here, only paths, symbol names and our own summaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GAP_REFERENCES",
    "SOURCES_CHECKED",
    "SOURCE_RELEASES",
    "GapReference",
    "Severity",
]

Severity = Literal["HIGH", "MEDIUM", "LOW"]

# Repository -> short commit the cited paths were checked at. SGLang and transformers were read in
# their releases, which record no commit id, so their entry is the release tag.
SOURCES_CHECKED: dict[str, str] = {
    "vllm-project/vllm": "4ba787ec9",
    "sgl-project/sglang": "v0.5.23",
    "huggingface/transformers": "v5.24.0",
    "state-spaces/mamba": "e9594ce1c",
    "fla-org/flash-linear-attention": "bc3b101dc",
    "openai/gpt-oss": "7b583341f",
    "deepseek-ai/DeepSeek-V3": "9b4e9788e",
    "NVlabs/GatedDeltaNet": "5ddd1e484",
    "qiuzh20/gated_attention": "49645df63",
}

# Repository -> release whose source was read (only where a release was the source).
SOURCE_RELEASES: dict[str, str] = {
    "vllm-project/vllm": "v0.33.0",
    "sgl-project/sglang": "v0.5.23",
    "huggingface/transformers": "v5.24.0",
}

_ARXIV = "https://arxiv.org/abs/"

# Full commits for the GitHub URLs below.
_MAMBA = "e9594ce1c732d97440f0332fdc43170a2294dbfa"
_FLA = "bc3b101dcb713ddc5bd8924b66754eb68b5ccf89"
_GPT_OSS = "7b583341fe16729127f6d5b94a7b09ccae97e1a1"
_DEEPSEEK = "9b4e9788e4a3a731f7567338ed15d3ec549ce03b"
_GDN = "5ddd1e4845336f6b07b506ad77a8c92db9e5478d"
_GATED_ATTN = "49645df63aafe9e680bc44a9c0ca280d4aefa8e9"

# transformers file -> a commit at which that file exists at src/transformers/<file>.
_HF: dict[str, str] = {
    "models/deepseek_v3/modeling_deepseek_v3.py": "f5a9ec512fa9fe69e51ea0c6388c68d50de567b3",
    "models/mamba/modeling_mamba.py": "1160c0f318703888750d20a6988febf52099df2b",
    "models/jamba/modeling_jamba.py": "97bb61d0788015770945004a7db6285db68081c0",
    "models/qwen3_next/modeling_qwen3_next.py": "7515843b617551b008901620ca58f1208bbc330d",
    "models/gpt_oss/modeling_gpt_oss.py": "6edf5b311854175ff83c59179b3360beca1ceffc",
    "models/qwen2/modeling_qwen2.py": "63bb723747035466e5339aea864b133f709b067d",
    "models/gpt2/modeling_gpt2.py": "c44b2d9976e8eafbdcb89cb2710141b2bc9b138f",
    "models/gpt_neox/modeling_gpt_neox.py": "203bf6f1c524062b3c109da5ff67e61f483407e7",
    "models/starcoder2/modeling_starcoder2.py": "73faa33f3c3a8588747d42dc7ca666d97b1a2a2c",
    "models/qwen3/modeling_qwen3.py": "9ee3f431c32e9e5f6c0888f6b2b0ca3f6c289dd6",
    "models/gemma3/modeling_gemma3.py": "f14d0cbc824e447ef294d8cdc0f8ad4222f3dfee",
    "models/olmo2/modeling_olmo2.py": "7264638d7b0ab5841670813ebed806189b8f7b71",
    "models/llama/modeling_llama.py": "5dd4a63548857797727ae73eeb6a6e886ea02a3e",
    "pytorch_utils.py": "3009a8a4b92d0d63b18d11575a413a4b78a55776",
}


def _gh(repo: str, commit: str, path: str) -> str:
    return f"https://github.com/{repo}/blob/{commit}/{path}"


def _hf(file: str) -> str:
    return _gh("huggingface/transformers", _HF[file], f"src/transformers/{file}")


@dataclass(frozen=True)
class GapReference:
    """What one unsupported layer kind is, where it is implemented, and how to model it.

    `vllm` and `sglang` hold (repository path, class or function, what it does); `papers` and
    `other_refs` hold (title, URL); `parallelism` holds (strategy, what is split, what is
    communicated).
    """

    title: str
    severity: Severity
    proposed_class: str
    summary: str
    pytorch_ops: tuple[str, ...]
    vllm: tuple[tuple[str, str, str], ...]
    sglang: tuple[tuple[str, str, str], ...]
    papers: tuple[tuple[str, str], ...]
    other_refs: tuple[tuple[str, str], ...]
    parallelism: tuple[tuple[str, str, str], ...]
    flops_formula: str
    kv_cache_formula: str
    test_spec: tuple[str, ...]

    def reference_count(self) -> int:
        """Number of cited sources: vLLM, SGLang, papers and other references."""
        return len(self.vllm) + len(self.sglang) + len(self.papers) + len(self.other_refs)


_MLA = GapReference(
    title="Multi-head Latent Attention (DeepSeek-V2/V3 MLA)",
    severity="HIGH",
    proposed_class="MultiHeadLatentAttentionLayer",
    summary=(
        "Queries take a low-rank path (q_a_proj -> q_a_layernorm -> q_b_proj, n heads of "
        "qk_nope_head_dim + qk_rope_head_dim); keys and values are compressed per token into one "
        "kv_lora_rank latent plus one shared RoPE key (kv_a_proj_with_mqa -> kv_a_layernorm), "
        "expanded per head by kv_b_proj into k_nope and v, and o_proj maps n*v_head_dim back to "
        "hidden. Only the latent and the RoPE key are cached, and decode kernels absorb kv_b_proj "
        "into the query and output so attention runs as MQA over the latent. The attention "
        "classes assume plain q/k/v/o projections and a 2*kv_heads*head_dim cache, so they "
        "can count neither the five MLA matmuls nor the single latent cache that every TP "
        "rank replicates."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.nn.functional.rms_norm",
        "torch.nn.functional.scaled_dot_product_attention",
        "torch.bmm",
        "torch.split",
        "torch.cat",
    ),
    vllm=(
        (
            "vllm/model_executor/models/deepseek_v2.py",
            "DeepseekV2MLAAttention",
            "Builds the replicated fused_qkv_a_proj, q_a_layernorm/kv_a_layernorm, column-parallel "
            "q_b_proj and kv_b_proj, and row-parallel o_proj.",
        ),
        (
            "vllm/model_executor/layers/mla.py",
            "MultiHeadLatentAttentionWrapper",
            "Pluggable outer MLA layer: latent pre-processing, RoPE, attention call and o_proj.",
        ),
        (
            "vllm/model_executor/layers/attention/mla_attention.py",
            "MLAAttention",
            "Splits kv_b_proj into absorbed W_UK_T/W_UV at load time and declares a one-head cache "
            "of kv_lora_rank + qk_rope_head_dim (max_tp_shards=1).",
        ),
        (
            "vllm/v1/kv_cache_interface.py",
            "MLAAttentionSpec",
            "KV-cache spec for the compressed latent pages.",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/models/deepseek_v2.py",
            "DeepseekV2AttentionMLA",
            "MLA module; keeps kv_b_proj split into w_kc/w_vc for the absorbed path.",
        ),
        (
            "python/sglang/srt/models/deepseek_common/attention_forward_methods/forward_mla.py",
            "DeepseekMLAForwardMixin",
            "Absorbed forward: q_nope times w_kc, MQA over the latent cache, output times w_vc.",
        ),
        (
            "python/sglang/srt/mem_cache/memory_pool.py",
            "MLATokenToKVPool",
            "Token pool holding kv_lora_rank + qk_rope_head_dim values per token per layer.",
        ),
        (
            "python/sglang/srt/layers/dp_attention.py",
            "initialize_dp_attention",
            "Data-parallel attention, the usual way to avoid replicating the latent cache on "
            "every TP rank.",
        ),
    ),
    papers=(
        (
            "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model",
            _ARXIV + "2405.04434",
        ),
        ("DeepSeek-V3 Technical Report", _ARXIV + "2412.19437"),
    ),
    other_refs=(
        (
            "transformers DeepseekV3Attention (modeling_deepseek_v3.py)",
            _hf("models/deepseek_v3/modeling_deepseek_v3.py"),
        ),
        (
            "DeepSeek-V3 reference inference MLA (naive vs absorb attn_impl, kv_cache/pe_cache)",
            _gh("deepseek-ai/DeepSeek-V3", _DEEPSEEK, "inference/model.py"),
        ),
    ),
    parallelism=(
        (
            "tensor",
            "q_b_proj (or q_proj) and kv_b_proj column-split by heads (n/tp per rank), o_proj "
            "row-split; q_a_proj, kv_a_proj_with_mqa and both a-layernorms replicated",
            "one all-reduce of T*H after o_proj; the latent is computed redundantly on every rank "
            "and the latent KV cache is replicated, so per-rank KV bytes do not shrink with tp",
        ),
        (
            "data-parallel attention (SGLang dp_attention)",
            "requests (and their latent caches) split across ranks, each running all heads",
            "hidden states gathered/scattered around the MoE block instead of an attention "
            "all-reduce",
        ),
        (
            "context (vLLM decode context parallel)",
            "latent KV cache split along the sequence across the DCP group",
            "partial outputs merged with their log-sum-exp across ranks; the q-replicate variant "
            "also all-gathers W_UK_T",
        ),
        (
            "pipeline",
            "whole layers per stage",
            "T*H activations between stages; each stage caches latents only for its layers",
        ),
    ),
    flops_formula=(
        "H=hidden_size, n=num_attention_heads, r_q=q_lora_rank, r_kv=kv_lora_rank, "
        "d_n=qk_nope_head_dim, d_r=qk_rope_head_dim, d_v=v_head_dim, S=attended tokens. "
        "Projections: 2*H*r_q + 2*r_q*n*(d_n+d_r) + 2*H*(r_kv+d_r) + 2*r_kv*n*(d_n+d_v) "
        "+ 2*n*d_v*H (with r_q null the first two terms become 2*H*n*(d_n+d_r)); the kv_b term "
        "is the same whether applied to the new token (naive) or absorbed as 2*n*d_n*r_kv + "
        "2*n*r_kv*d_v. Attention: naive/prefill 2*n*S*(d_n+d_r) + 2*n*S*d_v; absorbed decode "
        "2*n*S*(r_kv+d_r) + 2*n*S*r_kv."
    ),
    kv_cache_formula=(
        "(kv_lora_rank + qk_rope_head_dim)*beta bytes per token per layer, a single shared "
        "'head' that is not divided by tp. DeepSeek-V3 in bf16: (512+64)*2 = 1152 B per token "
        "per layer, 70,272 B per token over 61 layers; vLLM's fp8_ds_mla layout packs it into "
        "656 B."
    ),
    test_spec=(
        "DeepseekV3Config defaults (H=7168, n=128, r_q=1536, r_kv=512, d_n=128, d_r=64, "
        "d_v=128): 187,107,328 parameters per layer including q_a_layernorm and kv_a_layernorm.",
        "Projection FLOPs per token per layer = 374,210,560 in both the naive and absorbed forms.",
        "FLOPs per attended token: naive 2*n*(d_n+d_r+d_v) = 81,920; absorbed "
        "2*n*(2*r_kv+d_r) = 278,528; prefill must use naive, decode absorbed.",
        "KV cache = 1152 B per token per layer in bf16, identical for tp in {1, 2, 4, 8}.",
        "q_lora_rank=None (DeepSeek-V2-Lite style) gives one q_proj of 2*H*n*(d_n+d_r) FLOPs "
        "and no q_a_layernorm parameters.",
        "At tp=8 q_b/kv_b/o weights per rank are 1/8 of the total while q_a/kv_a and the norms "
        "are whole; exactly one all-reduce of T*H per layer.",
    ),
)

_MAMBA_MIXER = GapReference(
    title="Mamba selective-SSM mixer (Mamba-1, Jamba Mamba layers)",
    severity="HIGH",
    proposed_class="MambaMixerLayer",
    summary=(
        "in_proj maps each token to 2*d_inner (x and gate z); x goes through a depthwise causal "
        "conv1d (kernel conv_kernel) and SiLU, x_proj yields a low-rank dt (time_step_rank) plus "
        "input-dependent B and C (state_size each), dt_proj widens dt to d_inner, and a "
        "selective scan with A=-exp(A_log) and skip D updates a d_inner x state_size state "
        "before SiLU(z) gating and out_proj. Jamba adds RMSNorms on dt, B and C. No catalog "
        "class has a convolution, a recurrent scan or a constant-size per-sequence state, so "
        "neither the FLOPs nor the memory (a fixed state instead of a growing KV cache) fit "
        "AttentionLayer or MLPLayer."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.nn.functional.conv1d",
        "torch.nn.functional.silu",
        "torch.nn.functional.softplus",
        "torch.exp",
        "torch.matmul",
        "torch.nn.functional.rms_norm",
    ),
    vllm=(
        (
            "vllm/model_executor/layers/mamba/mamba_mixer.py",
            "MambaMixer",
            "Mamba-1 mixer: merged column-parallel in_proj, sharded conv1d/A/D, row-parallel "
            "x_proj and out_proj, optional dt/B/C RMSNorms for Jamba.",
        ),
        (
            "vllm/model_executor/layers/mamba/mamba_utils.py",
            "MambaStateShapeCalculator",
            "mamba1_state_shape gives the per-rank conv state d_inner/tp x (conv_kernel-1) and SSM "
            "state d_inner/tp x state_size.",
        ),
        (
            "vllm/model_executor/layers/mamba/ops/mamba_ssm.py",
            "selective_scan_fn",
            "Prefill selective scan (selective_state_update is the one-token decode step).",
        ),
        (
            "vllm/model_executor/layers/mamba/ops/causal_conv1d.py",
            "causal_conv1d_fn",
            "Causal depthwise conv over a prefill (causal_conv1d_update for decode).",
        ),
        (
            "vllm/model_executor/models/jamba.py",
            "JambaMambaDecoderLayer",
            "Jamba layer wrapping MambaMixer with the dt/B/C norms.",
        ),
        (
            "vllm/v1/kv_cache_interface.py",
            "MambaSpec",
            "Cache spec whose page is the fixed per-sequence state, not per-token KV.",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/layers/attention/mamba/mamba1.py",
            "MambaMixer1",
            "Mamba-1 mixer with HF weight names and TP-sharded A_log/D.",
        ),
        (
            "python/sglang/srt/models/falcon_mamba.py",
            "FalconMambaDecoderLayer",
            "Decoder layer used by SGLang's MambaForCausalLM (models/mamba.py).",
        ),
        (
            "python/sglang/srt/mem_cache/memory_pool.py",
            "MambaPool",
            "Per-request conv and SSM state slots.",
        ),
        (
            "python/sglang/srt/configs/mamba_utils.py",
            "BaseLinearStateParams",
            "mamba_cache_per_req sums conv and temporal state bytes over the mamba layers.",
        ),
    ),
    papers=(
        ("Mamba: Linear-Time Sequence Modeling with Selective State Spaces", _ARXIV + "2312.00752"),
        ("Jamba: A Hybrid Transformer-Mamba Language Model", _ARXIV + "2403.19887"),
    ),
    other_refs=(
        ("transformers MambaMixer (modeling_mamba.py)", _hf("models/mamba/modeling_mamba.py")),
        ("transformers JambaMambaMixer (modeling_jamba.py)", _hf("models/jamba/modeling_jamba.py")),
        (
            "state-spaces/mamba Mamba block (mamba_simple.py)",
            _gh("state-spaces/mamba", _MAMBA, "mamba_ssm/modules/mamba_simple.py"),
        ),
        (
            "state-spaces/mamba selective_scan_fn / mamba_inner_fn",
            _gh("state-spaces/mamba", _MAMBA, "mamba_ssm/ops/selective_scan_interface.py"),
        ),
    ),
    parallelism=(
        (
            "tensor",
            "in_proj (x and z halves), conv1d channels, dt_proj outputs, A_log/D rows and both "
            "states split over d_inner (d_inner/tp per rank); x_proj and out_proj row-parallel",
            "two all-reduces per layer in vLLM: T*(time_step_rank + 2*state_size) after x_proj "
            "and T*H after out_proj",
        ),
        (
            "context",
            "not split along the sequence in vLLM or SGLang: the scan carries state token to token",
            "a sequence-sharded design must hand the d_inner*state_size SSM state and the "
            "d_inner*(conv_kernel-1) conv state from shard to shard in order",
        ),
        (
            "pipeline",
            "whole layers per stage",
            "T*H activations; each sequence's state stays on the stage owning the layer",
        ),
    ),
    flops_formula=(
        "H=hidden_size, D=intermediate_size (d_inner), N=state_size, R=time_step_rank, "
        "K=conv_kernel. Matmuls: 2*H*2D (in_proj) + 2*D*(R+2N) (x_proj) + 2*R*D (dt_proj) "
        "+ 2*D*H (out_proj); depthwise conv 2*D*K. Scan (elementwise, not matmul): about "
        "7*D*N FLOPs plus D*N exponentials per token; Jamba's three RMSNorms add O(R+2N)."
    ),
    kv_cache_formula=(
        "none per token: a constant state per sequence per layer of D*N*beta_ssm (SSM) + "
        "D*(K-1)*beta_conv (conv), independent of context length; mamba-2.8b: 81,920 + 15,360 "
        "elements per layer per sequence."
    ),
    test_spec=(
        "mamba-2.8b (MambaConfig hidden_size=2560 -> D=5120, N=16, R=160, K=4, use_bias=False, "
        "use_conv_bias=True): 41,241,600 parameters per mixer.",
        "mamba-2.8b matmul FLOPs per token per layer = 82,247,680, plus 40,960 for the conv.",
        "State per sequence per layer = 5120*16 + 5120*3 = 97,280 elements and does not change "
        "between context 1k and 100k; KV bytes per token = 0.",
        "JambaConfig defaults (H=4096, D=8192, N=16, R=256): mixer has 105,308,448 parameters, "
        "of which 288 (R+2N) are the dt/B/C norms.",
        "At tp=2 each rank holds D/2 channels of weights and state, with one all-reduce of "
        "T*(R+2N) and one of T*H per layer.",
    ),
)

_GATED_DELTA_NET = GapReference(
    title="Gated DeltaNet linear attention (Qwen3-Next linear-attention layers)",
    severity="HIGH",
    proposed_class="GatedDeltaNetLayer",
    summary=(
        "in_proj_qkvz maps each token to q and k (linear_num_key_heads x linear_key_head_dim), v "
        "and an output gate z (linear_num_value_heads x linear_value_head_dim); in_proj_ba gives "
        "per-value-head beta=sigmoid(b) and decay g=-exp(A_log)*softplus(a+dt_bias). q, k, v pass "
        "a depthwise causal conv1d and SiLU, q and k are L2-normalised and repeated to the value "
        "heads, and a gated delta rule updates a d_k x d_v matrix state per value head; the read "
        "out goes through a per-head gated RMSNorm (SiLU(z)) and out_proj. It has no softmax, no "
        "growing KV cache and a fixed matrix state, none of which AttentionLayer, MLPLayer or "
        "NormLayer can express."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.nn.functional.conv1d",
        "torch.nn.functional.silu",
        "torch.nn.functional.softplus",
        "torch.sigmoid",
        "torch.exp",
        "torch.rsqrt",
        "torch.cumsum",
        "torch.matmul",
        "torch.linalg.solve_triangular",
    ),
    vllm=(
        (
            "vllm/model_executor/layers/mamba/gdn/qwen_gdn_linear_attn.py",
            "QwenGatedDeltaNetAttention",
            "Qwen3-Next GDN layer: in_proj_qkvz/in_proj_ba, sharded conv1d, A_log/dt_bias per "
            "value head, RMSNormGated and row-parallel out_proj.",
        ),
        (
            "vllm/model_executor/layers/mamba/gdn/base.py",
            "GatedDeltaNetAttention",
            "Shared base class for the GDN variants (Qwen, Kimi, OLMo hybrid).",
        ),
        (
            "vllm/third_party/flash_linear_attention/ops/chunk.py",
            "chunk_gated_delta_rule",
            "Chunked prefill kernel for the gated delta rule.",
        ),
        (
            "vllm/third_party/flash_linear_attention/ops/fused_recurrent.py",
            "fused_recurrent_gated_delta_rule",
            "Token-by-token recurrent (decode) kernel.",
        ),
        (
            "vllm/model_executor/layers/mamba/mamba_utils.py",
            "MambaStateShapeCalculator",
            "gated_delta_net_state_shape: conv state (2*key_dim+value_dim)/tp x (K-1) and "
            "recurrent state (n_v/tp, d_v, d_k).",
        ),
        (
            "vllm/model_executor/layers/layernorm.py",
            "RMSNormGated",
            "Per-head RMSNorm multiplied by SiLU of the z gate.",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/models/qwen3_next.py",
            "Qwen3GatedDeltaNet",
            "Qwen3-Next linear-attention module.",
        ),
        (
            "python/sglang/srt/layers/attention/linear/gdn_backend.py",
            "GDNAttnBackend",
            "Attention backend dispatching the GDN prefill/decode kernels.",
        ),
        (
            "python/sglang/srt/layers/radix_linear_attention.py",
            "RadixLinearAttention",
            "Layer-side entry point for linear-attention kernels and their state.",
        ),
        (
            "python/sglang/srt/configs/mamba_utils.py",
            "BaseLinearStateParams",
            "Per-request linear-attention state size (conv + temporal) used for memory planning.",
        ),
    ),
    papers=(("Gated Delta Networks: Improving Mamba2 with Delta Rule", _ARXIV + "2412.06464"),),
    other_refs=(
        (
            "transformers Qwen3NextGatedDeltaNet and torch_chunk_gated_delta_rule",
            _hf("models/qwen3_next/modeling_qwen3_next.py"),
        ),
        (
            "fla-org/flash-linear-attention GatedDeltaNet layer",
            _gh("fla-org/flash-linear-attention", _FLA, "fla/layers/gated_deltanet.py"),
        ),
        (
            "fla-org/flash-linear-attention chunk_gated_delta_rule",
            _gh("fla-org/flash-linear-attention", _FLA, "fla/ops/gated_delta_rule/chunk.py"),
        ),
        (
            "NVlabs/GatedDeltaNet reference GatedDeltaNet module",
            _gh("NVlabs/GatedDeltaNet", _GDN, "lit_gpt/gated_delta_net.py"),
        ),
    ),
    parallelism=(
        (
            "tensor",
            "in_proj_qkvz/in_proj_ba split by key/value heads (n_k/tp, n_v/tp), conv1d channels, "
            "A_log/dt_bias, the gated norm and the (n_v/tp, d_v, d_k) state; out_proj row-parallel",
            "one all-reduce of T*H after out_proj; n_k and n_v must divide by tp",
        ),
        (
            "context",
            "not split along the sequence in vLLM or SGLang: chunks are processed in order",
            "a sequence-sharded design must pass the n_v*d_k*d_v state (and conv tail) between "
            "shards",
        ),
        (
            "pipeline",
            "whole layers per stage",
            "T*H activations; per-sequence state stays on the owning stage",
        ),
    ),
    flops_formula=(
        "H=hidden_size, n_k=linear_num_key_heads, n_v=linear_num_value_heads, "
        "d_k=linear_key_head_dim, d_v=linear_value_head_dim, K=linear_conv_kernel_dim, "
        "Dk=n_k*d_k, Dv=n_v*d_v. Matmuls: 2*H*(2*Dk+2*Dv) (in_proj_qkvz) + 2*H*2*n_v "
        "(in_proj_ba) + 2*Dv*H (out_proj); conv 2*(2*Dk+Dv)*K; recurrence about 6*n_v*d_k*d_v "
        "(state read, rank-1 update, output read) plus n_v*d_k*d_v for the decay; the chunked "
        "prefill adds O(C*n_v*(d_k+d_v)) intra-chunk work for chunk size C."
    ),
    kv_cache_formula=(
        "none per token: per sequence per layer a recurrent state n_v*d_k*d_v*beta_state plus a "
        "conv state (2*Dk+Dv)*(K-1)*beta_conv, independent of context length; Qwen3-Next-80B: "
        "524,288 + 24,576 elements per GDN layer."
    ),
    test_spec=(
        "Qwen3NextConfig defaults (H=2048, n_k=16, n_v=32, d_k=d_v=128, K=4): 33,718,464 "
        "parameters per GDN layer.",
        "Matmul FLOPs per token per layer = 67,371,008 (projections) + 65,536 (conv) + about "
        "3,145,728 (recurrence).",
        "State per sequence per layer = 32*128*128 + 8192*3 = 548,864 elements, unchanged from "
        "context 1k to 256k; KV bytes per token = 0.",
        "Only layer_types == 'linear_attention' layers (36 of 48 by default) use it; the other "
        "12 are gated full attention.",
        "At tp=4 a rank holds 4 key heads, 8 value heads and a (8, 128, 128) state, with one "
        "all-reduce of T*H per layer.",
    ),
)

_GATED_ATTENTION = GapReference(
    title="Gated softmax attention (Qwen3-Next full-attention layers)",
    severity="MEDIUM",
    proposed_class="GatedAttentionLayer",
    summary=(
        "A GQA layer whose q_proj emits 2*num_attention_heads*head_dim: per head one half is the "
        "query and the other an elementwise output gate; q and k get per-head RMSNorm and RoPE, "
        "and the attention output is multiplied by sigmoid(gate) before o_proj. "
        "The attention classes size q_proj at heads*head_dim, so they miss half the query "
        "projection's weights and FLOPs and the gate's elementwise work, even though the KV "
        "cache is the same (with heads*head_dim=4096 != hidden 2048, only "
        "SlidingWindowAttentionLayer fits the ungated rest of Qwen3-Next's layer)."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.chunk",
        "torch.nn.functional.rms_norm",
        "torch.nn.functional.scaled_dot_product_attention",
        "torch.sigmoid",
        "torch.mul",
    ),
    vllm=(
        (
            "vllm/model_executor/models/qwen3_next.py",
            "Qwen3NextAttention",
            "QKVParallelLinear with (1 + attn_output_gate) query width; applies sigmoid(gate) to "
            "the attention output before o_proj.",
        ),
        (
            "vllm/model_executor/layers/fused_qk_norm_rope.py",
            "fused_qk_rmsnorm_rope_gate",
            "Fused split of query/gate, q/k RMSNorm, RoPE and gate copy.",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/models/qwen3_next.py",
            "Qwen3HybridAttentionDecoderLayer",
            "Full-attention decoder layer with attn_output_gate and a doubled query projection.",
        ),
    ),
    papers=(
        (
            "Gated Attention for Large Language Models: Non-linearity, Sparsity, and "
            "Attention-Sink-Free",
            _ARXIV + "2505.06708",
        ),
    ),
    other_refs=(
        (
            "transformers Qwen3NextAttention (modeling_qwen3_next.py)",
            _hf("models/qwen3_next/modeling_qwen3_next.py"),
        ),
        (
            "Paper code: Qwen3Attention with headwise/elementwise attn_output_gate",
            _gh("qiuzh20/gated_attention", _GATED_ATTN, "modeling_qwen3.py"),
        ),
    ),
    parallelism=(
        (
            "tensor",
            "query and gate split together by query heads (n/tp), k/v by kv heads (replicated when "
            "num_key_value_heads < tp), o_proj row-parallel",
            "one all-reduce of T*H after o_proj; the gate is head-local, so no extra collective",
        ),
        (
            "context",
            "KV split along the sequence exactly as for GQA",
            "usual KV/partial-output exchange; the gate multiplies the merged output once",
        ),
        ("pipeline", "whole layers per stage", "T*H activations between stages"),
    ),
    flops_formula=(
        "H=hidden_size, n=num_attention_heads, n_kv=num_key_value_heads, d=head_dim, "
        "S=attended tokens: 2*H*2*n*d (query+gate) + 2*2*H*n_kv*d (k, v) + 2*n*d*H (o_proj) "
        "+ 2*n*S*d + 2*n*S*d (scores, PV); the gate adds n*d sigmoid+multiply per token and "
        "2*H*n*d matmul FLOPs over plain GQA."
    ),
    kv_cache_formula=(
        "2*num_key_value_heads*head_dim*beta per token per layer, as for GQA (the gate is not "
        "cached); Qwen3-Next in bf16: 2*2*256*2 = 2048 B per token per full-attention layer."
    ),
    test_spec=(
        "Qwen3NextConfig defaults (H=2048, n=16, n_kv=2, d=256): q_proj has 16,777,216 weights, "
        "of which 8,388,608 are the gate (the harness's gate_params).",
        "Layer total 27,263,488 parameters including the 256-wide q_norm and k_norm.",
        "Projection FLOPs per token = 54,525,952, i.e. GQA's 37,748,736 plus 16,777,216 for "
        "the gate half.",
        "KV cache = 2048 B per token per layer in bf16, identical to the ungated GQA layer.",
        "At tp=4 each rank holds 4 query heads with their gates and one replicated KV head "
        "(n_kv=2 < tp).",
    ),
)

_LM_HEAD = GapReference(
    title="Output projection to the vocabulary (lm_head)",
    severity="HIGH",
    proposed_class="LMHeadLayer",
    summary=(
        "A hidden_size -> vocab_size linear applied to the final normed hidden state, either "
        "tied to the input embedding (tie_word_embeddings) or with its own weight. Its "
        "2*H*V FLOPs dominate small models and it runs only for tokens whose logits are needed. "
        "EmbeddingLayer is a gather with no FLOPs and MLPLayer has no vocab dimension, tying "
        "semantics or vocab-parallel logits gather, so the catalog has no LM head. An untied "
        "head without a bias is computed exactly at parallelism 1 by an MLPLayer stand-in "
        "(intermediate_size V/2, two projections; GatedMLPLayer with V/3 when V is odd and "
        "divisible by 3); a tied or biased head has no exact stand-in."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.distributed.all_gather",
        "torch.nn.functional.softmax",
    ),
    vllm=(
        (
            "vllm/model_executor/layers/vocab_parallel_embedding.py",
            "ParallelLMHead",
            "Vocab-parallel output weight (optional bias, tie_weights to the embedding).",
        ),
        (
            "vllm/model_executor/layers/vocab_parallel_embedding.py",
            "pad_vocab_size",
            "Pads the vocabulary to a multiple of 64 before splitting it over TP ranks.",
        ),
        (
            "vllm/model_executor/layers/logits_processor.py",
            "LogitsProcessor",
            "Computes logits and gathers or all-gathers the vocab shards (_gather_logits).",
        ),
        (
            "vllm/model_executor/models/qwen2.py",
            "Qwen2ForCausalLM",
            "lm_head only on the last PP rank; tied embeddings are also kept there.",
        ),
        (
            "vllm/v1/worker/gpu_model_runner.py",
            "GPUModelRunner",
            "Selects hidden_states[logits_indices] so only sampled positions reach lm_head.",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/layers/vocab_parallel_embedding.py",
            "ParallelLMHead",
            "Vocab-parallel output weight with tie_weights.",
        ),
        (
            "python/sglang/srt/layers/logits_processor.py",
            "LogitsProcessor",
            "Prunes to needed positions, runs lm_head and all-gathers the vocab shards.",
        ),
    ),
    papers=(
        ("Using the Output Embedding to Improve Language Models", _ARXIV + "1608.05859"),
        (
            "Megatron-LM: Training Multi-Billion Parameter Language Models Using Model Parallelism",
            _ARXIV + "1909.08053",
        ),
    ),
    other_refs=(
        (
            "transformers LlamaForCausalLM (lm_head and its tie to embed_tokens)",
            _hf("models/llama/modeling_llama.py"),
        ),
        (
            "DeepSeek-V3 reference Transformer.head (column-parallel head + all_gather)",
            _gh("deepseek-ai/DeepSeek-V3", _DEEPSEEK, "inference/model.py"),
        ),
    ),
    parallelism=(
        (
            "tensor (vocab-parallel)",
            "weight rows: V padded to a multiple of 64, then V_pad/tp rows per rank",
            "each rank produces T_logits*V_pad/tp logits; a gather to rank 0 or an all-gather "
            "moves T_logits*V_pad*beta_logits in total",
        ),
        (
            "pipeline",
            "lm_head and the final norm live on the last stage",
            "no extra traffic, but a tied embedding is materialised on both the first and last "
            "stage (V*H weights twice)",
        ),
        (
            "data / batching",
            "only positions that need logits: the last token per sequence in prefill, every token "
            "in decode, all tokens in training or prompt-logprob requests",
            "none",
        ),
    ),
    flops_formula=(
        "2*H*V per token whose logits are computed (H=hidden_size, V=vocab_size, padded V in "
        "vLLM); zero for prompt tokens that are not sampled."
    ),
    kv_cache_formula="none",
    test_spec=(
        "LlamaConfig defaults (H=4096, V=32000): 262,144,000 FLOPs per logit token and "
        "131,072,000 weights.",
        "Qwen3-Next (H=2048, V=151936): 622,329,856 FLOPs per logit token.",
        "A prefill of 8 sequences x 1024 tokens costs 8*2*H*V, not 8192*2*H*V.",
        "tie_word_embeddings=True: weight bytes counted once across embedding and lm_head, "
        "FLOPs unchanged; False: V*H counted twice.",
        "Parameters: V*H when untied, 0 when tied, plus V for an output bias (has_bias=True, "
        "e.g. phi-2: 51200*2560 + 51200 = 131,123,200); the bias adds no matmul FLOPs.",
        "At tp=8 with V=151936 each rank holds 18,992 rows and the logits gather moves "
        "T_logits*151936*beta bytes.",
        "With pipeline parallelism the lm_head FLOPs land on the last stage only.",
    ),
)

_ATTENTION_SINKS = GapReference(
    title="Learned per-head attention sinks (gpt-oss)",
    severity="LOW",
    proposed_class="AttentionSinksLayer",
    summary=(
        "Each query head has one learned logit (sinks, shape [num_attention_heads]) appended as "
        "an extra softmax column that is dropped after normalisation, so a head can put "
        "probability mass on 'nothing'. It adds n scalars per layer, no matmul and no cached "
        "tokens, but it changes the softmax and the kernels that can run it. "
        "SlidingWindowAttentionLayer only carries num_sinks for the contract and none of the "
        "attention classes counts the sink parameters; StreamingLLM reaches a similar effect by "
        "keeping the first tokens' KV, which does cost cache."
    ),
    pytorch_ops=(
        "torch.cat",
        "torch.nn.functional.softmax",
        "torch.matmul",
    ),
    vllm=(
        (
            "vllm/model_executor/models/gpt_oss.py",
            "OAIAttention",
            "gpt-oss attention; holds num_attention_heads/tp sinks and passes them to the backend.",
        ),
        (
            "vllm/model_executor/model_loader/weight_utils.py",
            "make_attention_sink",
            "Creates the -inf-initialised sink parameter with a TP-sharding loader.",
        ),
        (
            "vllm/v1/attention/backends/flash_attn.py",
            "FlashAttentionImpl",
            "FlashAttention backend accepting sinks (only when the kernel supports them).",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/models/gpt_oss.py",
            "GptOssAttention",
            "gpt-oss attention with a per-head sinks parameter (fp32 for trtllm_mha).",
        ),
        (
            "python/sglang/srt/layers/attention/flashattention_backend.py",
            "FlashAttentionBackend",
            "Forwards sinks to the FlashAttention kernels.",
        ),
    ),
    papers=(
        ("gpt-oss-120b & gpt-oss-20b Model Card", _ARXIV + "2508.10925"),
        ("Efficient Streaming Language Models with Attention Sinks", _ARXIV + "2309.17453"),
    ),
    other_refs=(
        (
            "transformers GptOssAttention and eager_attention_forward (sink column)",
            _hf("models/gpt_oss/modeling_gpt_oss.py"),
        ),
        (
            "openai/gpt-oss reference AttentionBlock and sdpa with sinks",
            _gh("openai/gpt-oss", _GPT_OSS, "gpt_oss/torch/model.py"),
        ),
    ),
    parallelism=(
        ("tensor", "sinks split with the query heads (n/tp per rank)", "none"),
        (
            "context",
            "KV split along the sequence",
            "the sink's exp(s_h) must enter the merged softmax denominator exactly once when "
            "partial results are combined with their log-sum-exp",
        ),
        ("pipeline", "whole layers per stage", "none beyond T*H activations"),
    ),
    flops_formula=(
        "0 extra matmul FLOPs; about 2*n elementwise FLOPs per query token (one extra exp and "
        "add per head) on top of the host attention layer."
    ),
    kv_cache_formula="none (parameters, not cached tokens; the host attention's KV is unchanged)",
    test_spec=(
        "GptOssConfig defaults (gpt-oss-120b: 36 layers, 64 query heads): 64 sink parameters "
        "per layer, 2,304 in total.",
        "Adding sinks changes neither matmul FLOPs nor KV bytes of the host attention layer.",
        "Sinks sit on both sliding_attention (window 128) and full_attention layers; both "
        "layer types must report them.",
        "At tp=4 each rank holds 16 sinks and no collective is added.",
        "A sink of -inf reproduces plain softmax attention exactly (vLLM's initial value).",
    ),
)

_ATTENTION_BIAS = GapReference(
    title="Biases on attention projections (Qwen2.5 q/k/v; GPT-2, Pythia, gpt-oss q/k/v/o)",
    severity="LOW",
    proposed_class="AttentionBiasLayer",
    summary=(
        "Additive biases on the query, key and value projections (Qwen2/2.5: q/k/v only) or on "
        "all four including the output (GPT-2's fused c_attn/c_proj, GPT-NeoX/Pythia's fused "
        "query_key_value/dense, gpt-oss). They add (n+2*n_kv)*d [+H] parameters and "
        "elementwise adds but no matmuls. AttentionLayer and GroupedQueryAttentionLayer are "
        "bias-free and SlidingWindowAttentionLayer's has_bias adds all four (d_q + 2*d_kv + H), "
        "so the all-four case fits it but q/k/v-only biases (no o bias) cannot be counted by "
        "any catalog class."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.addmm",
    ),
    vllm=(
        (
            "vllm/model_executor/models/qwen2.py",
            "Qwen2Attention",
            "QKVParallelLinear with bias=True and o_proj without bias.",
        ),
        (
            "vllm/model_executor/models/gpt2.py",
            "GPT2Attention",
            "Fused c_attn and c_proj, both with bias.",
        ),
        (
            "vllm/model_executor/layers/linear.py",
            "RowParallelLinear",
            "Adds the output bias on TP rank 0 only, so it counts once after the all-reduce.",
        ),
        (
            "vllm/model_executor/layers/linear.py",
            "QKVParallelLinear",
            "Shards q/k/v weights and biases together by heads.",
        ),
    ),
    sglang=(
        ("python/sglang/srt/models/qwen2.py", "Qwen2Attention", "q/k/v biased, o_proj unbiased."),
        ("python/sglang/srt/models/gpt2.py", "GPT2Attention", "Fused biased c_attn and c_proj."),
        (
            "python/sglang/srt/layers/linear.py",
            "RowParallelLinear",
            "Same rank-0-only bias add as vLLM.",
        ),
    ),
    papers=(
        ("Qwen2 Technical Report", _ARXIV + "2407.10671"),
        (
            "Pythia: A Suite for Analyzing Large Language Models Across Training and Scaling",
            _ARXIV + "2304.01373",
        ),
    ),
    other_refs=(
        (
            "transformers Qwen2Attention (q/k/v bias=True, o_proj bias=False)",
            _hf("models/qwen2/modeling_qwen2.py"),
        ),
        (
            "transformers GPT2Attention (Conv1D c_attn/c_proj with bias)",
            _hf("models/gpt2/modeling_gpt2.py"),
        ),
        ("transformers Conv1D (addmm of bias + x @ W) used by GPT-2", _hf("pytorch_utils.py")),
        (
            "transformers GPTNeoXAttention (biased fused query_key_value and dense)",
            _hf("models/gpt_neox/modeling_gpt_neox.py"),
        ),
    ),
    parallelism=(
        (
            "tensor",
            "q/k/v biases split with their heads (column-parallel); o bias replicated",
            "none extra; the o bias is added once (rank 0) after the all-reduce",
        ),
        ("pipeline", "with the owning layer", "none"),
    ),
    flops_formula=(
        "0 matmul FLOPs; (n*d + 2*n_kv*d) adds per token for q/k/v biases, + H for an o_proj "
        "bias (n=num_attention_heads, n_kv=num_key_value_heads, d=head_dim, H=hidden_size)."
    ),
    kv_cache_formula="none (k/v biases are folded into the cached k and v)",
    test_spec=(
        "Qwen2.5-7B shape (H=3584, n=28, n_kv=4, d=128): 4,608 bias parameters per layer "
        "(3584 + 512 + 512, no o bias), 129,024 over 28 layers.",
        "All-four cases must give the same totals as SlidingWindowAttentionLayer(has_bias=True): "
        "GPT-2 124M 3,072 per layer (c_attn 2304 + c_proj 768), Pythia-160m shape (GPT-NeoX "
        "H=768) 3,072, gpt-oss-120b 8,000 (q 4096, k 512, v 512, o 2880).",
        "Bias entries add zero matmul FLOPs and zero KV bytes.",
        "At tp=4 the q/k/v bias is split 4 ways while the o bias is counted once, not 4 times.",
    ),
)

_MLP_BIAS = GapReference(
    title="Biases on dense MLP projections (GPT-2, Pythia, StarCoder2)",
    severity="LOW",
    proposed_class="MLPBiasLayer",
    summary=(
        "Additive biases on the up (fc) and down (proj) projections of a dense MLP: "
        "intermediate_size + hidden_size parameters per layer (GPT-2 c_fc/c_proj, GPT-NeoX "
        "dense_h_to_4h/dense_4h_to_h, StarCoder2 with use_bias). MLPLayer and GatedMLPLayer "
        "count weight matrices only, so these parameters and their elementwise adds are missed."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.addmm",
    ),
    vllm=(
        (
            "vllm/model_executor/models/gpt2.py",
            "GPT2MLP",
            "Column-parallel c_fc and row-parallel c_proj, both with bias.",
        ),
        (
            "vllm/model_executor/layers/linear.py",
            "ColumnParallelLinear",
            "Splits the up-projection bias with its output columns.",
        ),
        (
            "vllm/model_executor/layers/linear.py",
            "RowParallelLinear",
            "Adds the down-projection bias on rank 0 only.",
        ),
        (
            "vllm/model_executor/models/registry.py",
            "_TRANSFORMERS_SUPPORTED_MODELS",
            "GPT-NeoX and StarCoder2 run through the transformers backend in this release.",
        ),
    ),
    sglang=(
        ("python/sglang/srt/models/gpt2.py", "GPT2MLP", "Biased c_fc and c_proj."),
        (
            "python/sglang/srt/models/starcoder2.py",
            "Starcoder2MLP",
            "c_fc/c_proj with bias=config.use_bias.",
        ),
    ),
    papers=(
        (
            "Pythia: A Suite for Analyzing Large Language Models Across Training and Scaling",
            _ARXIV + "2304.01373",
        ),
        (
            "Megatron-LM: Training Multi-Billion Parameter Language Models Using Model Parallelism",
            _ARXIV + "1909.08053",
        ),
    ),
    other_refs=(
        ("transformers GPT2MLP", _hf("models/gpt2/modeling_gpt2.py")),
        ("transformers GPTNeoXMLP", _hf("models/gpt_neox/modeling_gpt_neox.py")),
        ("transformers Starcoder2MLP (use_bias)", _hf("models/starcoder2/modeling_starcoder2.py")),
    ),
    parallelism=(
        (
            "tensor",
            "up bias split intermediate_size/tp; down bias replicated",
            "none extra; the down bias is added once after the all-reduce",
        ),
        ("pipeline", "with the owning layer", "none"),
    ),
    flops_formula=(
        "0 matmul FLOPs; intermediate_size + hidden_size adds per token (2*intermediate_size "
        "+ hidden_size for a gated MLP with biased gate and up)."
    ),
    kv_cache_formula="none",
    test_spec=(
        "GPT-2 124M: 3,840 MLP bias parameters per layer (3072 + 768).",
        "Pythia-160m shape (GPTNeoXConfig H=768, I=3072): 3,840 per layer.",
        "Starcoder2Config defaults (H=3072, I=12288, use_bias=True): 15,360 per layer.",
        "Zero matmul FLOPs and zero KV bytes are attributed to the bias entry.",
        "At tp=2 the up bias is split in two and the down bias counted once.",
    ),
)

_QK_NORM = GapReference(
    title="Per-head RMSNorm on queries and keys (Qwen3, Gemma-3, Qwen3-Next)",
    severity="LOW",
    proposed_class="QKNormLayer",
    summary=(
        "After the q/k projections and before RoPE, each head's query and key vector is "
        "RMS-normalised over head_dim with one weight vector of size head_dim shared by all "
        "heads (q_norm, k_norm). It adds 2*head_dim parameters per layer and elementwise work "
        "per head. NormLayer models one norm over hidden_size per token, so it can represent the "
        "full-width variant (OLMo2 normalises the whole projected q and k) but not this per-head "
        "one, whose size and cost scale with head count, not hidden size."
    ),
    pytorch_ops=(
        "torch.nn.functional.rms_norm",
        "torch.rsqrt",
        "torch.mul",
    ),
    vllm=(
        (
            "vllm/model_executor/models/qwen3.py",
            "Qwen3Attention",
            "q_norm/k_norm RMSNorm(head_dim) applied per head after the QKV projection.",
        ),
        (
            "vllm/model_executor/models/gemma3.py",
            "Gemma3Attention",
            "GemmaRMSNorm(head_dim) on q and k.",
        ),
        (
            "vllm/model_executor/models/olmoe.py",
            "OlmoeAttention",
            "Full-width variant: all-gathers q and k across TP before the norm, then re-splits.",
        ),
    ),
    sglang=(
        ("python/sglang/srt/models/qwen3.py", "Qwen3Attention", "Per-head q_norm and k_norm."),
        (
            "python/sglang/srt/models/gemma3_causal.py",
            "Gemma3Attention",
            "Per-head q_norm and k_norm.",
        ),
    ),
    papers=(
        ("Scaling Vision Transformers to 22 Billion Parameters", _ARXIV + "2302.05442"),
        ("Query-Key Normalization for Transformers", _ARXIV + "2010.04245"),
        ("2 OLMo 2 Furious", _ARXIV + "2501.00656"),
        ("Qwen3 Technical Report", _ARXIV + "2505.09388"),
        ("Gemma 3 Technical Report", _ARXIV + "2503.19786"),
    ),
    other_refs=(
        (
            "transformers Qwen3Attention (q_norm/k_norm over head_dim)",
            _hf("models/qwen3/modeling_qwen3.py"),
        ),
        ("transformers Gemma3Attention", _hf("models/gemma3/modeling_gemma3.py")),
        (
            "transformers Olmo2Attention (full-width q_norm/k_norm, maps to NormLayer)",
            _hf("models/olmo2/modeling_olmo2.py"),
        ),
    ),
    parallelism=(
        ("tensor (per-head)", "weights replicated; each rank normalises its own heads", "none"),
        (
            "tensor (full-width variant)",
            "norm spans all heads, so a head-split rank lacks the full vector",
            "vLLM all-gathers q and k (T*(n+n_kv)*d*beta) before the norm",
        ),
        ("pipeline", "with the owning layer", "none"),
    ),
    flops_formula=(
        "0 matmul FLOPs; about 4*(n+n_kv)*d elementwise FLOPs per token (square, mean, rsqrt "
        "scale, weight) for n=num_attention_heads, n_kv=num_key_value_heads, d=head_dim."
    ),
    kv_cache_formula="none (keys are cached after the norm; KV size is unchanged)",
    test_spec=(
        "Qwen3Config defaults (head_dim=128): 256 q/k-norm parameters per layer regardless of "
        "the number of heads.",
        "Gemma3TextConfig defaults (head_dim=256): 512 per layer; Gemma and Qwen3-Next scale by "
        "(1 + weight), which changes values but not counts.",
        "A model whose q_norm width equals num_heads*head_dim (OLMo2) maps to NormLayer, not "
        "to this gap.",
        "Zero matmul FLOPs and zero KV bytes; per-head norms need no collective at any tp.",
    ),
)

_SHARED_EXPERT_GATE = GapReference(
    title="Sigmoid gate on the shared expert (Qwen2-MoE, Qwen3-Next)",
    severity="LOW",
    proposed_class="SharedExpertGateLayer",
    summary=(
        "A [1, hidden_size] linear (shared_expert_gate) turns each token into one logit whose "
        "sigmoid scales the shared expert's output before it is added to the routed experts' "
        "output. MoELayer models the router ([num_experts, H]) and shared experts as plain "
        "always-on experts, so this extra GEMV and scaling has no place in it."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.sigmoid",
        "torch.mul",
    ),
    vllm=(
        (
            "vllm/model_executor/models/qwen3_next.py",
            "Qwen3NextSparseMoeBlock",
            "Builds shared_expert_gate as a ReplicatedLinear(H, 1) next to the router.",
        ),
        (
            "vllm/model_executor/models/qwen2_moe.py",
            "Qwen2MoeMLP",
            "Shared expert MLP that multiplies its output by sigmoid(expert_gate(x)).",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/models/qwen2_moe.py",
            "Qwen2MoeSparseMoeBlock",
            "Shared expert with shared_expert_gate (fused GEMV+sigmoid+scale on some backends); "
            "reused by SGLang's Qwen3-Next.",
        ),
    ),
    papers=(
        (
            "DeepSeekMoE: Towards Ultimate Expert Specialization in Mixture-of-Experts Language "
            "Models",
            _ARXIV + "2401.06066",
        ),
        ("Qwen2 Technical Report", _ARXIV + "2407.10671"),
    ),
    other_refs=(
        (
            "transformers Qwen3NextSparseMoeBlock (sigmoid(shared_expert_gate(x)) * shared)",
            _hf("models/qwen3_next/modeling_qwen3_next.py"),
        ),
    ),
    parallelism=(
        (
            "tensor",
            "gate weight replicated (ReplicatedLinear), needs the full hidden vector per token",
            "none of its own",
        ),
        (
            "expert",
            "not routed: every EP rank runs the shared expert and its gate for its own tokens",
            "none beyond the MoE dispatch/combine",
        ),
        ("pipeline", "with the owning MoE layer", "none"),
    ),
    flops_formula="2*H per token (GEMV to one logit) plus H multiplies for the scaling.",
    kv_cache_formula="none",
    test_spec=(
        "Qwen3NextConfig defaults (H=2048): 2,048 parameters per MoE layer, 98,304 over 48 layers.",
        "FLOPs per token per layer = 4,096 matmul + 2,048 elementwise.",
        "Weights are not divided by tp (replicated) and not by ep.",
        "The router gate [512, 2048] stays in MoELayer; only the [1, 2048] shared gate is this "
        "gap.",
    ),
)

# --------------------------------------------------------------------------- coverage-sweep kinds
# Gap kinds first met by the coverage sweep (harness/coverage.py) over transformers' registered
# architectures rather than by a model case. vLLM and SGLang paths were read in the same releases
# as above; HuggingFace links point at the v5.24.0 tag, whose installed source was read. Parameter
# counts come from the named config classes' defaults on the meta device.
_HF_RELEASE = "v5.24.0"


def _hf_release(file: str) -> str:
    return _gh("huggingface/transformers", _HF_RELEASE, f"src/transformers/{file}")


_CROSS_ATTENTION = GapReference(
    title="Cross-attention to encoder states (BART family, Whisper, Mllama, BERT-style decoders)",
    severity="MEDIUM",
    proposed_class="CrossAttentionLayer",
    summary=(
        "Decoder queries attend over keys and values projected from another sequence: an "
        "encoder's output (BART, Whisper, TrOCR) or image features (Mllama, BLIP). The weights "
        "look like multi-head attention (q, k, v, o, often with biases; k and v may read a "
        "different width, kv_input_size), but the keys and values are computed once per request "
        "over the S_enc encoder positions and cached at that fixed length. The catalog's attention "
        "classes model self-attention, whose K/V projections run for every token and whose cache "
        "grows with the decoded context, so both FLOPs and KV bytes would be wrong."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.nn.functional.scaled_dot_product_attention",
    ),
    vllm=(
        (
            "vllm/model_executor/layers/attention/cross_attention.py",
            "CrossAttention",
            "Attention layer for decoder queries over encoder keys/values held in the KV cache.",
        ),
        (
            "vllm/model_executor/models/whisper.py",
            "WhisperCrossAttention",
            "Whisper's decoder cross-attention: q from the decoder, merged k/v projection over "
            "the encoder output.",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/models/mllama.py",
            "MllamaTextCrossAttention",
            "Llama 3.2 Vision text-to-image cross-attention (with q/k norms).",
        ),
        (
            "python/sglang/srt/models/whisper.py",
            "WhisperAttention",
            "One class for Whisper's self- and cross-attention (is_cross_attention).",
        ),
    ),
    papers=(
        ("Attention Is All You Need", _ARXIV + "1706.03762"),
        (
            "BART: Denoising Sequence-to-Sequence Pre-training for Natural Language Generation, "
            "Translation, and Comprehension",
            _ARXIV + "1910.13461",
        ),
        ("Robust Speech Recognition via Large-Scale Weak Supervision", _ARXIV + "2212.04356"),
    ),
    other_refs=(
        ("transformers BartAttention (encoder_attn)", _hf_release("models/bart/modeling_bart.py")),
        ("transformers WhisperAttention", _hf_release("models/whisper/modeling_whisper.py")),
        ("transformers MllamaTextCrossAttention", _hf_release("models/mllama/modeling_mllama.py")),
    ),
    parallelism=(
        (
            "tensor",
            "heads split across ranks as in self-attention; the encoder K/V cache splits by head",
            "all-reduce after the o projection",
        ),
        (
            "pipeline",
            "with the owning decoder layer",
            "every stage needs the encoder output (sent once per request)",
        ),
    ),
    flops_formula=(
        "Per decoded token: 2*H*(n*d) for q + 2*(n*d)*H for o + 4*S_enc*n*d for scores and the "
        "weighted sum; once per request 2*2*S_enc*kv_input_size*(n_kv*d) for k and v."
    ),
    kv_cache_formula=(
        "2*S_enc*n_kv*d*beta per layer per request, fixed: it does not grow with decoded tokens."
    ),
    test_spec=(
        "BartConfig defaults (d_model=1024, 16 heads): 4,198,400 cross-attention parameters per "
        "decoder layer (four 1024x1024 projections and their biases).",
        "WhisperConfig defaults (d_model=384, 6 heads): 590,976 per decoder layer (k_proj has no "
        "bias).",
        "MllamaConfig text defaults: 41,943,296 per cross-attention layer, 8 such layers.",
        "The cache of a cross-attention layer has S_enc positions whatever the decoded length.",
    ),
)

_LM_HEAD_TRANSFORM = GapReference(
    title="Dense transform before the vocabulary projection (BERT, RoBERTa, ELECTRA heads)",
    severity="LOW",
    proposed_class="LMHeadTransformLayer",
    summary=(
        "BERT-style language-model heads pass the final hidden state through a dense layer (with "
        "bias), an activation and a LayerNorm before the often tied vocabulary projection. The "
        "LayerNorm maps to NormLayer and the projection to the lm_head entry; the dense layer "
        "has no catalog class: it is neither an MLP (one projection) nor part of the head."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.nn.functional.gelu",
        "torch.nn.functional.layer_norm",
    ),
    vllm=(
        (
            "vllm/model_executor/models/bert.py",
            "BertMLMHead",
            "dense + GELU + LayerNorm transform, then the decoder projection.",
        ),
    ),
    sglang=(),
    papers=(
        (
            "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
            _ARXIV + "1810.04805",
        ),
        ("RoBERTa: A Robustly Optimized BERT Pretraining Approach", _ARXIV + "1907.11692"),
    ),
    other_refs=(
        ("transformers BertPredictionHeadTransform", _hf_release("models/bert/modeling_bert.py")),
        ("transformers RobertaLMHead", _hf_release("models/roberta/modeling_roberta.py")),
    ),
    parallelism=(
        ("tensor", "column-split weight like any linear, or replicated (it is small)", "none"),
        ("pipeline", "on the last stage with the head", "none"),
    ),
    flops_formula="2*in_features*out_features per token, plus out_features bias adds.",
    kv_cache_formula="none",
    test_spec=(
        "BertConfig defaults (H=768): 590,592 parameters (768x768 weight and 768 bias).",
        "ElectraConfig defaults: the generator's transform maps 256 to 128: 32,896 parameters.",
        "RobertaConfig defaults: lm_head.dense 590,592; lm_head.layer_norm is a NormLayer entry.",
    ),
)

_LINEAR_ATTENTION = GapReference(
    title="Linear attention in hybrid models (Kimi Delta Attention, lightning attention)",
    severity="HIGH",
    proposed_class="LinearAttentionLayer",
    summary=(
        "Attention-named blocks in the layers a config declares `linear_attention`: a recurrent "
        "state of fixed size replaces the softmax KV cache. Kimi Delta Attention (Kimi Linear, "
        "Ling hybrid) has q/k/v projections, a short causal convolution over them, a low-rank "
        "channel-wise decay gate (A_log, dt_bias), a per-head beta for the delta rule (b_proj), "
        "a low-rank output gate, a gated RMSNorm and o_proj. MiniMax's lightning attention has a "
        "fused qkv, a fixed per-head decay, an output gate and a norm. The specs delta_rule, "
        "decay_gate, output_gate and conv_kernel tell the variants apart. The catalog's attention "
        "classes assume softmax attention whose cache grows with the context."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.nn.functional.conv1d",
        "torch.einsum",
        "torch.sigmoid",
    ),
    vllm=(
        (
            "vllm/model_executor/layers/mamba/linear/minimax_linear_attn.py",
            "MiniMaxText01LinearAttention",
            "Lightning-attention layer of MiniMax-Text-01 with a per-layer recurrent state.",
        ),
        (
            "vllm/model_executor/layers/lightning_attn.py",
            "lightning_attention",
            "Blocked prefill kernel of lightning attention (decay within and across blocks).",
        ),
        (
            "vllm/model_executor/layers/mamba/gdn/kimi_gdn_linear_attn.py",
            "KimiGatedDeltaNetAttention",
            "Kimi's gated delta-rule linear attention on the gated-delta-net kernels.",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/models/kimi_linear.py",
            "KimiDeltaAttention",
            "KDA layer of Kimi Linear: conv, decay gate, beta, output gate.",
        ),
        (
            "python/sglang/srt/models/bailing_moe_v3.py",
            "BailingKDA",
            "Ling's hybrid layers reuse KDA.",
        ),
        (
            "python/sglang/srt/layers/attention/linear/lightning_backend.py",
            "LightningAttentionBackend",
            "State-carrying backend for lightning attention.",
        ),
    ),
    papers=(
        ("Kimi Linear: An Expressive, Efficient Attention Architecture", _ARXIV + "2510.26692"),
        ("MiniMax-01: Scaling Foundation Models with Lightning Attention", _ARXIV + "2501.08313"),
        (
            "Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention",
            _ARXIV + "2006.16236",
        ),
        ("Gated Delta Networks: Improving Mamba2 with Delta Rule", _ARXIV + "2412.06464"),
    ),
    other_refs=(
        (
            "transformers KimiLinearDeltaAttention",
            _hf_release("models/kimi_linear/modeling_kimi_linear.py"),
        ),
        (
            "transformers MiniMaxLightningAttention",
            _hf_release("models/minimax/modeling_minimax.py"),
        ),
        (
            "transformers BailingHybridDeltaAttention",
            _hf_release("models/bailing_hybrid/modeling_bailing_hybrid.py"),
        ),
    ),
    parallelism=(
        ("tensor", "heads (and their recurrent states) split across ranks", "all-reduce after o"),
        (
            "context",
            "a sequence chunk per rank; states are passed along the chunks",
            "one state (n*d_k*d_v) per rank boundary",
        ),
        ("pipeline", "with the owning layer", "none"),
    ),
    flops_formula=(
        "Projections 2*H*(width of each projection) per token; the state update and read cost "
        "about 4*n*d_k*d_v per token (the delta rule adds 2*n*d_k*d_v), independent of context."
    ),
    kv_cache_formula=(
        "Constant per sequence: n*d_k*d_v recurrent state (often fp32) plus (conv_kernel - 1) x "
        "the convolved channels when there is a short convolution."
    ),
    test_spec=(
        "KimiLinearConfig defaults: 39,514,272 parameters per KDA layer, 21 KDA layers.",
        "BailingHybridConfig defaults: 63,049,888 per linear-attention layer, 35 layers.",
        "MiniMaxConfig defaults: 83,890,176 per lightning-attention layer, 16 layers.",
        "The state bytes are the same at 4k and 128k tokens of context.",
    ),
)

_HYPER_CONNECTIONS = GapReference(
    title="Manifold-constrained hyper-connections (DeepSeek-V4, Hunyuan V4)",
    severity="MEDIUM",
    proposed_class="HyperConnectionsLayer",
    summary=(
        "The residual stream is widened to n copies (hc_mult). Around every attention and FFN "
        "sublayer a small module (attn_hc, ffn_hc: fn [(2+n)*n, n*H], base, scale) computes from "
        "the flattened streams the weights that mix them into the sublayer input, spread the "
        "output back, and a doubly stochastic (Sinkhorn) stream-mixing matrix; hc_head collapses "
        "the streams before the final norm. Its parameters are few, but activations are n times "
        "wider and every sublayer gains this work; no catalog class models a residual path."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.sigmoid",
        "torch.einsum",
    ),
    vllm=(
        (
            "vllm/model_executor/layers/mhc.py",
            "MHCPreOp",
            "Mix logits from the RMS-normalised streams; the sublayer input as their weighted sum.",
        ),
        (
            "vllm/model_executor/layers/mhc.py",
            "MHCPostOp",
            "Spreads the sublayer output back over the streams with the residual mix.",
        ),
        (
            "vllm/model_executor/layers/mhc.py",
            "HCHeadOp",
            "Collapses the hc_mult streams to one before the head (DeepSeek V4).",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/layers/hyperconnection.py",
            "HyperConnectionBase",
            "Base module of SGLang's hyper-connection variants.",
        ),
        (
            "python/sglang/srt/models/hunyuan_v4.py",
            "HYV4HCHeadLayer",
            "Hunyuan V4's stream-collapsing head.",
        ),
    ),
    papers=(
        ("Hyper-Connections", _ARXIV + "2409.19606"),
        ("mHC: Manifold-Constrained Hyper-Connections", _ARXIV + "2512.24880"),
    ),
    other_refs=(
        (
            "transformers DeepseekV4HyperConnection and DeepseekV4HyperHead",
            _hf_release("models/deepseek_v4/modeling_deepseek_v4.py"),
        ),
    ),
    parallelism=(
        (
            "tensor",
            "weights replicated (tiny); each rank mixes the full streams",
            "none of its own",
        ),
        ("pipeline", "the n-stream state crosses stage boundaries", "n x the usual activations"),
    ),
    flops_formula=(
        "Per token and sublayer: 2*(n*H)*((2+n)*n) for fn, a few Sinkhorn iterations on an n x n "
        "matrix, and about 2*n*H*(n+2) for mixing; activations are n*H wide."
    ),
    kv_cache_formula="none (the KV cache is unchanged; activation memory is n times larger)",
    test_spec=(
        "DeepseekV4Config defaults (H=4096, hc_mult=4): 393,243 parameters per attn_hc and per "
        "ffn_hc (fn [24, 16384], base 24, scale 3), in each of 43 layers.",
        "hc_head: 65,541 parameters (fn [4, 16384], base 4, scale 1).",
        "Weights are replicated at every tp degree.",
    ),
)

_PER_LAYER_EMBEDDING = GapReference(
    title="Per-layer input embeddings (Gemma 3n, Gemma 4)",
    severity="MEDIUM",
    proposed_class="PerLayerEmbeddingLayer",
    summary=(
        "Each decoder layer receives a small extra input per token: a second table "
        "embed_tokens_per_layer [V_pl, L*D_pl] plus a projection of the main embedding "
        "(per_layer_model_projection [L*D_pl, H], with a norm) give L vectors of D_pl; in each "
        "layer per_layer_input_gate [D_pl, H] and per_layer_projection [H, D_pl] mix it into the "
        "residual. The table is large (2.0B parameters in the Gemma 4 default) but a token reads "
        "only L*D_pl values, so it can stay off the accelerator. EmbeddingLayer models one table "
        "of hidden width feeding the first layer."
    ),
    pytorch_ops=(
        "torch.nn.functional.embedding",
        "torch.nn.functional.linear",
        "torch.mul",
    ),
    vllm=(
        (
            "vllm/model_executor/models/gemma4.py",
            "Gemma4SelfDecoderLayers",
            "Holds embed_tokens_per_layer and per_layer_model_projection and builds the inputs.",
        ),
        (
            "vllm/model_executor/models/gemma3n.py",
            "Gemma3nDecoderLayer",
            "Replicated per_layer_input_gate and per_layer_projection in each layer.",
        ),
    ),
    sglang=(
        (
            "python/sglang/srt/models/gemma3n_causal.py",
            "Gemma3nTextModel",
            "embed_tokens_per_layer and per_layer_model_projection.",
        ),
        (
            "python/sglang/srt/models/gemma3n_causal.py",
            "Gemma3nDecoderLayer",
            "per_layer_input_gate in each layer.",
        ),
    ),
    papers=(),
    other_refs=(
        (
            "transformers Gemma4TextModel and Gemma4TextDecoderLayer",
            _hf_release("models/gemma4/modeling_gemma4.py"),
        ),
    ),
    parallelism=(
        (
            "tensor",
            "table split by columns or kept on the host; per-layer gates replicated",
            "gather of the L*D_pl values per token",
        ),
        ("pipeline", "each stage needs its layers' slices of the per-layer inputs", "L*D_pl"),
    ),
    flops_formula=(
        "0 for the lookup; 2*H*L*D_pl for per_layer_model_projection and 4*H*D_pl per layer for "
        "the gate and the projection, per token."
    ),
    kv_cache_formula="none",
    test_spec=(
        "Gemma4TextConfig defaults (H=2304, D_pl=256, 30 layers, V_pl=262,144): "
        "embed_tokens_per_layer 2,013,265,920 parameters; per_layer_model_projection 17,694,720.",
        "per_layer_input_gate and per_layer_projection: 589,824 parameters each per layer.",
        "Bytes read from the table per token: L*D_pl*beta, not V_pl*L*D_pl*beta.",
    ),
)

_SHORT_CONVOLUTION = GapReference(
    title="Gated short convolution layers (LFM2, LFM3)",
    severity="MEDIUM",
    proposed_class="ShortConvolutionLayer",
    summary=(
        "Convolution layers in place of attention: in_proj [3H, H] gives B, C and x; B*x goes "
        "through a depthwise causal Conv1d of a few taps, the result is multiplied by C and "
        "projected by out_proj [H, H]. The state is the last kernel-1 inputs per channel. No "
        "catalog class models a convolution mixer."
    ),
    pytorch_ops=(
        "torch.nn.functional.linear",
        "torch.nn.functional.conv1d",
        "torch.mul",
    ),
    vllm=(
        (
            "vllm/model_executor/layers/mamba/short_conv.py",
            "ShortConv",
            "Short-convolution mixer with a conv state cache.",
        ),
        (
            "vllm/model_executor/models/lfm2.py",
            "Lfm2ShortConvDecoderLayer",
            "LFM2 decoder layer built around ShortConv.",
        ),
    ),
    sglang=(
        ("python/sglang/srt/models/lfm2.py", "Lfm2ShortConv", "LFM2's short-convolution block."),
        (
            "python/sglang/srt/layers/attention/linear/short_conv_backend.py",
            "ShortConvAttnBackend",
            "Keeps the convolution state between decode steps.",
        ),
    ),
    papers=(
        ("Hyena Hierarchy: Towards Larger Convolutional Language Models", _ARXIV + "2302.10866"),
    ),
    other_refs=(
        ("transformers Lfm2ShortConv", _hf_release("models/lfm2/modeling_lfm2.py")),
        ("transformers Lfm3ShortConv", _hf_release("models/lfm3/modeling_lfm3.py")),
    ),
    parallelism=(
        (
            "tensor",
            "channels split across ranks (depthwise conv needs no exchange)",
            "all-reduce after out_proj",
        ),
        ("pipeline", "with the owning layer", "none"),
    ),
    flops_formula="2*H*3H + 2*H*H + 2*conv_kernel*H + 2*H per token.",
    kv_cache_formula="(conv_kernel - 1)*H*beta per layer and sequence, constant.",
    test_spec=(
        "Lfm3Config defaults (H=2048, kernel 7): 16,791,552 parameters per conv layer "
        "(6144x2048 in_proj, 2048x2048 out_proj, 2048x7 conv), 13 conv layers.",
        "State bytes do not depend on the context length.",
    ),
)

_EMBEDDING_PROJECTION = GapReference(
    title="Projection from a narrow embedding to the hidden size (ELECTRA, RemBERT)",
    severity="LOW",
    proposed_class="EmbeddingProjectionLayer",
    summary=(
        "Factorised embeddings: the token table has width E smaller than H and a linear E -> H "
        "(with bias) runs before the first layer. EmbeddingLayer assumes the table is H wide, and "
        "the projection is not an MLP."
    ),
    pytorch_ops=("torch.nn.functional.linear",),
    vllm=(),
    sglang=(),
    papers=(
        (
            "ALBERT: A Lite BERT for Self-supervised Learning of Language Representations",
            _ARXIV + "1909.11942",
        ),
        (
            "ELECTRA: Pre-training Text Encoders as Discriminators Rather Than Generators",
            _ARXIV + "2003.10555",
        ),
    ),
    other_refs=(
        (
            "transformers ElectraModel (embeddings_project)",
            _hf_release("models/electra/modeling_electra.py"),
        ),
        (
            "transformers RemBertEncoder (embedding_hidden_mapping_in)",
            _hf_release("models/rembert/modeling_rembert.py"),
        ),
    ),
    parallelism=(
        ("tensor", "column-split like any linear, or replicated", "none"),
        ("pipeline", "on the first stage with the embedding", "none"),
    ),
    flops_formula="2*E*H per token plus H bias adds.",
    kv_cache_formula="none",
    test_spec=(
        "ElectraConfig defaults (E=128, H=256): 33,024 parameters (128x256 weight and 256 bias).",
    ),
)

_DIFFERENTIAL_ATTENTION = GapReference(
    title="Differential attention (DiffLlama)",
    severity="MEDIUM",
    proposed_class="DifferentialAttentionLayer",
    summary=(
        "Queries and keys are split into two groups and the attention map is the difference of "
        "two softmax maps, the second scaled by lambda = exp(lambda_q1 . lambda_k1) - "
        "exp(lambda_q2 . lambda_k2) + lambda_init, followed by a per-head norm. The projections "
        "have the shapes of ordinary attention and map to the catalog class; the four learned "
        "lambda vectors (head_dim each) are this entry, and the second score map doubles the "
        "score FLOPs the catalog class would count."
    ),
    pytorch_ops=(
        "torch.nn.functional.scaled_dot_product_attention",
        "torch.exp",
        "torch.sub",
    ),
    vllm=(),
    sglang=(),
    papers=(("Differential Transformer", _ARXIV + "2410.05258"),),
    other_refs=(
        ("transformers DiffLlamaAttention", _hf_release("models/diffllama/modeling_diffllama.py")),
    ),
    parallelism=(
        ("tensor", "heads split as in ordinary attention; lambda vectors replicated", "none extra"),
        ("pipeline", "with the owning layer", "none"),
    ),
    flops_formula=(
        "Twice the QK^T and softmax work of an attention with the same head count and widths; the "
        "lambda computation is negligible."
    ),
    kv_cache_formula="as for ordinary attention with the same k and v widths",
    test_spec=(
        "DiffLlamaConfig defaults (head_dim=64): 256 parameters per layer (four vectors of 64).",
        "The attention projections of the same model map to the catalog's attention class.",
    ),
)

_LEARNED_ACTIVATION = GapReference(
    title="Trainable activation parameters (xIELU in Apertus)",
    severity="LOW",
    proposed_class="LearnedActivationLayer",
    summary=(
        "The MLP's activation has trainable scalars: xIELU keeps alpha_p and alpha_n (plus fixed "
        "beta and eps) per MLP. MLPLayer counts projection weights only, so these two parameters "
        "and the activation's extra elementwise work have no place in it."
    ),
    pytorch_ops=("torch.nn.functional.softplus", "torch.expm1", "torch.where"),
    vllm=(
        ("vllm/model_executor/layers/activation.py", "XIELU", "The xIELU activation op."),
        ("vllm/model_executor/models/apertus.py", "ApertusMLP", "Up/down MLP with XIELU."),
    ),
    sglang=(
        ("python/sglang/srt/layers/activation.py", "XIELU", "The xIELU activation op."),
        ("python/sglang/srt/models/apertus.py", "ApertusMLP", "Up/down MLP with XIELU."),
    ),
    papers=(("Deriving Activation Functions Using Integration", _ARXIV + "2411.13010"),),
    other_refs=(
        ("transformers XIELUActivation", _hf_release("activations.py")),
        ("transformers ApertusMLP", _hf_release("models/apertus/modeling_apertus.py")),
    ),
    parallelism=(
        ("tensor", "scalars replicated", "none"),
        ("pipeline", "with the owning MLP", "none"),
    ),
    flops_formula="About 6 elementwise FLOPs per intermediate element per token, 0 matmul FLOPs.",
    kv_cache_formula="none",
    test_spec=(
        "ApertusConfig defaults: 2 parameters per MLP (alpha_p, alpha_n), 32 layers.",
        "Zero matmul FLOPs and zero KV bytes are attributed to this entry.",
    ),
)

GAP_REFERENCES: dict[str, GapReference] = {
    "multi_head_latent_attention": _MLA,
    "mamba_mixer": _MAMBA_MIXER,
    "gated_delta_net": _GATED_DELTA_NET,
    "gated_attention": _GATED_ATTENTION,
    "lm_head": _LM_HEAD,
    "attention_sinks": _ATTENTION_SINKS,
    "attention_bias": _ATTENTION_BIAS,
    "mlp_bias": _MLP_BIAS,
    "qk_norm": _QK_NORM,
    "shared_expert_gate": _SHARED_EXPERT_GATE,
    "cross_attention": _CROSS_ATTENTION,
    "lm_head_transform": _LM_HEAD_TRANSFORM,
    "linear_attention": _LINEAR_ATTENTION,
    "hyper_connections": _HYPER_CONNECTIONS,
    "per_layer_embedding": _PER_LAYER_EMBEDDING,
    "short_convolution": _SHORT_CONVOLUTION,
    "embedding_projection": _EMBEDDING_PROJECTION,
    "differential_attention": _DIFFERENTIAL_ATTENTION,
    "learned_activation": _LEARNED_ACTIVATION,
}
