"""Training a small byte-level BPE tokenizer, GPT-2 style, for small models trained from scratch.

A from-scratch model on a small corpus spends most of its parameters and compute on GPT-2's 50,257-row
embedding and output layer; a vocabulary of a few thousand tokens fitted to the corpus is far cheaper.
"""

from collections.abc import Iterable
from pathlib import Path

from tokenizers import ByteLevelBPETokenizer
from transformers import PreTrainedTokenizerFast

from lit_gpt2.errors import UserInputError

END_OF_TEXT = "<|endoftext|>"


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int, directory: str | Path) -> PreTrainedTokenizerFast:
    """Train on ``texts``, save to ``directory`` (loadable by ``AutoTokenizer``) and return it.

    Like GPT-2's: byte-level (never an unknown token), no added prefix space, and ``<|endoftext|>``
    as the one special token, used as end-of-text between scripts and as padding.
    """
    if vocab_size < 257:
        raise UserInputError(
            f"vocab_size={vocab_size} is too small: byte-level BPE needs at least 257 (256 bytes + end-of-text)"
        )
    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(
        texts, vocab_size=vocab_size, min_frequency=2, special_tokens=[END_OF_TEXT], show_progress=False
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        unk_token=END_OF_TEXT,
        pad_token=END_OF_TEXT,
    )
    tokenizer.save_pretrained(directory)
    return tokenizer
