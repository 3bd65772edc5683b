"""Several samples per prompt, stop strings, and generation past the context by a sliding window."""

import pytest
import torch

from lit_gpt2.decoding.generate import Samples, continuation_nll, generate_samples, window_stride
from lit_gpt2.decoding.strategies import PRESETS
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.inference import inference_pass
from lit_gpt2.module import GPT2LitModule

PROMPTS = ["INT. DINER - NIGHT\n\n", "MARGO\n"]


@pytest.fixture(scope="module")
def short_context():
    """A 64-token model: 200 new tokens are three times its context."""
    torch.manual_seed(0)
    module = GPT2LitModule(config={"n_layer": 2, "n_head": 2, "n_embd": 32, "n_positions": 64})
    return module.model, module.tokenizer


def test_a_64_token_model_writes_200_tokens_and_the_first_window_is_the_plain_generation(short_context):
    model, tokenizer = short_context
    long = generate_samples(model, tokenizer, PROMPTS, PRESETS["greedy"], 200, seed=0)
    assert [len(ids) for ids in long.continuations] == [200, 200]
    plain = generate_samples(model, tokenizer, PROMPTS, PRESETS["greedy"], 40, seed=0)  # fits the context
    assert [ids[:40] for ids in long.continuations] == plain.continuations
    # The longer prompt fills the context after its first call; then each window keeps the last 48 tokens
    # (64 less a stride of 16) and writes 16: token 144 starts a window, given tokens 96 to 143 alone.
    full = long.prompt_ids[0] + long.continuations[0]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([full[96:144]])).logits[0, -1]
    assert full[144] == int(logits.argmax())
    assert continuation_nll(model, long) > 0  # scored window by window, never past the context
    assert window_stride(64) == 16


def test_the_nll_of_rows_scored_together_is_the_sum_of_each_scored_alone(short_context):
    """Rows that fit the context share one right-padded forward pass; longer ones slide."""
    model, _ = short_context
    generator = torch.Generator().manual_seed(1)
    lengths = [(3, 20), (10, 0), (1, 63), (30, 50)]  # the last runs past the 64-token context
    prompts = [torch.randint(0, 500, (p,), generator=generator).tolist() for p, _ in lengths]
    continuations = [torch.randint(0, 500, (c,), generator=generator).tolist() for _, c in lengths]
    together = Samples(PRESETS["greedy"], ["?"] * 4, prompts, continuations, [""] * 4, 0.0)
    alone = [Samples(PRESETS["greedy"], ["?"], [p], [c], [""], 0.0) for p, c in zip(prompts, continuations)]
    with inference_pass(model):  # eval mode: no dropout
        first = torch.tensor([prompts[0] + continuations[0]])
        by_hand = torch.nn.functional.cross_entropy(
            model(input_ids=first).logits[0, 2:-1], first[0, 3:], reduction="sum"
        )
    assert continuation_nll(model, alone[0]) == pytest.approx(by_hand.item(), rel=1e-6)
    assert continuation_nll(model, alone[1]) == 0.0  # nothing written, nothing scored
    assert continuation_nll(model, together) == pytest.approx(sum(map(continuation_nll, [model] * 4, alone)), rel=1e-6)


def test_several_samples_per_prompt_differ_repeat_by_seed_and_greedy_repeats_its_answer(short_context):
    model, tokenizer = short_context
    sampled = generate_samples(model, tokenizer, PROMPTS, PRESETS["temperature-1.0"], 8, seed=3, num_samples=3)
    assert sampled.prompts == [PROMPTS[0]] * 3 + [PROMPTS[1]] * 3 and sampled.samples_per_prompt == 3
    assert len(set(map(tuple, sampled.continuations[:3]))) == 3
    again = generate_samples(model, tokenizer, PROMPTS, PRESETS["temperature-1.0"], 8, seed=3, num_samples=3)
    assert again.continuations == sampled.continuations
    greedy = generate_samples(model, tokenizer, PROMPTS, PRESETS["greedy"], 8, seed=3, num_samples=2)
    assert greedy.continuations[0] == greedy.continuations[1] != greedy.continuations[2]


def test_a_stop_string_ends_the_sample_with_it(short_context):
    model, tokenizer = short_context
    free = generate_samples(model, tokenizer, PROMPTS[:1], PRESETS["greedy"], 30, seed=0)
    stop = tokenizer.decode(free.continuations[0][10:12])  # text the model writes after ten tokens
    stopped = generate_samples(model, tokenizer, PROMPTS[:1], PRESETS["greedy"], 30, seed=0, stop=[stop])
    end = free.texts[0].index(stop) + len(stop)
    assert stopped.texts[0] == free.texts[0][:end] and len(stopped.continuations[0]) <= 12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"num_samples": 0}, "num_samples=0 must be at least 1"), ({"stop": ["\n", ""]}, "a stop string is empty")],
)
def test_bad_controls_are_one_line_each(short_context, kwargs, message):
    with pytest.raises(UserInputError, match=message):
        generate_samples(*short_context, PROMPTS, PRESETS["greedy"], 8, seed=0, **kwargs)
