"""Train/validation/test split by whole script, so no scene of a held-out script is ever trained on; or,
when a source holds too few documents for that (one text file), by position in its text."""

from dataclasses import dataclass

import numpy as np

from lit_gpt2.errors import UserInputError


def split_by_script(
    n_scripts: int, val_fraction: float, seed: int, test_fraction: float = 0.0
) -> tuple[list[int], list[int], list[int]]:
    """Deterministic (by ``seed``) disjoint train, validation and test script indices covering every script.

    Validation gets ``round(n * val_fraction)`` scripts, test ``round(n * test_fraction)`` (none when
    ``test_fraction`` is 0), each at least one, and training keeps at least one. Validation is drawn
    first, so adding a test split leaves the validation scripts of a seed unchanged.
    """
    check_fractions(val_fraction, test_fraction)
    sides = 3 if test_fraction else 2
    if n_scripts < sides:
        raise UserInputError(
            f"the corpus has {n_scripts} script(s); train, validation{' and test' if test_fraction else ''} "
            f"splits need at least {sides}: add scripts (one screenplay per .txt file, or one per row)"
            + (", or set data.test_fraction=0" if test_fraction else "")
        )
    n_val = min(n_scripts - sides + 1, max(1, round(n_scripts * val_fraction)))
    n_test = min(n_scripts - n_val - 1, max(1, round(n_scripts * test_fraction))) if test_fraction else 0
    order = np.random.default_rng(seed).permutation(n_scripts)
    val, test, train = order[:n_val], order[n_val : n_val + n_test], order[n_val + n_test :]
    return sorted(train.tolist()), sorted(val.tolist()), sorted(test.tolist())


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Refuse held-out fractions that leave nothing to validate on or nothing to train on, in one line."""
    if not 0.0 < val_fraction < 1.0:
        raise UserInputError(f"data.val_fraction={val_fraction} must be between 0 and 1 (e.g. 0.1)")
    if not 0.0 <= test_fraction < 1.0 or val_fraction + test_fraction >= 1.0:
        raise UserInputError(
            f"data.test_fraction={test_fraction} must be in [0, 1) and leave scripts for training "
            f"beside data.val_fraction={val_fraction} (e.g. 0.1; 0 for no test split)"
        )


def too_few_to_split_by_script(n_documents: int, test_fraction: float) -> bool:
    """Whether a source holds fewer documents than ``split_by_script`` needs (one per split): it is then
    split by position (``split_by_position``), as nanoGPT and ``run_clm.py`` split one text file."""
    return n_documents < (3 if test_fraction else 2)


@dataclass(frozen=True)
class Piece:
    """A run of one document's text that goes to one split (0 train, 1 validation, 2 test)."""

    document: int
    text: str
    split: int


def split_by_position(texts: list[str], val_fraction: float, test_fraction: float = 0.0) -> list[Piece]:
    """Cut the documents, read one after the other, into training text, then test, then validation.

    Validation is the last ``val_fraction`` of the characters, test the ``test_fraction`` just before
    it, training the rest: the same text in the same order, never overlapping. Each cut moves forward
    to the next line break (or stays where it is if there is none), so no line is split between two
    splits. Character shares stand for token shares (the tokens follow the text); the start-up lines
    give the tokens each split got.
    """
    check_fractions(val_fraction, test_fraction)
    total = sum(map(len, texts))
    val_start = total - round(total * val_fraction)
    test_start = val_start - round(total * test_fraction)
    joined = "".join(texts)
    cuts = [_next_line_start(joined, test_start), _next_line_start(joined, val_start)]
    bounds = [0, *cuts, total]
    pieces, offset = [], 0
    for document, text in enumerate(texts):
        start, end = offset, offset + len(text)
        for segment, split in enumerate((0, 2, 1)):  # train, test, validation, in the text's order
            low, high = max(start, bounds[segment]), min(end, bounds[segment + 1])
            if low < high:
                pieces.append(Piece(document, text[low - start : high - start], split))
        offset = end
    return pieces


def _next_line_start(text: str, position: int) -> int:
    """The start of the line at or after ``position``; ``position`` itself if no line break follows."""
    if position <= 0 or position >= len(text) or text[position - 1] == "\n":
        return max(0, min(position, len(text)))
    newline = text.find("\n", position)
    return position if newline < 0 else newline + 1
