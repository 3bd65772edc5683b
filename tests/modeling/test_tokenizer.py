import pytest

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.tokenizer import load_tokenizer, packaged_gpt2_tokenizer, tokenizer_source


def test_packaged_files_give_gpt2_ids():
    assert packaged_gpt2_tokenizer()("Hello world")["input_ids"] == [15496, 995]


def test_gpt2_name_falls_back_offline_with_pad_set_to_eos():
    tokenizer = load_tokenizer("gpt2")
    assert len(tokenizer) == 50257
    assert tokenizer.pad_token_id == tokenizer.eos_token_id == 50256


def test_saved_tokenizer_directory_round_trips(tmp_path):
    packaged_gpt2_tokenizer().save_pretrained(tmp_path)
    assert (
        load_tokenizer(str(tmp_path))("INT. DINER")["input_ids"] == packaged_gpt2_tokenizer()("INT. DINER")["input_ids"]
    )


def test_unknown_tokenizer_offline_is_a_clear_error():
    with pytest.raises(UserInputError, match="hub is unreachable"):
        load_tokenizer("someone/not-a-tokenizer")


def test_tokenizer_defaults_to_the_pretrained_model_then_gpt2():
    assert tokenizer_source(None, None) == "gpt2"
    assert tokenizer_source("/models/mine", None) == "/models/mine"
    assert tokenizer_source("/models/mine", "gpt2") == "gpt2"
