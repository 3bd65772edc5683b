"""``lit-gpt2 train-tokenizer``: a byte-level BPE vocabulary fitted to the training scripts."""

from lit_gpt2.data.corpus import Corpus
from lit_gpt2.modeling.bpe import train_bpe_tokenizer


def train_tokenizer_command(out: str, vocab_size: int = 4096, data: Corpus | None = None) -> None:
    """Train a byte-level BPE tokenizer on the training split of a data source (validation and test
    scripts never shape the vocabulary). Use it with --model.tokenizer=OUT.

    Args:
        out: Folder to save the tokenizer in.
        vocab_size: Vocabulary size, the end-of-text token included.
        data: The scripts and their split, as in ``fit`` (``--data.source=...``, ``--data.val_fraction=...``;
            ``lit-gpt2 fit --help`` describes them); default the embedded corpus.
    """
    texts = (data or Corpus()).training_texts()
    tokenizer = train_bpe_tokenizer(texts, vocab_size, out)
    print(f"Trained a {len(tokenizer):,}-token BPE tokenizer on {len(texts)} training scripts: {out}")
    print(f"Use it with: lit-gpt2 fit ... --model.tokenizer={out}")
