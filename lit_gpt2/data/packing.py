"""Packing tokenized scripts into fixed-size training blocks with no padding."""

from collections.abc import Iterable

import numpy as np


def pack_blocks(token_lists: Iterable[list[int]], eos_token_id: int, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate scripts, each followed by end-of-text, and cut the stream into ``block_size`` blocks.

    Remainder rule: the final ``len(stream) % block_size`` tokens (fewer than one block) do not fit a
    whole block and are returned separately instead of padded, so every block is all real tokens.
    ``blocks.ravel()`` followed by ``remainder`` is exactly the token stream.

    This holds every token in memory: the data module writes the same stream to disk instead
    (``blocks.write_streams``), and its tests check the two agree block for block.

    Returns:
        ``(blocks, remainder)``: an ``(n_blocks, block_size)`` int array and the 1-D leftover tokens.
    """
    pieces = [np.asarray(ids, dtype=np.int64) for ids in token_lists]
    eos = np.array([eos_token_id], dtype=np.int64)
    stream = np.concatenate([part for ids in pieces for part in (ids, eos)]) if pieces else eos[:0]
    n_blocks = len(stream) // block_size
    cut = n_blocks * block_size
    return stream[:cut].reshape(n_blocks, block_size), stream[cut:]
