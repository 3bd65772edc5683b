import re

import pytest
import torch

from lit_gpt2.decoding.generate import continuation_nll, generate_samples
from lit_gpt2.decoding.strategies import PRESETS, DecodingStrategy, resolve_strategies
from lit_gpt2.errors import UserInputError

PROMPTS = ["INT. DINER - NIGHT\n\n", "MARGO\n"]


def _config(name):
    return PRESETS[name].generation_config(max_new_tokens=8, pad_token_id=0, eos_token_id=0)


def test_presets_cover_the_strategy_families():
    expected = {
        "greedy",
        "beam-5",
        "temperature-0.7",
        "temperature-1.0",
        "temperature-1.5",
        "top-k-10",
        "top-k-40",
        "top-k-100",
        "top-p-0.8",
        "top-p-0.9",
        "top-p-0.95",
        "repetition-penalty-1.2",
        "typical-p-0.95",
        "min-p-0.05",
    }
    assert expected == set(PRESETS)


def test_presets_produce_the_generation_arguments_they_claim():
    beam = _config("beam-5")
    assert (beam.num_beams, beam.no_repeat_ngram_size, beam.do_sample) == (5, 3, False)
    pure = _config("temperature-1.5")  # pure sampling: no top-k 50 default sneaking in
    assert (pure.do_sample, pure.temperature, pure.top_k, pure.top_p) == (True, 1.5, 0, 1.0)
    assert (_config("top-k-40").top_k, _config("top-p-0.9").top_p) == (40, 0.9)
    assert _config("repetition-penalty-1.2").repetition_penalty == 1.2
    assert _config("min-p-0.05").min_p == 0.05 and _config("typical-p-0.95").typical_p == 0.95


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"temperature": 0.0}, "temperature=0.0 must be > 0"),
        ({"top_p": 0.0}, r"top_p=0.0 must be in \(0, 1\]"),
        ({"top_p": 1.5}, r"top_p=1.5 must be in \(0, 1\]"),
        ({"top_k": -1}, "top_k=-1 must be >= 0"),
        ({"num_beams": 0}, "num_beams=0 must be >= 1"),
    ],
)
def test_invalid_parameters_are_refused_with_one_line(fields, message):
    with pytest.raises(UserInputError, match=message):
        DecodingStrategy("mine", do_sample=True, **fields)


def test_max_new_tokens_below_one_is_refused():
    with pytest.raises(UserInputError, match="max_new_tokens=0 must be at least 1"):
        PRESETS["greedy"].generation_config(0, 0, 0)


def test_unknown_and_duplicate_strategy_names_are_refused():
    with pytest.raises(UserInputError, match="unknown decoding strategy 'contrastive'"):
        resolve_strategies(["contrastive"])
    with pytest.raises(UserInputError, match="must be unique"):
        resolve_strategies(["greedy", DecodingStrategy("greedy", do_sample=True)])
    with pytest.raises(UserInputError, match="needs a name and only these fields"):
        resolve_strategies([{"name": "x", "temprature": 0.5}])
    assert resolve_strategies([{"name": "x", "do_sample": True, "top_k": 3}])[0].top_k == 3


def test_top_k_1_sampling_equals_greedy(tiny_module):
    model, tokenizer = tiny_module.model, tiny_module.tokenizer
    greedy = generate_samples(model, tokenizer, PROMPTS, PRESETS["greedy"], 12, seed=0)
    top1 = generate_samples(model, tokenizer, PROMPTS, DecodingStrategy("k1", do_sample=True, top_k=1), 12, seed=5)
    assert top1.continuations == greedy.continuations


def test_sampling_is_reproducible_by_seed_and_leaves_the_global_rng_alone(tiny_module):
    model, tokenizer = tiny_module.model, tiny_module.tokenizer
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = generate_samples(model, tokenizer, PROMPTS, PRESETS["temperature-1.5"], 12, seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    again = generate_samples(model, tokenizer, PROMPTS, PRESETS["temperature-1.5"], 12, seed=7)
    other = generate_samples(model, tokenizer, PROMPTS, PRESETS["temperature-1.5"], 12, seed=8)
    assert first.continuations == again.continuations != other.continuations


def test_batched_left_padded_generation_matches_one_prompt_at_a_time(tiny_module):
    model, tokenizer = tiny_module.model, tiny_module.tokenizer
    batched = generate_samples(model, tokenizer, PROMPTS, PRESETS["greedy"], 10, seed=0)
    for i, prompt in enumerate(PROMPTS):
        alone = generate_samples(model, tokenizer, [prompt], PRESETS["greedy"], 10, seed=0)
        assert alone.continuations[0] == batched.continuations[i]


def test_too_long_prompt_is_left_truncated_with_a_warning(tiny_module):
    long_prompt = "word " * 500  # the tiny model's context is 128 tokens
    with pytest.warns(UserWarning, match="keeping its last 118"):
        samples = generate_samples(tiny_module.model, tiny_module.tokenizer, [long_prompt], PRESETS["greedy"], 10, 0)
    assert len(samples.prompt_ids[0]) == 118


def test_sample_perplexity_uses_raw_logits_so_greedy_beats_pure_sampling(tiny_module):
    model, tokenizer = tiny_module.model, tiny_module.tokenizer
    greedy = generate_samples(model, tokenizer, PROMPTS, PRESETS["greedy"], 12, seed=0)
    hot = generate_samples(model, tokenizer, PROMPTS, PRESETS["temperature-1.5"], 12, seed=0)
    n = sum(map(len, greedy.continuations)), sum(map(len, hot.continuations))
    assert continuation_nll(model, greedy) / n[0] < continuation_nll(model, hot) / n[1]


def test_a_sampling_knob_switches_sampling_on_unless_told_otherwise():
    from lit_gpt2.decoding.strategies import customised

    assert customised("greedy", {"top_p": 0.5}).do_sample
    assert not customised("greedy", {"top_p": 0.5, "do_sample": False}).do_sample
    assert customised("beam-5", {}) is PRESETS["beam-5"]


def test_overrides_equal_to_the_preset_keep_the_preset():
    from lit_gpt2.decoding.strategies import customised

    preset = PRESETS["top-p-0.9"]
    same = customised("top-p-0.9", {"temperature": preset.temperature, "top_p": preset.top_p, "top_k": None})
    assert same is preset
    changed = customised("top-p-0.9", {"temperature": 0.8, "top_p": preset.top_p})
    assert changed.name == "top-p-0.9(temperature=0.8)" and changed.top_p == preset.top_p


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [("nope", {}, "unknown decoding strategy 'nope'"), ("greedy", {"name": "x"}, "cannot override ['name']")],
)
def test_bad_customisation_is_one_clear_line(preset, overrides, message):
    from lit_gpt2.decoding.strategies import customised

    with pytest.raises(UserInputError, match=re.escape(message)):
        customised(preset, overrides)
