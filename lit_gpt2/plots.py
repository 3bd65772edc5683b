"""Charts for TensorBoard and reports (matplotlib): drawing only, from plain data.

Figures are built as ``matplotlib.figure.Figure`` objects, never through pyplot: importing this module
leaves the user's backend alone (a notebook keeps its own), ``savefig`` renders them with the Agg canvas
whatever that backend is, and nothing registers them anywhere, so they are garbage-collected like any
object (there is nothing to close).
"""

import functools
from collections.abc import Sequence
from typing import Any, cast

import matplotlib
import numpy as np
import torch
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import ListedColormap, PowerNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from lit_gpt2.decoding.distribution import NextTokenDistribution


def figure_to_array(fig: Figure) -> np.ndarray:
    """The figure drawn by the Agg canvas at its own dpi, as an (H, W, 3) uint8 RGB array.

    What TensorBoard's ``add_figure`` logs, without its ``plt.close``, which imports pyplot for figures
    pyplot never knew: log the array with ``add_image(tag, array, step, dataformats="HWC")``.
    """
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()  # a copy: the renderer reuses its buffer


def data_text(ax: Axes, x: float, y: float, text: str, **style: Any) -> Text:
    """``ax.text`` without its clip path: each ``ax.text`` builds transforms to clip to the axes patch
    (about a seventh of an attention round's drawing, with ~100 token labels); a text placed at data
    coordinates on the figure draws the same pixels (it is never clipped: draw only inside the axes or
    beside them)."""
    figure = cast(Figure, ax.get_figure())
    return figure.text(x, y, text, transform=ax.transData, **style)


