import pickle

import numpy as np
import pytest
import torch

from lit_gpt2.data.blocks import BlockDataset, token_dtype, write_streams


@pytest.mark.parametrize(("vocab_size", "dtype"), [(50_257, np.uint16), (65_536, np.uint16), (70_000, np.int32)])
def test_ids_are_stored_in_uint16_while_the_vocabulary_fits_and_int32_beyond(vocab_size, dtype):
    assert token_dtype(vocab_size) == dtype


def test_uint16_round_trip_keeps_the_largest_id_and_gives_int64_blocks(tmp_path):
    """65,535 is the largest id uint16 holds; a sign or width slip would turn it negative or wrap it."""
    scripts = [np.array([0, 65_535, 50_256]), np.array([7]), np.array([1, 2, 3, 4, 5])]
    counts = write_streams(((i % 2, ids) for i, ids in enumerate(scripts)), [tmp_path / "a", tmp_path / "b"], np.uint16)
    assert counts == [8, 1]
    assert (tmp_path / "a").stat().st_size == 8 * 2
    blocks = BlockDataset(tmp_path / "a", "uint16", block_size=3)
    assert len(blocks) == 2  # 8 tokens: two blocks of 3, two trailing tokens dropped
    assert blocks[0]["input_ids"].dtype == torch.int64
    assert [blocks[i]["input_ids"].tolist() for i in range(2)] == [[0, 65_535, 50_256], [1, 2, 3]]
    assert blocks[-1]["input_ids"].tolist() == [1, 2, 3]
    with pytest.raises(IndexError):
        blocks[2]


def test_a_dataloader_worker_gets_a_path_not_a_copy_of_the_stream(tmp_path):
    write_streams([(0, np.arange(12))], [tmp_path / "s"], np.int32)
    blocks = BlockDataset(tmp_path / "s", "int32", block_size=4)
    blocks.blocks_view()  # opens the memory map in this process
    copy = pickle.loads(pickle.dumps(blocks))
    assert len(pickle.dumps(blocks)) < 1000
    assert copy[2]["input_ids"].tolist() == [8, 9, 10, 11]
