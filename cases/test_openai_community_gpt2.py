"""openai-community/gpt2: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="openai-community/gpt2",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            137_022_720,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json ; per dtype (model "gpt2"): https://github.com/huggingface/safetensors/blob/01b9ce07e953c323c79777b883b136cb03bed14b/temp.md',
            expected_difference=12_582_912,
            reason='legacy_buffers +12,582,912: 12 x (h.{}.attn.bias) saved by an old checkpoint',
        ),
        "total_params": Claim(
            137_022_720,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/openai-community/gpt2 (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
            expected_difference=12_582_912,
            reason='the checkpoint also stores 12 causal-mask buffers h.N.attn.bias of 1024x1024, which are not parameters',
        ),
        "num_layers": Fact(12, source='https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf', note="HF 'gpt2' is the smallest (117M-row) model"),
        "hidden_size": Fact(768, source='https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf'),
        "num_heads": Fact(12, source='https://cdn.openai.com/research-covers/language-unsupervised/language_understanding_paper.pdf', note="GPT-1 paper; GPT-2 paper Sec 3: 'The smallest model is equivalent to the original GPT'"),
        "vocab_size": Fact(50257, source='https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf'),
        "intermediate_size": Fact(3072, source='https://cdn.openai.com/research-covers/language-unsupervised/language_understanding_paper.pdf', note="GPT-1 paper; GPT-2 smallest 'equivalent to the original GPT'. Dense FFN width (HF config n_inner=None -> 4*768)"),
        "attention_kind": Fact('mha', source='https://cdn.openai.com/research-covers/language-unsupervised/language_understanding_paper.pdf', note='standard multi-head attention (no KV-head sharing)'),
        "mlp_kind": Fact('plain', source='https://cdn.openai.com/research-covers/language-unsupervised/language_understanding_paper.pdf', note='ungated GELU MLP'),
        "norm_kind": Fact('layernorm', source='https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf'),
        "context_length": Fact(1024, source='https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf'),
    },
    sources=[
        'https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf',
        'https://cdn.openai.com/research-covers/language-unsupervised/language_understanding_paper.pdf',
        'https://huggingface.co/openai-community/gpt2 (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
)
