"""Charts for TensorBoard and reports (matplotlib, Agg): drawing only, from plain data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from lit_gpt2.decoding.distribution import NextTokenDistribution


def next_token_chart(dist: NextTokenDistribution) -> Figure:
    """Probability of the most likely next tokens at each temperature, with the top-k and top-p cut-offs."""
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    ranks = range(1, len(dist.tokens) + 1)
    for temperature, probs in dist.probabilities.items():
        kept = dist.nucleus_size[temperature]
        label = f"T={temperature} (top-p={dist.top_p} keeps {kept:,} tokens)"
        ax.plot(ranks, probs, marker="o", markersize=3, label=label)
    ax.axvline(dist.top_k + 0.5, color="black", linestyle="--", linewidth=1)
    ax.text(dist.top_k + 0.7, ax.get_ylim()[1] * 0.92, f"top-k={dist.top_k}", fontsize=8)
    for temperature, size in dist.nucleus_size.items():
        if size <= len(dist.tokens):
            ax.axvline(size + 0.5, color="grey", linestyle=":", linewidth=1)
            ax.text(size + 0.7, ax.get_ylim()[1] * 0.8, f"top-p={dist.top_p} @T={temperature}", fontsize=7, rotation=90)
    ax.set_xticks(list(ranks), [repr(t)[1:-1] for t in dist.tokens], rotation=70, fontsize=7)
    ax.set_ylabel("probability")
    ax.set_title(f"Next token after {dist.prompt[-60:]!r}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def metric_bars(metric: str, values: dict[str, float], baseline: dict[str, float] | None = None) -> Figure:
    """One metric per strategy as horizontal bars; a second model's values side by side when given."""
    names = list(values)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.2), layout="constrained")
    height = 0.4 if baseline else 0.8
    positions = range(len(names))
    ax.barh([p + (height / 2 if baseline else 0) for p in positions], list(values.values()), height, label="model")
    if baseline:
        base = [baseline.get(n, float("nan")) for n in names]
        ax.barh([p - height / 2 for p in positions], base, height, label="baseline")
        ax.legend(fontsize=8)
    ax.set_yticks(list(positions), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(metric)
    return fig
