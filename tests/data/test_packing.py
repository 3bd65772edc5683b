import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lit_gpt2.data.packing import pack_blocks

EOS = 99
scripts = st.lists(st.lists(st.integers(0, 98), max_size=40), max_size=12)


@given(scripts, st.integers(2, 17))
def test_packing_keeps_every_token_exactly_once_in_order(token_lists, block_size):
    blocks, remainder = pack_blocks(token_lists, EOS, block_size)
    stream = [t for ids in token_lists for t in [*ids, EOS]]
    assert blocks.shape == (len(stream) // block_size, block_size)
    assert len(remainder) < block_size
    assert np.concatenate([blocks.ravel(), remainder]).tolist() == stream


def test_every_script_is_followed_by_end_of_text():
    blocks, remainder = pack_blocks([[1, 2], [3]], EOS, block_size=2)
    assert blocks.tolist() == [[1, 2], [EOS, 3]]
    assert remainder.tolist() == [EOS]
