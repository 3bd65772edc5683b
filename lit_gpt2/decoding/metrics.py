"""Generation metrics as pure functions on token-id sequences.

Definitions follow ``docs/generation-metrics.md``: every metric is computed on the model's own token
ids (GPT-2's BPE, or the vocabulary fitted by ``data.train_tokenizer``; one list per generated
continuation, end-of-text removed), at corpus level over all samples of one strategy unless its
docstring says otherwise.
"""

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sacrebleu.metrics import BLEU

from lit_gpt2.decoding.structure import mean_structure_score

Sample = Sequence[int]


def _ngrams(tokens: Sample, n: int) -> list[tuple[int, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(samples: Sequence[Sample], n: int) -> float:
    """Li et al. 2016: unique n-grams over all samples divided by the total number of generated tokens."""
    total = sum(len(s) for s in samples)
    unique = {gram for s in samples for gram in _ngrams(s, n)}
    return len(unique) / total if total else 0.0


def seq_rep_n(samples: Sequence[Sample], n: int) -> float:
    """Welleck et al. 2020: per continuation 1 - unique n-grams / n-grams, averaged over continuations.

    Continuations shorter than n have no n-grams and are left out of the average.
    """
    values = [1 - len(set(grams)) / len(grams) for grams in (_ngrams(s, n) for s in samples) if grams]
    return float(np.mean(values)) if values else 0.0


def rep_n(samples: Sequence[Sample], n: int) -> float:
    """Su et al. 2022: 100 * (1 - sum of per-text unique n-grams / sum of per-text n-grams)."""
    per_text = [_ngrams(s, n) for s in samples]
    total = sum(len(grams) for grams in per_text)
    unique = sum(len(set(grams)) for grams in per_text)
    return 100 * (1 - unique / total) if total else 0.0


def diversity(samples: Sequence[Sample]) -> float:
    """Su et al. 2022: product over n = 2, 3, 4 of (1 - rep-n / 100)."""
    return math.prod(1 - rep_n(samples, n) / 100 for n in (2, 3, 4))


def self_bleu4(samples: Sequence[Sample]) -> float:
    """Zhu et al. 2018: mean BLEU-4 of each sample against all the others as references (lower = more diverse).

    sacrebleu's counts with uniform weights, closest-reference brevity penalty and "floor" smoothing
    at 0.1, which is NLTK's method1 (a zero n-gram match count becomes 0.1). Scaled to [0, 1]. As in
    NLTK, a sample too short to hold an n-gram of some order counts that order as 0.1 of one n-gram;
    sacrebleu alone would score it 0 even against an identical sample.
    """
    texts = [" ".join(map(str, s)) for s in samples]
    if len(texts) < 2:
        return float("nan")
    bleu = BLEU(tokenize="none", max_ngram_order=4)
    scores = []
    for i, hyp in enumerate(texts):
        counts = bleu.corpus_score([hyp], [[ref] for ref in texts[:i] + texts[i + 1 :]])
        totals = [max(1, total) for total in counts.totals]
        smoothed = BLEU.compute_bleu(counts.counts, totals, counts.sys_len, counts.ref_len, "floor", 0.1)
        scores.append(smoothed.score / 100)
    return float(np.mean(scores))


def ends_in_loop(sample: Sample, min_length: int = 2, min_repeats: int = 3, eos_token_id: int | None = None) -> bool:
    """Holtzman et al. 2020: a phrase of at least ``min_length`` tokens repeated at least ``min_repeats``
    times back to back at the very end (a trailing end-of-text is dropped first)."""
    tokens = list(sample)
    while tokens and eos_token_id is not None and tokens[-1] == eos_token_id:
        tokens.pop()
    for length in range(min_length, len(tokens) // min_repeats + 1):
        tail = tokens[len(tokens) - length * min_repeats :]
        if all(tail[i] == tail[i % length] for i in range(len(tail))):
            return True
    return False


def repetition_rate(samples: Sequence[Sample], min_length: int = 2, min_repeats: int = 3) -> float:
    """Percentage of samples that end in a loop (see ``ends_in_loop``)."""
    if not samples:
        return 0.0
    return 100 * sum(ends_in_loop(s, min_length, min_repeats) for s in samples) / len(samples)


def zipf_coefficient(samples: Sequence[Sample], top: int = 5000) -> float:
    """Holtzman et al. 2020: minus the least-squares slope of log frequency on log rank (top token types)."""
    counts = sorted(Counter(t for s in samples for t in s).values(), reverse=True)[:top]
    if len(counts) < 2:
        return float("nan")
    ranks = np.arange(1, len(counts) + 1)
    slope = np.polyfit(np.log(ranks), np.log(counts), 1)[0]
    return float(-slope)


def perplexity(nll_sum: float, n_tokens: int) -> float:
    """Token-weighted: exp of the mean NLL over every generated token of every sample."""
    return math.exp(nll_sum / n_tokens) if n_tokens else float("nan")


def strategy_metrics(
    samples: Sequence[Sample], nll_sum: float, seconds: float, prompts: Sequence[str], texts: Sequence[str]
) -> dict[str, float]:
    """Every metric the sample callback and the compare report show, for one strategy's samples
    (``texts``: the decoded continuations of ``prompts``, for the structure score)."""
    n_tokens = sum(len(s) for s in samples)
    metrics = {f"distinct_{n}": distinct_n(samples, n) for n in (1, 2, 3)}
    metrics |= {f"rep_{n}": rep_n(samples, n) for n in (2, 3, 4)}
    metrics["seq_rep_4"] = seq_rep_n(samples, 4)  # Welleck et al. report n = 4
    metrics |= {
        "diversity": diversity(samples),
        "self_bleu4": self_bleu4(samples),
        "repetition_rate": repetition_rate(samples),
        "zipf": zipf_coefficient(samples),
        "mean_length": n_tokens / len(samples) if samples else 0.0,
        "perplexity": perplexity(nll_sum, n_tokens),
        "tokens_per_second": n_tokens / seconds if seconds > 0 else float("nan"),
        "structure": mean_structure_score(prompts, texts),
    }
    return metrics
