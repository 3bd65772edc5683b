"""``lit-gpt2 perplexity``: sliding-window perplexity and bits per byte of a model over a whole corpus,
as the GPT-2 paper reports it (docs/strided-perplexity.md)."""

import json
from pathlib import Path
from typing import Literal

import torch
from rich.progress import Progress
from transformers import PreTrainedTokenizerBase

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.data.sources import load_scripts, text_files
from lit_gpt2.errors import UserInputError
from lit_gpt2.evaluation.bits_per_byte import bits_per_byte, token_byte_lengths
from lit_gpt2.evaluation.perplexity import strided_nll, strided_windows


def perplexity_command(
    model: str,
    data: str | None = None,
    stride: int | None = None,
    context: int | None = None,
    separator: Literal["eos", "blank_line"] = "eos",
    normalize: bool | None = None,
    hub_split: str = "test",
    hub_config: str | None = None,
    text_column: str = "text",
    batch_size: int = 4,
    device: str | None = None,
    out: str | None = None,
) -> None:
    """Strided (sliding-window) perplexity and bits per byte of a model over every document of a corpus.

    Args:
        model: The model: a .ckpt, an exported folder, or a hub name.
        data: The corpus, any source the data module takes: a folder or glob of .txt files, a
            CSV/JSONL/Parquet file, or (online) a Hugging Face dataset name; default: the embedded corpus.
        stride: Tokens each window advances; each token is scored with at least ``context - stride``
            tokens before it (once past the first window). Equal to the context: disjoint blocks.
            Default: half the context (512 for GPT-2's 1,024).
        context: Window length in tokens; default: the model's context (1,024 for GPT-2).
        separator: How documents are joined into one stream: ``eos`` (each followed by <|endoftext|>, as
            the data module packs scripts) or ``blank_line`` (each followed by one blank line: for
            datasets whose rows are paragraphs of running text, such as WikiText).
        normalize: Screenplay normalisation, as the data module does it; default: on for .txt files
            (screenplays), off for tables and hub datasets (WikiText must be scored as published).
        hub_split: The split of a hub dataset.
        hub_config: The configuration of a hub dataset that has several (e.g. wikitext-2-raw-v1).
        text_column: The text column of a table or hub dataset.
        batch_size: Windows read at once.
        device: Where the model runs; default: cuda when available, else cpu.
        out: Optional JSON file for the results.
    """
    if batch_size < 1:
        raise UserInputError(f"--batch_size={batch_size} must be at least 1")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    loaded, tokenizer = load_model_and_tokenizer(model, map_location=device)
    context = context or loaded.config.n_positions
    if not 2 <= context <= loaded.config.n_positions:
        raise UserInputError(f"--context={context} must be between 2 and the model's {loaded.config.n_positions}")
    stride = context // 2 if stride is None else stride
    if not 1 <= stride <= context:
        raise UserInputError(
            f"--stride={stride} must be between 1 and the context of {context} tokens (e.g. {context // 2})"
        )
    if normalize is None:
        normalize = text_files(data) is not None  # .txt screenplays (the data module's own test), not tables
    texts = load_scripts(data, text_column=text_column, hub_split=hub_split, hub_config=hub_config)[0]["text"]
    if normalize:
        texts = [normalise_screenplay(text) for text in texts]
    ids = corpus_token_ids(texts, tokenizer, separator)
    if len(ids) < 2:
        raise UserInputError(f"--data={data!r} holds fewer than two tokens: nothing to predict")
    n_windows = len(strided_windows(len(ids), context, stride))
    with Progress(transient=True) as progress:
        task = progress.add_task(f"{n_windows} windows of {context} tokens", total=n_windows)
        result = strided_nll(loaded, ids, context, stride, batch_size, lambda n: progress.advance(task, n))
    n_bytes = int(token_byte_lengths(tokenizer)[ids][result.predicted].sum())
    report = {
        "model": model,
        "data": data or "the embedded corpus",
        "context": context,
        "stride": stride,
        "separator": separator,
        "normalize": normalize,
        "documents": len(texts),
        "tokens": len(ids),
        "predicted_tokens": result.n_predicted,
        "predicted_bytes": n_bytes,
        "windows": result.n_windows,
        "nll_nats": result.nll_sum,
        "ppl": result.perplexity,
        "bpb": bits_per_byte(result.nll_sum, n_bytes) if n_bytes else None,
    }
    bpb = f"{report['bpb']:.4f}" if n_bytes else "n/a (no text bytes)"
    print(f"perplexity {report['ppl']:.3f}  bits per byte {bpb}")
    print(
        f"{result.n_predicted:,} of {len(ids):,} tokens scored in {result.n_windows:,} windows of {context} "
        f"tokens, stride {stride} ({len(texts):,} documents)"
    )
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(report, indent=2), encoding="utf-8")
        print(f"Wrote {out}")


def corpus_token_ids(
    texts: list[str], tokenizer: PreTrainedTokenizerBase, separator: Literal["eos", "blank_line"]
) -> torch.Tensor:
    """The corpus as one token stream: each document tokenized alone and followed by end-of-text (the
    data module's packing), or the documents joined as text, each followed by one blank line."""
    if separator == "blank_line":
        text = "".join(t.rstrip("\n") + "\n\n" for t in texts)
        return torch.tensor(tokenizer(text, verbose=False)["input_ids"], dtype=torch.long)
    stream = []
    for ids in tokenizer(list(texts), verbose=False)["input_ids"]:
        stream += [*ids, tokenizer.eos_token_id]
    return torch.tensor(stream, dtype=torch.long)
