"""Genre control codes (docs/control-codes.md): the codes and who gets one."""

import pytest

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.control import add_control_codes, check_genre, control_code
from lit_gpt2.modeling.tokenizer import load_tokenizer


def test_codes_are_one_special_token_each_or_a_plain_first_line():
    tokenizer = load_tokenizer("gpt2")
    before = len(tokenizer)
    add_control_codes(tokenizer, ["noir", "comedy"], "special")
    assert len(tokenizer) == before + 2
    assert tokenizer(control_code("noir", "special") + "INT.")["input_ids"][0] == before  # one token, first
    assert control_code("noir", "text") == "[noir]\n"
    assert len(add_control_codes(load_tokenizer("gpt2"), ["noir"], "text")) == before  # plain text adds none


def test_an_unknown_genre_is_refused_with_the_known_ones():
    assert check_genre("noir", ["comedy", "noir"]) == "noir"
    with pytest.raises(UserInputError, match="unknown genre 'opera': this model knows comedy, noir"):
        check_genre("opera", ["comedy", "noir"])
    with pytest.raises(UserInputError, match="trained without genre codes"):
        check_genre("noir", [])
