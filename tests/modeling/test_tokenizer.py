import pytest

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.bpe import train_bpe_tokenizer
from lit_gpt2.modeling.tokenizer import load_tokenizer, packaged_gpt2_tokenizer, token_byte_lengths, tokenizer_source


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


@pytest.mark.parametrize("trained", [False, True])
def test_token_byte_lengths_add_up_to_the_text_bytes(trained, tmp_path):
    text = "INT. CAF\u00c9 - NIGHT\n\nZO\u00cb\nNa\u00efve? \u2014 \U0001f3ac done.\n"
    tokenizer = train_bpe_tokenizer([text] * 5, 300, tmp_path) if trained else load_tokenizer("gpt2")
    lengths = token_byte_lengths(tokenizer)
    ids = tokenizer(text)["input_ids"]
    assert int(lengths[ids].sum()) == len(text.encode())
    assert lengths[tokenizer.eos_token_id] == 0
