"""What a GPT-2 costs per token: the parameters that multiply each token, forward and training FLOPs
(the PaLM MFU formula, which the training path's throughput monitor turns into FLOP/s), and the KV
cache's bytes. Counted on any model, the weightless meta one (``lit_gpt2.inspect.anatomy.meta_gpt2``)
included."""

from dataclasses import dataclass

from transformers import GPT2LMHeadModel

from lit_gpt2.modeling.build import parameter_count


@dataclass
class CostFacts:
    layers: int
    heads: int
    head_size: int
    d_model: int
    context: int
    vocab: int
    parameters: int
    matmul_parameters: int
    forward_flops_per_token: int
    training_flops_per_token: int
    kv_cache_bytes_per_token: int


def matmul_parameters(model: GPT2LMHeadModel) -> int:
    """N: the parameters that multiply each token (every block, ln_f, and the LM head, tied or not)."""
    c = model.config
    return (
        sum(parameter_count(b) for b in model.transformer.h)
        + parameter_count(model.transformer.ln_f)
        + c.vocab_size * c.n_embd
    )


def forward_flops_per_token(model: GPT2LMHeadModel, seq_len: int | None = None) -> int:
    """2N + 4 * layers * seq_len * d_model (QK^T and attention x V); seq_len defaults to the context."""
    c = model.config
    return 2 * matmul_parameters(model) + 4 * c.n_layer * (seq_len or c.n_positions) * c.n_embd


def cost_facts(model: GPT2LMHeadModel, kv_bytes_per_value: int = 2) -> CostFacts:
    """Per-token cost at full context.

    N = parameters that multiply each token (every block's weights and the LM head, tied or not;
    embedding lookups are free). Forward = 2N + 4 * layers * context * d_model (QK^T and attention x V);
    a training step = 3 x forward = 6N + 12 * layers * context * d_model (the PaLM MFU formula).
    KV cache = 2 (K and V) * layers * d_model values per token, at ``kv_bytes_per_value`` (2: bf16).
    """
    c = model.config
    forward = forward_flops_per_token(model)
    return CostFacts(
        layers=c.n_layer,
        heads=c.n_head,
        head_size=c.n_embd // c.n_head,
        d_model=c.n_embd,
        context=c.n_positions,
        vocab=c.vocab_size,
        parameters=parameter_count(model),
        matmul_parameters=matmul_parameters(model),
        forward_flops_per_token=forward,
        training_flops_per_token=3 * forward,
        kv_cache_bytes_per_token=2 * c.n_layer * c.n_embd * kv_bytes_per_value,
    )