def next_token_chart(dist: NextTokenDistribution) -> Figure:
    """Probability of the most likely next tokens at each temperature, with the top-k and top-p cut-offs."""
    # Fixed margins instead of "constrained": solving the layout for the rotated labels took half the time.
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_axes((0.07, 0.23, 0.91, 0.7))
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
            ax.text(
                size + 0.7,
                ax.get_ylim()[1] * 0.97,
                f"top-p={dist.top_p} @T={temperature}",
                fontsize=7,
                rotation=90,
                va="top",  # downwards from inside the axes, clear of the title
            )
    ax.set_xticks(list(ranks), [repr(t)[1:-1] for t in dist.tokens], rotation=70, fontsize=7)
    ax.set_ylabel("probability")
    ax.set_title(f"Next token after {dist.prompt[-60:]!r}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def metric_bars(metric: str, values: dict[str, float], baseline: dict[str, float] | None = None) -> Figure:
    """One metric per strategy as horizontal bars; a second model's values side by side when given."""
    names = list(values)
    fig = Figure(figsize=(7, 0.35 * len(names) + 1.2), layout="constrained")
    ax = fig.subplots()
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


def scalar_curves(
    curves: dict[str, list[tuple[int, float]]], ylabel: str, reference: tuple[float, str] | None = None
) -> Figure:
    """Logged scalars against the optimizer step, one line per run or tag (``{name: [(step, value)]}``),
    with an optional horizontal reference line ``(value, label)`` such as chance."""
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.subplots()
    for name, points in curves.items():
        steps, values = zip(*points) if points else ((), ())
        ax.plot(steps, values, marker="o", markersize=3, label=name)
    if reference is not None:
        ax.axhline(reference[0], color="grey", linestyle="--", linewidth=1, label=reference[1])
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return fig


def _palette(name: str) -> list:
    """The colours of a listed colour map (tab10, tab20): a sequence of RGB tuples."""
    # Typed loosely by matplotlib: the registry as the base Colormap, ListedColormap.colors as any array.
    colormap = cast(ListedColormap, matplotlib.colormaps[name])
    return list(cast(Sequence[Any], colormap.colors))


def distinct_colours(n: int) -> list:
    """``n`` colours, no two alike: matplotlib's default cycle repeats after 10, so 13 genres would
    share colours; tab20 holds 20, and more are spread over a continuous map."""
    if n <= 10:
        return _palette("tab10")[:n]
    if n <= 20:
        return _palette("tab20")[:n]
    return list(matplotlib.colormaps["turbo"](np.linspace(0, 1, n)))


def label_share_bars(shares: dict[str, dict[str, float]], title: str) -> Figure:
    """A classifier's label shares per row (a strategy, or model and strategy) as stacked horizontal bars.

    ``shares`` maps each row name to ``{label: share}``; every row should hold the same labels. A row
    whose shares are all 0 (its samples were all empty) says so instead of standing blank.
    """
    rows = list(shares)
    labels = list(next(iter(shares.values()), {}))
    fig = Figure(figsize=(7, 0.35 * len(rows) + 1.6), layout="constrained")
    ax = fig.subplots()
    left = np.zeros(len(rows))
    for label, colour in zip(labels, distinct_colours(len(labels))):
        widths = np.array([shares[row].get(label, 0.0) for row in rows])
        ax.barh(range(len(rows)), widths, left=left, label=label, color=colour)
        left += widths
    for position in np.flatnonzero(left == 0):  # only empty samples (classify_texts skips them)
        ax.text(0.01, float(position), "no text to classify", va="center", fontsize=7, color="grey")
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of samples")
    ax.set_title(title, fontsize=9)
    fig.legend(fontsize=8, ncols=min(len(labels), 4) or 1, loc="outside lower center")
    return fig


# Perceptually uniform, so equal steps in attention read as equal steps in colour.
ATTENTION_CMAP = "viridis"


def attention_grid(attentions: Sequence[torch.Tensor], example: int = 0) -> Figure:
    """Layers x heads of small heatmaps for one probe text (rows queries, columns keys).

    Drawn as one mosaic image rather than layers x heads subplots: a 12 x 12 grid renders in a
    fraction of a second and stays readable.
    """
    layers, heads = len(attentions), attentions[0].shape[1]
    length = attentions[0].shape[-1]
    gap = max(1, length // 12)
    cell = length + gap
    mosaic = np.full((layers * cell - gap, heads * cell - gap), np.nan)
    future = np.triu(np.ones((length, length), dtype=bool), k=1)
    for layer, attention in enumerate(attentions):
        for head in range(heads):
            top, left = layer * cell, head * cell
            # Future positions (j > i) are NaN, drawn white: "cannot attend", unlike a learned zero.
            weights = attention[example, head].numpy()
            mosaic[top : top + length, left : left + length] = np.where(future, np.nan, weights)
    side = min(14.0, max(6.0, 0.9 * max(layers, heads)))
    fig = Figure(figsize=(side, side * layers / heads + 0.6), layout="constrained")
    ax = fig.subplots()
    cmap = matplotlib.colormaps[ATTENTION_CMAP].with_extremes(bad="white")
    # Square-root colour scale: spread-out heads (weights of a few percent) stay visible next to sinks.
    ax.imshow(mosaic, cmap=cmap, norm=PowerNorm(0.5, vmin=0.0, vmax=1.0), interpolation="nearest")
    centres = [i * cell + length / 2 for i in range(max(layers, heads))]
    ax.set_xticks(centres[:heads], [f"h{h}" for h in range(heads)], fontsize=8)
    ax.set_yticks(centres[:layers], [f"L{layer}" for layer in range(layers)], fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(
        "attention: layers (rows) x heads (columns)\nin each cell rows are queries, columns keys; sqrt scale",
        fontsize=9,
    )
    return fig


HEATMAP_DPI = 90
HEATMAP_AXES = (0.18, 0.18, 0.68, 0.72)  # the map's place in its figure: the labels' layer needs the same


def attention_heatmap(weights, tokens: list[str], title: str) -> Figure:
    """One (T, T) map with the tokens on both axes: rows are the query, columns the key attended to."""
    return AttentionHeatmapChart(tokens).show(weights, title)


class AttentionHeatmapChart:
    """``attention_heatmap``'s figure for one token sequence, kept and redrawn with new weights: a
    callback draws the same probe's maps every round, and the frame (axes, labels, colour bar) is a
    third of a map's drawing."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.length = len(tokens)
        side = _heatmap_side(self.length)
        # A fixed layout instead of "constrained": solving the layout for ~150 tick labels costs seconds.
        self.figure = Figure(figsize=(side, side), dpi=HEATMAP_DPI)
        self._ax = self.figure.add_axes(HEATMAP_AXES)
        bar = self.figure.add_axes((0.88, 0.18, 0.025, 0.72))
        self._image = self._ax.imshow(np.zeros((self.length, self.length)), cmap=ATTENTION_CMAP, vmin=0.0, vmax=1.0)
        self._ax.set_xticks([])
        self._ax.set_yticks([])
        # Every heatmap of a probe has the same labels (a callback round draws three, every round the same):
        # drawn once, then laid over each map as pixels, the same pixels at a third of the drawing time.
        self.figure.add_artist(PixelLayer(_token_labels_layer(tuple(tokens))))
        self._ax.set_xlabel("key (attended to)", labelpad=60)
        self._ax.set_ylabel("query", labelpad=60)
        self.figure.colorbar(self._image, cax=bar)

    def show(self, weights, title: str) -> Figure:
        """The figure with these (T, T) or larger weights (the last T rows and columns: no left padding)."""
        weights = np.asarray(weights)[-self.length :, -self.length :]
        self._image.set_data(weights)
        self._image.set_clim(0.0, float(weights.max()) or 1.0)  # the colour bar follows
        self._ax.set_title(title, fontsize=10)
        return self.figure


class PixelLayer(Artist):
    """An RGBA image the size of the canvas, laid over the figure pixel for pixel as it is drawn.

    ``fig.figimage`` does the same through matplotlib's general image path (to floats, resampled at
    1:1, masked, back to bytes), which took almost half of a heatmap's drawing. The pixels are the same
    (the heatmaps' black labels), or one level apart where coloured edges are partly transparent.
    """

    zorder = 0.5  # after the axes (with all they hold), before the figure's own texts: where figimage's go

    def __init__(self, rgba: np.ndarray) -> None:
        super().__init__()
        self.rgba = rgba  # rows top first, as a canvas buffer holds them

    def draw(self, renderer: RendererBase) -> None:
        gc = renderer.new_gc()
        renderer.draw_image(gc, 0, 0, self.rgba[::-1])  # the renderer places rows from the bottom up
        gc.restore()


def _heatmap_side(length: int) -> float:
    return min(10.0, max(5.0, 0.12 * length + 2.5))


def draw_token_labels(ax: Axes, tokens: Sequence[str]) -> None:
    """Each token under its column and left of its row, newlines and tabs written as escapes. Plain text
    artists: matplotlib's tick machinery would cost seconds for ~150 labels."""
    length = len(tokens)
    fontsize = 7 if length <= 48 else 5
    for i, token in enumerate(repr(t)[1:-1] for t in tokens):
        data_text(ax, i, length - 0.3, token, rotation=90, ha="center", va="top", fontsize=fontsize)
        data_text(ax, -0.8, i, token, ha="right", va="center", fontsize=fontsize)


@functools.lru_cache(maxsize=8)
def _token_labels_layer(tokens: tuple[str, ...]) -> np.ndarray:
    """The token labels of an ``attention_heatmap`` alone, on a transparent canvas of the heatmap's size
    (RGBA): the same axes, data limits and aspect, so each label lands where it would be drawn."""
    length = len(tokens)
    side = _heatmap_side(length)
    fig = Figure(figsize=(side, side), dpi=HEATMAP_DPI)
    fig.patch.set_alpha(0)
    ax = fig.add_axes(HEATMAP_AXES)
    ax.imshow(np.zeros((length, length)), alpha=0)  # sets the limits and aspect the heatmap's image sets
    ax.axis("off")
    draw_token_labels(ax, tokens)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    layer = np.asarray(canvas.buffer_rgba()).copy()
    layer.setflags(write=False)  # shared by every heatmap of these tokens
    return layer


def confusion_chart(counts, labels: list[str], title: str, xlabel: str = "guessed", ylabel: str = "true") -> Figure:
    """Counts of (true, guessed) label pairs as a grid, each count written in: where the guesses go,
    and whether they pile up in a few columns (a classifier biased to a few labels) or on the diagonal."""
    values = np.asarray(counts, dtype=float)
    n = len(labels)
    side = max(4.0, 0.38 * n + 2.4)
    fig = Figure(figsize=(side + 0.8, side), layout="constrained")
    ax = fig.subplots()
    top = max(1.0, float(values.max()))
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=top)
    for true, guessed in zip(*np.nonzero(values)):
        value = values[true, guessed]
        colour = "white" if value > top / 2 else "black"
        data_text(ax, guessed, true, f"{value:.0f}", ha="center", va="center", fontsize=7, color=colour)
    for label in range(n):  # the diagonal, where a guess is right, outlined even where it is empty
        ax.add_patch(Rectangle((label - 0.5, label - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=0.6))
    ax.set_xticks(range(n), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts
    return fig


def head_score_grid(scores, kind: str) -> Figure:
    """One head score per cell, layers (rows) x heads (columns), with the value written in: where a
    previous-token, duplicate-token or induction head sits (docs/head-scores.md)."""
    values = np.asarray(scores, dtype=float)
    layers, heads = values.shape
    return HeadScoreChart(layers, heads, kind).show(values)


class HeadScoreChart:
    """``head_score_grid``'s figure for one model shape and score, kept and redrawn with new scores (a
    callback draws three every round): the frame is a third of the drawing, and the cells are reused."""

    def __init__(self, layers: int, heads: int, kind: str) -> None:
        self.figure = Figure(figsize=(max(3.5, 0.6 * heads + 1.8), max(2.5, 0.45 * layers + 1.2)), dpi=90)
        ax = self.figure.add_axes((0.15, 0.12, 0.68, 0.72))
        bar = self.figure.add_axes((0.86, 0.12, 0.03, 0.72))
        self._image = ax.imshow(np.zeros((layers, heads)), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        self._cells = [
            data_text(ax, head, layer, "", ha="center", va="center", fontsize=7)
            for layer in range(layers)
            for head in range(heads)
        ]
        ax.set_xticks(range(heads), [f"h{h}" for h in range(heads)], fontsize=8)
        ax.set_yticks(range(layers), [f"L{layer}" for layer in range(layers)], fontsize=8)
        ax.set_title(f"{kind.replace('_', '-')} score per head (0 to 1)", fontsize=9)
        self.figure.colorbar(self._image, cax=bar)

    def show(self, scores) -> Figure:
        """The figure with these (layers, heads) scores, each written in its cell."""
        values = np.asarray(scores, dtype=float)
        self._image.set_data(values)
        for cell, value in zip(self._cells, values.flat, strict=True):
            cell.set_text(f"{value:.2f}")
            cell.set_color("black" if value > 0.6 else "white")
        return self.figure


def logit_lens_chart(top_tokens: list[list[str]], top_probs, row_names: list[str], input_tokens: list[str]) -> Figure:
    """The logit lens: after each layer (rows), the most likely next token at each position (columns,
    labelled with the input token there), written in its cell and coloured by its probability."""
    return LogitLensChart(row_names, input_tokens).show(top_tokens, top_probs)


class LogitLensChart:
    """``logit_lens_chart``'s figure for one probe and model, kept and redrawn with each round's top
    tokens: a callback reads the same probe every round, and the frame is a third of the drawing."""

    def __init__(self, row_names: Sequence[str], input_tokens: Sequence[str]) -> None:
        rows, length = len(row_names), len(input_tokens)
        self.figure = Figure(figsize=(min(24.0, 0.75 * length + 2.0), 0.42 * rows + 1.9), dpi=90)
        ax = self.figure.add_axes((0.08, 0.3, 0.84, 0.6))
        self._image = ax.imshow(np.zeros((rows, length)), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        self._cells = [
            [data_text(ax, position, row, "", ha="center", va="center", fontsize=6) for position in range(length)]
            for row in range(rows)
        ]
        ax.set_yticks(range(rows), row_names, fontsize=7)
        ax.set_xticks(range(length), [repr(t)[1:-1][:8] for t in input_tokens], rotation=90, fontsize=6)
        ax.set_xlabel("input token (the prediction is for the one after it)", fontsize=8)
        ax.set_title("logit lens: top next token after each layer, coloured by its probability", fontsize=9)
        self.figure.colorbar(self._image, ax=ax, fraction=0.02, pad=0.01)

    def show(self, top_tokens: list[list[str]], top_probs) -> Figure:
        """The figure with each row's top token at each position, coloured by its probability."""
        probs = np.asarray(top_probs, dtype=float)
        self._image.set_data(probs)
        for cells, tokens, row in zip(self._cells, top_tokens, probs, strict=True):
            for cell, token, prob in zip(cells, tokens, row, strict=True):
                cell.set_text(repr(token)[1:-1][:8])
                cell.set_color("white" if prob > 0.55 else "black")
        return self.figure


def surprisal_chart(tokens: list[str], bits, max_bits: float = 12.0, width: int = 100) -> Figure:
    """A passage as text, each token shaded by its surprisal in bits (darker = more surprising): which
    tokens the model already predicts and which it does not. Newlines break the line as in the text."""
    cmap = matplotlib.colormaps["Reds"]
    lines = _columns(tokens, bits, width)
    # Monospace at 8 pt: a character is 0.6 x 8 / 72 inches wide, so ``width`` characters fill the axes.
    height = 0.22 * len(lines) + 0.9
    fig = Figure(figsize=(width * 0.6 * 8 / 72 + 0.3, height), dpi=90)
    ax = fig.add_axes((0.02, 0.02, 0.96, 1 - 0.6 / height))
    ax.set_xlim(0, width)  # x in characters, y in lines
    ax.set_ylim(len(lines), 0)
    ax.axis("off")
    # One collection of shaded boxes, and few texts: each ink's tokens on a line share one text, spaces
    # standing in for the other ink's, unless the gap is long (a text costs about as much to draw as 25
    # blank glyphs). A text with its own box per token took 2.7 times as long to draw (96 tokens), every round.
    boxes, shades = [], []
    pad, half = 0.08, 0.32  # 0.4 pt either side of a token; the box two thirds of a line high
    style: dict[str, Any] = {"family": "monospace", "fontsize": 8, "va": "center"}
    for row, pieces in enumerate(lines):
        texts: dict[str, list[tuple[int, str]]] = {"black": [], "white": []}  # (first column, text) per ink
        for column, piece, value in pieces:
            shade = min(value, max_bits) / max_bits
            left, right, top, bottom = column - pad, column + len(piece) + pad, row + 0.5 - half, row + 0.5 + half
            boxes.append([(left, top), (right, top), (right, bottom), (left, bottom)])
            shades.append(shade)
            ink = texts["white" if shade > 0.6 else "black"]
            # Glyphs of printable ASCII are one column wide each; one from a fallback font may be
            # wider, so any other piece is a text of its own, at its column.
            if ink and _one_column(piece) and _one_column(ink[-1][1]) and column - (ink[-1][0] + len(ink[-1][1])) < 25:
                start, text = ink[-1]
                ink[-1] = (start, text.ljust(column - start) + piece)
            else:
                ink.append((column, piece))
        for colour, ink in texts.items():
            for column, text in ink:
                ax.text(column, row + 0.5, text, color=colour, **style)
    ax.add_collection(PolyCollection(boxes, facecolors=cmap(shades), edgecolors="none", zorder=0))
    title = f"surprisal per token, bits (white 0, darkest {max_bits:g} or more)"
    fig.text(0.5, 1 - 0.3 / height, title, fontsize=9, ha="center", va="center")  # no axes title: no tick layout
    return fig


def _one_column(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _columns(tokens: list[str], bits, width: int) -> list[list[tuple[int, str, float]]]:
    """The passage's lines, each a list of (first column, piece of a token, its bits): a token's newline
    starts a new line, and a piece that would pass ``width`` characters wraps."""
    lines: list[list[tuple[int, str, float]]] = [[]]
    used = 0
    for token, value in zip(tokens, bits):
        for k, piece in enumerate(token.split("\n")):
            if k > 0:
                lines.append([])
                used = 0
            if not piece:
                continue
            if used + len(piece) > width and lines[-1]:
                lines.append([])
                used = 0
            lines[-1].append((used, piece[:width], float(value)))
            used += len(piece)
    return lines
