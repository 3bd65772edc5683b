"""``lit-gpt2 train-tokenizer``: a byte-level BPE vocabulary fitted to the training scripts."""

from jsonargparse import ArgumentParser

from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.modeling.bpe import train_bpe_tokenizer


def train_tokenizer_command(argv: list[str]) -> None:
    parser = ArgumentParser(
        prog="lit-gpt2 train-tokenizer",
        description="Train a byte-level BPE tokenizer on the training split of a data source "
        "(validation scripts never shape the vocabulary). Use it with --model.tokenizer=OUT.",
    )
    parser.add_argument("--out", type=str, required=True, help="Directory to save the tokenizer in.")
    parser.add_argument("--vocab_size", type=int, default=4096, help="Vocabulary size, special token included.")
    parser.add_class_arguments(MovieScriptsDataModule, "data", skip={"tokenizer"})
    cfg = parser.parse_args(argv)
    texts = MovieScriptsDataModule(**cfg.data.as_dict()).training_texts()
    tokenizer = train_bpe_tokenizer(texts, cfg.vocab_size, cfg.out)
    print(f"Trained a {len(tokenizer):,}-token BPE tokenizer on {len(texts)} training scripts: {cfg.out}")
    print(f"Use it with: lit-gpt2 fit ... --model.tokenizer={cfg.out}")
