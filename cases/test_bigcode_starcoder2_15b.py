"""bigcode/starcoder2-15b: public facts, each with its source; claims with their scope."""

from harness import Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="bigcode/starcoder2-15b",
    revision='1b425dd4908f4997586767d1495d96ab56bd57d4',
    facts={
        # checkpoint_params: not claimed: the llmfit scrape lists 15,700,000,000 in every
        # readable version, a rounded hand value, not a safetensors count; searched again for
        # this exact repository (every readable version of llmfit's hf_models.json; the code,
        # docs and pages corpora for the id and for the dry run's total 15,957,889,024) found no
        # exact one; `harness checkpoint bigcode/starcoder2-15b` (online) vendors
        # checkpoint.json and prints the claim.
        "total_params": Claim(
            15_700_000_000,
            tolerance=0.02,
            scope="rounded hand value '15.7B'; no precise public count found",
            source='https://huggingface.co/bigcode/starcoder2-15b (as listed in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
            reason='15.7B is a rounded, hand-entered figure, not a safetensors count; the dry run gives 15.96B',
        ),
        "attention_kind": Fact('gqa', source='https://huggingface.co/docs/transformers/model_doc/starcoder2', note='transformers docs/source/en/model_doc/starcoder2.md; same wording in bigcode-project/starcoder2 README'),
        "context_length": Fact(16384, source='https://huggingface.co/docs/transformers/model_doc/starcoder2'),
    },
    sources=[
        'https://huggingface.co/bigcode/starcoder2-15b (as listed in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        'https://huggingface.co/docs/transformers/model_doc/starcoder2',
    ],
)
