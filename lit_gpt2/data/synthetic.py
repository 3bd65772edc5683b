"""Text on which an induction head forms in minutes on a CPU (docs/head-scores.md, "Watching one form").

Each document is a run of made-up words drawn at random, then the same run again. The first copy
cannot be predicted; the second can, word for word, by a head that looks at the word that followed
the current word's earlier occurrence: an induction head. Runs vary in length and blocks cut
documents anywhere, so no position-based shortcut predicts the copy. Many distinct words (hundreds)
keep accidental repeats inside a run rare, which would make "the earlier occurrence" ambiguous.
"""

import random
from collections.abc import Iterator

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"


def made_up_words(count: int, seed: int = 0) -> list[str]:
    """``count`` distinct pronounceable two-syllable words ("bako", "tumi"), in a seeded order."""
    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    words = [a + b for a in syllables for b in syllables]
    if not 1 <= count <= len(words):
        raise ValueError(f"count={count} must be from 1 to {len(words)}")
    random.Random(seed).shuffle(words)
    return words[:count]


def repeated_runs(
    documents: int, vocabulary: int = 512, min_length: int = 8, max_length: int = 32, seed: int = 0
) -> Iterator[str]:
    """``documents`` texts, each a run of ``min_length`` to ``max_length`` random words said twice."""
    if not 1 <= min_length <= max_length:
        raise ValueError(f"run lengths {min_length}..{max_length}: need 1 <= min_length <= max_length")
    words = made_up_words(vocabulary, seed)
    rng = random.Random(seed + 1)
    for _ in range(documents):
        run = rng.choices(words, k=rng.randint(min_length, max_length))
        yield " ".join(run + run)
