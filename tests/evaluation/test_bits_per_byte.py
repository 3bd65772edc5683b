import math

import pytest

from lit_gpt2.evaluation.bits_per_byte import bits_per_byte, token_byte_lengths
from lit_gpt2.modeling.bpe import train_bpe_tokenizer
from lit_gpt2.modeling.tokenizer import load_tokenizer


def test_bits_per_byte_by_hand():
    """docs/bits-per-byte.md's worked example."""
    assert bits_per_byte(nll_sum=8 * math.log(2), n_bytes=4) == 2.0  # 8 bits over 4 bytes


@pytest.mark.parametrize("trained", [False, True])
def test_token_byte_lengths_add_up_to_the_text_bytes(trained, tmp_path):
    text = "INT. CAF\u00c9 - NIGHT\n\nZO\u00cb\nNa\u00efve? \u2014 \U0001f3ac done.\n"
    tokenizer = train_bpe_tokenizer([text] * 5, 300, tmp_path) if trained else load_tokenizer("gpt2")
    lengths = token_byte_lengths(tokenizer)
    ids = tokenizer(text)["input_ids"]
    assert int(lengths[ids].sum()) == len(text.encode())
    assert lengths[tokenizer.eos_token_id] == 0
