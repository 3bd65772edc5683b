"""Genre control codes (docs/control-codes.md): the codes, who gets one, and genre accuracy."""

import pytest
import torch

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.control import (
    add_control_codes,
    check_genre,
    code_nll,
    control_code,
    genre_accuracy,
    genre_confusion,
)
from lit_gpt2.modeling.tokenizer import load_tokenizer


def test_codes_are_one_special_token_each_or_a_plain_first_line():
    tokenizer = load_tokenizer("gpt2")
    before = len(tokenizer)
    add_control_codes(tokenizer, ["noir", "comedy"], "special")
    assert len(tokenizer) == before + 2
    assert tokenizer(control_code("noir", "special") + "INT.")["input_ids"][0] == before  # one token, first
    assert control_code("noir", "text") == "[noir]\n"
    assert len(add_control_codes(load_tokenizer("gpt2"), ["noir"], "text")) == before  # plain text adds none


def test_genre_accuracy_by_hand():
    # Three scripts, two genres: script 0 (genre 0) and script 2 (genre 1) prefer their own code.
    nll = torch.tensor([[1.0, 2.0], [1.0, 3.0], [2.5, 2.0]])
    assert genre_accuracy(nll, [0, 1, 1]) == pytest.approx(2 / 3)
    assert genre_accuracy(torch.tensor([[1.0, 1.0]]), [1]) == 0.0  # a tie goes to the first genre
    # Rows: own genre; columns: guessed. Script 1 (genre 1) is guessed genre 0.
    assert genre_confusion(nll, [0, 1, 1]).tolist() == [[1, 0], [1, 1]]


def test_an_unknown_genre_is_refused_with_the_known_ones():
    assert check_genre("noir", ["comedy", "noir"]) == "noir"
    with pytest.raises(UserInputError, match="unknown genre 'opera': this model knows comedy, noir"):
        check_genre("opera", ["comedy", "noir"])
    with pytest.raises(UserInputError, match="trained without genre codes"):
        check_genre("noir", [])


def test_code_nll_scores_the_script_after_each_code(tiny_module):
    model = tiny_module.model.eval()
    codes, scripts = [[11], [22, 23]], [[5, 6, 7, 8], [9, 10]]
    nll = code_nll(model, codes, scripts, batch_size=3)
    assert nll.shape == (2, 2)
    with torch.no_grad():  # script 1 after code 1, by hand: labels only on the script's tokens
        ids = torch.tensor([[22, 23, 9, 10]])
        labels = torch.tensor([[-100, -100, 9, 10]])
        assert nll[1, 1].item() == pytest.approx(model(ids, labels=labels).loss.item(), rel=1e-5)


def test_code_nll_cuts_a_script_longer_than_the_context(tiny_module):
    context = tiny_module.model.config.n_positions
    nll = code_nll(tiny_module.model, [[11, 12]], [list(range(5, 5 + context + 10))])
    assert nll.shape == (1, 1) and torch.isfinite(nll).all()
