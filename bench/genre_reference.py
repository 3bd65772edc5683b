"""What ``val/genre_accuracy`` could reach: a word-count naive Bayes genre classifier on the same scenes.

The genre accuracy metric is a generative classifier (the genre whose code makes a script likeliest).
A naive Bayes over word counts is a simple and very data-efficient one; what it names
from a scene's words, and from which words it learned, is a reference for what a language model can
be expected to pick up from its codes. A model trained with codes sees each code only beside the
opening of its script (the rest falls in later blocks, without the code), so the table has both: a
classifier that learns from every word of its scenes, and one that learns from their openings only.

Leave-one-out over every scene of the source (each scene is named by a classifier counted on all the
others), which on a corpus of a few hundred scenes is far less noisy than its 10% validation split.

python -m bench.genre_reference [--source SOURCE] [--genre_column COLUMN] [--train_tokenizer 512]
    [--block_size 128] [--out FILE]
"""

import argparse
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from lit_gpt2.data.corpus import Corpus
from lit_gpt2.data.sources import load_scripts
from lit_gpt2.modeling import load_tokenizer

WORD = re.compile(r"[a-z']+")
# (words of each scene counted, words of the named scene read); None: all of them.
SETTINGS = [(40, 40), (None, 40), (None, 150), (None, None)]


def words(text: str) -> list[str]:
    """Lower-case words: what the classifier counts (layout, punctuation and case carry no genre here)."""
    return WORD.findall(text.lower())


def leave_one_out_accuracy(
    scenes: Sequence[tuple[str, list[str]]], learn_words: int | None, read_words: int | None, alpha: float = 0.1
) -> float:
    """Share of scenes whose genre a naive Bayes counted on all the other scenes names right.

    ``scenes``: (genre, words) pairs; the classifier counts the first ``learn_words`` words of each
    scene (None: all) and reads the first ``read_words`` of the scene it names. Add-``alpha``
    smoothing over the words the other scenes have; a uniform prior, as the codes have none; ties go to the
    first genre in sorted order.
    """
    genres = sorted({genre for genre, _ in scenes})
    counted = [Counter(scene_words[:learn_words]) for _, scene_words in scenes]
    totals = {genre: Counter() for genre in genres}
    for (genre, _), counts in zip(scenes, counted):
        totals[genre].update(counts)
    overall = sum(totals.values(), Counter())
    right = 0
    for (genre, scene_words), own in zip(scenes, counted):
        # Words no other scene has are out of the vocabulary: they say nothing of any genre, and
        # scored they would favour the scene's own genre, whose counts lack this scene's words.
        known = [word for word in scene_words[:read_words] if overall[word] > own[word]]
        vocabulary = len(overall) - sum(1 for word, count in own.items() if overall[word] == count)
        best, best_score = None, -math.inf
        for candidate in genres:
            counts = totals[candidate] - own if candidate == genre else totals[candidate]
            denominator = math.log(sum(counts.values()) + alpha * vocabulary)
            score = sum(math.log(counts[word] + alpha) - denominator for word in known)
            if score > best_score:
                best, best_score = candidate, score
        right += best == genre
    return right / len(scenes)


def words_per_block(source: str | None, genre_column: str | None, train_tokenizer: int, block_size: int) -> float:
    """Mean words in one ``block_size``-token block of the BPE the data module fits to the training
    scripts (cached): about as much of its script as a code shares a block with."""
    corpus = Corpus(source=source, genre_column=genre_column, train_tokenizer=train_tokenizer)
    tokenizer, texts = load_tokenizer(str(corpus.fitted_tokenizer())), list(corpus.training_texts())
    n_tokens = sum(len(ids) for ids in tokenizer(texts, verbose=False)["input_ids"])
    return block_size * sum(len(words(text)) for text in texts) / n_tokens


def report(
    source: str | None = None, genre_column: str | None = None, train_tokenizer: int = 0, block_size: int = 128
) -> str:
    """The markdown table: accuracy per setting, with chance (and, with ``train_tokenizer``, the
    words in one block of that tokenizer)."""
    # Genres as training reads them: the embedded corpus's or a source's folders, or genre_column.
    genres = Corpus(source=source, genre_column=genre_column, control="genre").genres
    table, _ = load_scripts(source, genre_column=genre_column)
    scenes = [(genre, words(text)) for genre, text in zip(genres, table["text"])]
    n_genres = len({genre for genre, _ in scenes})
    mean_words = sum(len(w) for _, w in scenes) / len(scenes)
    lines = [
        f"{len(scenes)} scenes, {n_genres} genres (chance {1 / n_genres:.3f}), {mean_words:.0f} words per scene on "
        "average; leave-one-out naive Bayes over lower-case word counts.",
    ]
    if train_tokenizer:
        per_block = words_per_block(source, genre_column, train_tokenizer, block_size)
        lines.append(
            f"One {block_size}-token block of the {train_tokenizer}-token BPE fitted to the training scenes "
            f"holds {per_block:.0f} words on average."
        )
    lines += [
        "",
        "| learns from each scene | reads of the scene it names | accuracy |",
        "|---|---|---|",
    ]
    for learn, read in SETTINGS:
        accuracy = leave_one_out_accuracy(scenes, learn, read)
        learn_text = "every word" if learn is None else f"its first {learn} words"
        read_text = "every word" if read is None else f"its first {read} words"
        lines.append(f"| {learn_text} | {read_text} | {accuracy:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=None, help="scripts with genres (default: the embedded corpus)")
    parser.add_argument("--genre_column", default=None, help="a table source's genre column")
    parser.add_argument("--train_tokenizer", type=int, default=512, help="BPE size for words per block (0: skip)")
    parser.add_argument("--block_size", type=int, default=128, help="tokens per block for words per block")
    parser.add_argument("--out", default=None, help="also write the table to this markdown file")
    args = parser.parse_args()
    text = report(args.source, args.genre_column, args.train_tokenizer, args.block_size)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
