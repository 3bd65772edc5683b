"""The strategy x genre sample grid that the sample callback and ``lit-gpt2 compare`` share."""

from unittest import mock

import pytest

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.decoding import PRESETS
from lit_gpt2.decoding.grid import sample_grid
from lit_gpt2.errors import UserInputError


def test_a_cell_per_strategy_and_genre_each_prompt_after_its_genres_code(coded_export):
    model, tokenizer = load_model_and_tokenizer(str(coded_export))
    strategies = [PRESETS["greedy"], PRESETS["top-k-40"]]
    grid = sample_grid(model, tokenizer, ["INT. DINER"], strategies, [None, "noir"], max_new_tokens=3, seed=0)
    assert [(s.name, genre) for s, genre in grid] == [
        ("greedy", None),
        ("greedy", "noir"),
        ("top-k-40", None),
        ("top-k-40", "noir"),
    ]
    assert grid[PRESETS["greedy"], None].samples.prompts == ["INT. DINER"]
    assert grid[PRESETS["greedy"], "noir"].samples.prompts == ["<|genre:noir|>INT. DINER"]
    assert "structure" in grid[PRESETS["top-k-40"], "noir"].metrics


def test_an_unknown_genre_is_refused_before_anything_is_generated(coded_export):
    model, tokenizer = load_model_and_tokenizer(str(coded_export))
    with mock.patch.object(model, "generate") as generate, pytest.raises(UserInputError, match="unknown genre 'opera'"):
        sample_grid(model, tokenizer, ["INT."], [PRESETS["greedy"]], [None, "opera"], max_new_tokens=3, seed=0)
    generate.assert_not_called()
