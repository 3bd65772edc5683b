from lit_gpt2.evaluation.flops import cost_facts
from lit_gpt2.inspect.anatomy import meta_gpt2


def test_cost_per_token_follows_the_stated_formulas():
    facts = cost_facts(meta_gpt2("gpt2"))
    assert (facts.layers, facts.heads, facts.head_size, facts.context) == (12, 12, 64, 1024)
    embeddings = 50257 * 768 + 1024 * 768
    n = facts.parameters - embeddings + 50257 * 768  # blocks + ln_f + the LM head matmul
    assert facts.matmul_parameters == n
    assert facts.forward_flops_per_token == 2 * n + 4 * 12 * 1024 * 768
    assert facts.training_flops_per_token == 3 * facts.forward_flops_per_token
    assert facts.kv_cache_bytes_per_token == 2 * 12 * 768 * 2
