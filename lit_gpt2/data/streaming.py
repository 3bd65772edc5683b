"""Streaming a corpus that is never copied to disk whole: documents are tokenised on the fly, each
followed by end-of-text, and packed into blocks as they arrive.

A stream has no random access, so its position is a document index and an offset into that document's
tokens: ``StreamedBlocks`` records the position after every block it yields, and a resumed run skips
the documents before it (read, not tokenised) and drops the offset's tokens, continuing exactly.
"""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset
from transformers import PreTrainedTokenizerBase

from lit_gpt2.data.packing import pack_blocks
from lit_gpt2.data.screenplay import normalise_screenplay

# Positions remembered for blocks already yielded but perhaps not yet trained on: Lightning's fetcher
# reads one batch ahead, so a few batches' worth is plenty.
_POSITIONS_KEPT = 4096


@dataclass(frozen=True)
class StreamPosition:
    """Where the next training token is: document ``documents`` of this process's stream (counted after
    the validation documents), ``offset`` tokens into it (end-of-text included)."""

    documents: int = 0
    offset: int = 0


def document_tokens(text: str, tokenizer: PreTrainedTokenizerBase, normalize: bool) -> list[int]:
    """One document's tokens (normalised first if ``normalize``), without end-of-text."""
    if normalize:
        text = normalise_screenplay(text)
    # The tokenizer's own length cap would warn on long scripts; packing cuts them into blocks instead.
    return tokenizer(text, verbose=False)["input_ids"]


class InMemoryBlocks(Dataset):
    """Packed blocks held in memory (the streamed validation documents); item ``i`` is
    ``{"input_ids": int64 tensor}``, as ``BlockDataset``'s."""

    def __init__(self, texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, normalize: bool, block_size: int):
        ids = (document_tokens(text, tokenizer, normalize) for text in texts)
        self.blocks = torch.from_numpy(pack_blocks(ids, tokenizer.eos_token_id, block_size)[0])

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.blocks[index]}


class StreamedBlocks(IterableDataset):
    """``block_size`` blocks packed from a stream of texts, starting at a ``StreamPosition``.

    Args:
        texts: Called with a number of documents to skip, returns the texts after them (a fresh
            iteration each call: each epoch reads the stream again from its start).
        tokenizer: Tokenises each document.
        normalize: Collapse screenplay indentation first.
        block_size: Tokens per block.
        start: Called as each iteration (epoch) begins, returns where it starts: a resumed run's position
            for the first, the stream's start for the others.
    """

    def __init__(
        self,
        texts: Callable[[int], Iterable[str]],
        tokenizer: PreTrainedTokenizerBase,
        normalize: bool,
        block_size: int,
        start: Callable[[], StreamPosition] = StreamPosition,
    ) -> None:
        self.texts = texts
        self.start = start
        self.tokenizer = tokenizer
        self.normalize = normalize
        self.block_size = block_size
        self._start = StreamPosition()  # where the current iteration began
        self.yielded = 0  # blocks yielded by the current iteration
        self._positions: deque[tuple[int, StreamPosition]] = deque(maxlen=_POSITIONS_KEPT)

    def position_after(self, blocks: int) -> StreamPosition:
        """The position after the first ``blocks`` blocks of the current iteration."""
        if blocks == 0:
            return self._start
        for count, position in reversed(self._positions):
            if count == blocks:
                return position
        raise RuntimeError(f"the position after block {blocks} is no longer known (yielded {self.yielded})")

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        start = self._start = self.start()
        self.yielded = 0
        self._positions.clear()
        # pending: (document index, its tokens not yet emitted, their offset in the document)
        pending: deque[tuple[int, np.ndarray, int]] = deque()
        buffered = 0
        for index, text in enumerate(self.texts(start.documents), start=start.documents):
            ids = document_tokens(text, self.tokenizer, self.normalize)
            tokens = np.asarray([*ids, self.tokenizer.eos_token_id], dtype=np.int64)
            offset = start.offset if index == start.documents else 0
            if offset:
                tokens = tokens[offset:]
            if len(tokens) == 0:
                continue
            pending.append((index, tokens, offset))
            buffered += len(tokens)
            while buffered >= self.block_size:
                block = self._take(pending, self.block_size)
                buffered -= self.block_size
                self.yielded += 1
                # After this block the next token is the head of ``pending`` or, if that is empty, the
                # start of the next document.
                at = StreamPosition(pending[0][0], pending[0][2]) if pending else StreamPosition(index + 1, 0)
                self._positions.append((self.yielded, at))
                yield {"input_ids": torch.from_numpy(block)}
        # The trailing tokens that do not fill a block are dropped, as in the prepared splits.

    @staticmethod
    def _take(pending: deque[tuple[int, np.ndarray, int]], size: int) -> np.ndarray:
        parts = []
        while size:
            index, tokens, offset = pending.popleft()
            parts.append(tokens[:size])
            if len(tokens) > size:
                pending.appendleft((index, tokens[size:], offset + size))
            size -= len(parts[-1])
        return np.concatenate(parts)
