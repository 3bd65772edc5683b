"""``lit-gpt2 repeated-text``: the synthetic corpus of configs/induction.yaml, where an induction head forms."""

import json
from pathlib import Path

from rich.progress import track

from lit_gpt2.data.synthetic import repeated_runs
from lit_gpt2.errors import UserInputError


def repeated_text_command(
    out: str = "data/repeated-runs.jsonl",
    documents: int = 400_000,
    vocabulary: int = 512,
    min_length: int = 8,
    max_length: int = 32,
    seed: int = 0,
) -> None:
    """Write documents that each say a run of random made-up words twice, as JSON lines with a "text"
    field: the data of configs/induction.yaml (docs/head-scores.md, "Watching one form").

    Args:
        out: The .jsonl file to write (its folder is created).
        documents: How many documents.
        vocabulary: Distinct made-up words (at most 4,900); hundreds keep repeats inside a run rare.
        min_length: Fewest words in a run.
        max_length: Most words in a run.
        seed: Seed of the words and the runs: the same seed writes the same file.
    """
    if documents < 1:
        raise UserInputError(f"documents={documents} must be at least 1")
    try:
        runs = repeated_runs(documents, vocabulary, min_length, max_length, seed)
        first = next(runs)
    except ValueError as err:
        raise UserInputError(f"repeated-text: {err}") from None
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as file:
        file.write(json.dumps({"text": first}) + "\n")
        for text in track(runs, total=documents - 1, description="Writing runs"):
            file.write(json.dumps({"text": text}) + "\n")
    print(f"Wrote {documents:,} documents to {path}. Train on them: lit-gpt2 fit --config configs/induction.yaml")
