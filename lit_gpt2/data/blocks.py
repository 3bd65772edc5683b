"""Compact block storage: each split's token stream as one flat file of uint16 (or int32), read memory-mapped.

The stream is the one ``pack_blocks`` builds (every script's tokens followed by end-of-text, scripts in
order), written incrementally; block ``i`` is ``stream[i * block_size : (i + 1) * block_size]`` and the
trailing tokens that do not fill a block are never read. GPT-2's 50,257 ids fit uint16: 2 bytes a token
on disk, and only the pages a batch touches in memory.
"""

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

_UINT16_IDS = 2**16
# The checksum reads this many evenly spaced samples of this size: all of a file up to 4 MiB, and a
# few milliseconds' reading of a larger one (a size check catches truncation whatever its length).
_SAMPLES, _SAMPLE_BYTES = 64, 2**16


def token_dtype(vocab_size: int) -> np.dtype:
    """The narrowest stored type for ids ``0 .. vocab_size - 1``: uint16 up to 65,536 tokens, else int32."""
    return np.dtype(np.uint16 if vocab_size <= _UINT16_IDS else np.int32)


def write_streams(rows: Iterable[tuple[int, np.ndarray]], paths: list[Path], dtype: np.dtype) -> list[int]:
    """Append each ``(destination, tokens)`` row to ``paths[destination]`` in the order given.

    Rows arrive in script order, so each file holds its split's scripts in order, exactly as
    ``pack_blocks`` concatenates them; nothing but the current row is held in memory.

    Returns:
        The number of tokens written to each path.
    """
    counts = [0] * len(paths)
    files = [open(path, "wb", buffering=2**20) for path in paths]
    try:
        for destination, tokens in rows:
            files[destination].write(np.ascontiguousarray(tokens, dtype=dtype).tobytes())
            counts[destination] += len(tokens)
    finally:
        for file in files:
            file.close()
    return counts


def stream_checksum(path: Path) -> str:
    """A cheap fingerprint of a stream file: BLAKE2b of its size and of evenly spaced samples (the whole
    file when it is small), so that a cache damaged in place is told from the one its metadata describes."""
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as file:
        if size <= _SAMPLES * _SAMPLE_BYTES:
            digest.update(file.read())
        else:
            for i in range(_SAMPLES):
                file.seek((size - _SAMPLE_BYTES) * i // (_SAMPLES - 1))
                digest.update(file.read(_SAMPLE_BYTES))
    return digest.hexdigest()


class BlockDataset(Dataset):
    """Fixed-size blocks of a memory-mapped token stream; item ``i`` is ``{"input_ids": int64 tensor}``.

    The file is opened lazily in each process (DataLoader workers included) and never pickled with
    the dataset, so a worker receives a path, not a copy of the data.
    """

    def __init__(self, path: str | Path, dtype: np.dtype | str, block_size: int) -> None:
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.block_size = block_size
        self.n_blocks = self.path.stat().st_size // self.dtype.itemsize // block_size
        self._stream: np.memmap | None = None

    def __len__(self) -> int:
        return self.n_blocks

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if index < 0:
            index += self.n_blocks
        if not 0 <= index < self.n_blocks:
            raise IndexError(f"block {index} of {self.n_blocks}")
        return {"input_ids": torch.from_numpy(self.blocks_view()[index].astype(np.int64))}

    def blocks_view(self) -> np.ndarray:
        """All blocks as a read-only ``(n_blocks, block_size)`` memory-mapped array (no copy)."""
        if self.n_blocks == 0:
            return np.empty((0, self.block_size), dtype=self.dtype)
        if self._stream is None:
            self._stream = np.memmap(self.path, dtype=self.dtype, mode="r")
        return self._stream[: self.n_blocks * self.block_size].reshape(self.n_blocks, self.block_size)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_stream": None}
