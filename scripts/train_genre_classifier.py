"""Train a small local genre classifier, for ``compare --classifier`` and the sample callback offline.

Online, a hub text-classification model scores samples (docs/decoding-strategies.md); offline there is
none, so this fits a tiny sequence classifier from scratch to the training scripts of a source with genres (default:
the embedded corpus), cut into windows of ``--window`` tokens, each labelled with its script's genre.
The model is one transformer layer whose outputs are averaged over the window (XLM's ``mean`` summary):
near a bag of words, which is what learns most from little data (a GPT-2 classifier, which reads only
its last position, learned less here).
It prints its accuracy on the validation scripts' windows and saves a folder that
``transformers.pipeline("text-classification", model=OUT)`` loads. From a few hundred scenes it is a
weak classifier: read its labels beside that accuracy.

    python scripts/train_genre_classifier.py --out genre-classifier
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm import tqdm
from transformers import PreTrainedTokenizerBase, XLMConfig, XLMForSequenceClassification

from lit_gpt2.data.corpus import Corpus
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling import load_tokenizer


def windows(
    scripts: Sequence[tuple[str, str]], tokenizer: PreTrainedTokenizerBase, labels: Sequence[str], window: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every whole ``window``-token piece of each script, and its script's genre index: (ids, labels)."""
    pieces, targets = [], []
    for genre, text in scripts:
        ids = tokenizer(text, verbose=False)["input_ids"]
        for start in range(0, len(ids) - window + 1, window):
            pieces.append(ids[start : start + window])
            targets.append(labels.index(genre))
    return torch.tensor(pieces, dtype=torch.long).view(-1, window), torch.tensor(targets, dtype=torch.long)


def accuracy(model: XLMForSequenceClassification, ids: torch.Tensor, targets: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        guesses = torch.cat([model(input_ids=batch).logits.argmax(-1) for batch in ids.split(64)])
    model.train()
    return (guesses == targets).float().mean().item()


def train_classifier(
    corpus: Corpus,
    tokenizer: PreTrainedTokenizerBase,
    window: int = 128,
    epochs: int = 6,
    batch_size: int = 16,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> tuple[XLMForSequenceClassification, float]:
    """The classifier, trained on ``corpus``'s training scripts, and its accuracy on the validation
    scripts' windows (chance: 1 / genres)."""
    if epochs < 1:
        raise UserInputError(f"--epochs={epochs} must be at least 1")
    torch.manual_seed(seed)
    labels = corpus.codes
    train_ids, train_targets = windows(corpus.training_scripts(), tokenizer, labels, window)
    val_ids, val_targets = windows(corpus.validation_scripts(), tokenizer, labels, window)
    for split, ids in (("training", train_ids), ("validation", val_ids)):
        if len(ids) == 0:
            raise UserInputError(f"no {split} script is {window} tokens long: lower --window")
    config = XLMConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=window,
        emb_dim=128,
        n_layers=1,
        n_heads=4,
        causal=False,
        summary_type="mean",
        pad_index=tokenizer.pad_token_id,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = XLMForSequenceClassification(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.1)
    for epoch in range(epochs):
        order = torch.randperm(len(train_ids))
        for batch in tqdm(order.split(batch_size), desc=f"epoch {epoch + 1}/{epochs}", leave=False):
            loss = model(input_ids=train_ids[batch], labels=train_targets[batch]).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        val_accuracy = accuracy(model, val_ids, val_targets)
        print(f"epoch {epoch + 1}: validation accuracy {val_accuracy:.3f}")
    return model, val_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the folder to save the classifier in")
    parser.add_argument("--source", default=None, help="scripts with genres (default: the embedded corpus)")
    parser.add_argument("--genre_column", default=None, help="a table source's genre column")
    parser.add_argument("--train_tokenizer", type=int, default=2048, help="BPE size fitted to the training scripts")
    parser.add_argument("--window", type=int, default=128, help="tokens per training window")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    corpus = Corpus(
        source=args.source, genre_column=args.genre_column, control="genre", train_tokenizer=args.train_tokenizer
    )
    tokenizer = load_tokenizer(str(corpus.fitted_tokenizer()))
    try:
        model, val_accuracy = train_classifier(corpus, tokenizer, args.window, args.epochs)
    except UserInputError as error:
        raise SystemExit(f"error: {error}") from None
    tokenizer.model_max_length = args.window  # the pipeline's truncation=True cuts longer texts to fit
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    chance = 1 / len(corpus.codes)
    print(f"Saved in {args.out}: validation accuracy {val_accuracy:.3f} (chance {chance:.3f})")


if __name__ == "__main__":
    main()
