import pytest
import torch

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.build import build_model

# Parameter totals of the hub checkpoints (tied LM head counted once).
HUB_TOTALS = {
    "distilgpt2": 81_912_576,
    "gpt2": 124_439_808,
    "gpt2-medium": 354_823_168,
    "gpt2-large": 774_030_080,
    "gpt2-xl": 1_557_611_200,
}


@pytest.mark.parametrize(("preset", "total"), HUB_TOTALS.items())
def test_presets_match_the_official_architectures(preset, total):
    with torch.device("meta"):
        model = build_model(preset=preset)
    assert model.num_parameters() == total
    assert model.lm_head.weight is model.transformer.wte.weight


def test_explicit_config_takes_the_tokenizer_vocab_and_pad(tiny_config):
    model = build_model(config=tiny_config, vocab_size=50257, pad_token_id=50256)
    assert model.config.vocab_size == 50257
    assert model.generation_config.pad_token_id == 50256


def test_a_small_vocabulary_brings_its_own_end_of_text(tiny_config):
    model = build_model(config=tiny_config, vocab_size=512, pad_token_id=0, eos_token_id=0)
    assert model.config.eos_token_id == model.config.bos_token_id == model.generation_config.eos_token_id == 0


@pytest.mark.parametrize(
    "kwargs", [{}, {"preset": "gpt2", "config": {"n_layer": 1}}, {"pretrained": "gpt2", "preset": "gpt2"}]
)
def test_exactly_one_source_is_required(kwargs):
    with pytest.raises(UserInputError, match="exactly one of model.pretrained, model.preset, model.config"):
        build_model(**kwargs)


def test_unknown_preset_lists_the_choices():
    with pytest.raises(UserInputError, match="choose one of distilgpt2, gpt2, gpt2-medium"):
        build_model(preset="gpt5")


def test_pretrained_offline_suggests_the_preset():
    with pytest.raises(UserInputError, match="use model.preset=gpt2-medium"):
        build_model(pretrained="gpt2-medium")


def test_pretrained_from_a_local_directory(tmp_path, tiny_config):
    original = build_model(config=tiny_config, vocab_size=100)
    original.save_pretrained(tmp_path)
    loaded = build_model(pretrained=str(tmp_path))
    assert torch.equal(loaded.transformer.wte.weight, original.transformer.wte.weight)
    assert all(module.training for module in loaded.modules())  # dropout on for fine-tuning, as from a config


def test_tokenizer_larger_than_the_model_vocab_is_refused(tiny_config):
    with pytest.raises(UserInputError, match="tokenizer has 200 tokens but the model only 100"):
        build_model(config={**tiny_config, "vocab_size": 100}, vocab_size=200)
