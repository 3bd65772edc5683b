"""Bits per byte: a model's next-token loss per byte of the text it predicted, comparable between
tokenizers (docs/bits-per-byte.md), and the bytes of text each token stands for."""

import math

import torch
from tokenizers import decoders
from transformers import PreTrainedTokenizerBase


def token_byte_lengths(tokenizer: PreTrainedTokenizerBase) -> torch.Tensor:
    """UTF-8 bytes of text that each token id stands for (special tokens: 0), for bits per byte.

    Byte-level BPE (GPT-2's and ``train-tokenizer``'s) writes each byte as one character of its
    alphabet, so a token's length is its byte count, partial UTF-8 sequences included; other
    tokenizers are measured by decoding each token alone.
    """
    lengths = [0] * len(tokenizer)  # a list, then one tensor: item by item into a tensor took 0.25 s
    special = set(tokenizer.all_special_ids)
    byte_level = isinstance(
        getattr(tokenizer, "backend_tokenizer", None) and tokenizer.backend_tokenizer.decoder, decoders.ByteLevel
    )
    for token, index in tokenizer.get_vocab().items():
        if index in special or index >= len(lengths):
            continue
        text = token if byte_level else tokenizer.convert_tokens_to_string([token])
        lengths[index] = len(text) if byte_level else len(text.encode("utf-8"))
    return torch.tensor(lengths, dtype=torch.long)


def bits_per_byte(nll_sum: torch.Tensor | float, n_bytes: torch.Tensor | float) -> torch.Tensor | float:
    """Total NLL in nats over the UTF-8 bytes of the text it predicted, in bits per byte: unlike
    perplexity, comparable between models with different tokenizers (docs/bits-per-byte.md)."""
    return nll_sum / (math.log(2) * n_bytes)
