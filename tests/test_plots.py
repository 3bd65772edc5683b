"""Charts are plain matplotlib Figures: importing them leaves the user's backend alone, pyplot never holds
them, and they render to PNG (and to TensorBoard's arrays) whatever the backend."""

import io
import os
import subprocess
import sys

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch.utils.tensorboard._utils import figure_to_image

from conftest import REPO
from lit_gpt2.decoding.distribution import NextTokenDistribution
from lit_gpt2.plots import (
    AttentionHeatmapChart,
    HeadScoreChart,
    LogitLensChart,
    PixelLayer,
    attention_grid,
    attention_heatmap,
    confusion_chart,
    distinct_colours,
    draw_token_labels,
    figure_to_array,
    head_score_grid,
    label_share_bars,
    logit_lens_chart,
    metric_bars,
    next_token_chart,
    scalar_curves,
    surprisal_chart,
)

TOKENS = ["\n", " the", " MARGO", "."]


def _attentions(layers: int = 2, heads: int = 2, length: int = 4) -> list[torch.Tensor]:
    """Causal attention rows (each sums to one) of shape (1, heads, length, length) per layer."""
    generator = torch.Generator().manual_seed(0)
    scores = torch.rand(layers, 1, heads, length, length, generator=generator)
    scores = scores.masked_fill(torch.ones(length, length, dtype=torch.bool).triu(1), float("-inf"))
    return list(scores.softmax(-1))


def _distribution() -> NextTokenDistribution:
    return NextTokenDistribution(
        prompt="INT. DINER - NIGHT",
        tokens=TOKENS,
        probabilities={0.7: [0.6, 0.3, 0.08, 0.02], 1.0: [0.4, 0.3, 0.2, 0.1]},
        top_k=2,
        top_p=0.9,
        nucleus_size={0.7: 2, 1.0: 3},
    )


CHARTS = {
    "next_token_chart": lambda: next_token_chart(_distribution()),
    "metric_bars": lambda: metric_bars("distinct-2", {"greedy": 0.2, "top-k-40": 0.7}),
    "metric_bars_baseline": lambda: metric_bars("distinct-2", {"greedy": 0.2, "beam-5": 0.3}, {"greedy": 0.1}),
    "attention_grid": lambda: attention_grid(_attentions()),
    "attention_heatmap": lambda: attention_heatmap(_attentions()[0][0, 1], TOKENS, "layer 0, head 1"),
    "scalar_curves": lambda: scalar_curves(
        {"val/genre_accuracy": [(0, 0.03), (261, 0.15), (522, 0.09)]}, "accuracy", (0.077, "chance")
    ),
    "surprisal_chart": lambda: surprisal_chart(["INT.", " DINER", "\n", " MARGO"], [1.0, 11.0, 3.0, 6.5]),
    "label_share_bars": lambda: label_share_bars(
        {"greedy": {"comedy": 0.25, "noir": 0.75}, "top-k-40": {"comedy": 1.0, "noir": 0.0}}, "Classifier: genre"
    ),
}


LENS_ROWS, LENS_INPUTS = ["embed", "layer0", "layer1"], ["<|endoftext|>", "INT", "."]
# Each kept chart: (its frame, its frame shown with data, the chart drawn anew from that data, two data).
KEPT = {
    "attention heatmap": (
        lambda: AttentionHeatmapChart(TOKENS),
        lambda chart, weights: chart.show(weights, "layer 0, head 1"),
        lambda weights: attention_heatmap(weights, TOKENS, "layer 0, head 1"),
        [_attentions()[0][0, 1], _attentions()[1][0, 0] * 0.5],  # another colour scale too
    ),
    "head scores": (
        lambda: HeadScoreChart(2, 2, "induction"),
        lambda chart, scores: chart.show(scores),
        lambda scores: head_score_grid(scores, "induction"),
        [np.array([[0.1, 0.9], [0.5, 0.25]]), np.array([[0.7, 0.05], [0.33, 1.0]])],
    ),
    "logit lens": (
        lambda: LogitLensChart(LENS_ROWS, LENS_INPUTS),
        lambda chart, read: chart.show(*read),
        lambda read: logit_lens_chart(*read, LENS_ROWS, LENS_INPUTS),
        [
            ([["the"] * 3, ["\n", "A", "."], ["INT", "EXT", " the"]], np.linspace(0, 1, 9).reshape(3, 3)),
            ([[" DINER"] * 3, ["-", " NIGHT", "\n"], ["A", "B", "C"]], np.linspace(1, 0, 9).reshape(3, 3)),
        ],
    ),
}


@pytest.mark.parametrize("name", list(KEPT))
def test_a_kept_chart_shown_again_draws_the_pixels_of_a_new_chart_of_the_new_data(name):
    frame, show, anew, (first, second) = KEPT[name]
    chart = frame()
    before = figure_to_array(show(chart, first))
    after = figure_to_array(show(chart, second))
    assert np.array_equal(after, figure_to_array(anew(second)))
    assert not np.array_equal(after, before)


def test_importing_the_package_leaves_the_matplotlib_backend_alone():
    code = "import matplotlib, lit_gpt2.plots, lit_gpt2.callbacks, lit_gpt2.commands; print(matplotlib.get_backend())"
    env = {**os.environ, "MPLBACKEND": "svg"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["svg"]


@pytest.mark.parametrize("name", CHARTS)
def test_chart_is_a_figure_pyplot_never_holds(name):
    figure = CHARTS[name]()
    assert type(figure) is Figure
    assert plt.get_fignums() == []  # pyplot is imported here, and still knows no figure


@pytest.mark.parametrize("name", CHARTS)
def test_chart_renders_to_png(name):
    buffer = io.BytesIO()
    CHARTS[name]().savefig(buffer, format="png", dpi=50)
    png = buffer.getvalue()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 3_000, len(png)  # axes, labels and data, not an empty canvas


def test_figure_to_array_gives_the_pixels_tensorboard_add_figure_gave():
    figure = CHARTS["attention_heatmap"]()
    array = figure_to_array(figure)
    width, height = figure.get_size_inches() * figure.dpi
    assert array.shape == (round(height), round(width), 3) and array.dtype == np.uint8
    assert len(np.unique(array.reshape(-1, 3), axis=0)) > 10  # drawn, not one flat colour
    # What add_figure logged before (CHW): the same image, now logged as HWC through add_image.
    np.testing.assert_array_equal(np.moveaxis(figure_to_image(figure, close=False), 0, 2), array)


def test_label_share_bars_stack_each_rows_shares_end_to_end():
    fig = label_share_bars({"greedy": {"comedy": 0.25, "noir": 0.75}, "top-k-40": {"comedy": 1.0, "noir": 0.0}}, "t")
    (ax,) = fig.axes
    comedy, noir = ax.containers
    assert [bar.get_width() for bar in comedy] == [0.25, 1.0]
    assert [(bar.get_x(), bar.get_width()) for bar in noir] == [(0.25, 0.75), (1.0, 0.0)]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["comedy", "noir"]
    assert not ax.texts


def test_label_share_bars_say_which_rows_had_no_text_to_classify():
    fig = label_share_bars({"greedy": {"comedy": 0.0, "noir": 0.0}, "top-k-40": {"comedy": 0.5, "noir": 0.5}}, "t")
    (ax,) = fig.axes
    assert [(t.get_text(), t.get_position()[1]) for t in ax.texts] == [("no text to classify", 0)]


def test_label_share_bars_give_thirteen_labels_thirteen_colours():
    labels = [f"genre{i}" for i in range(13)]
    fig = label_share_bars({"greedy": {label: 1 / 13 for label in labels}}, "t")
    colours = {tuple(container[0].get_facecolor()) for container in fig.axes[0].containers}
    assert len(colours) == 13
    assert len({tuple(c) for c in distinct_colours(25)}) == 25


def test_the_heatmap_labels_both_axes_with_every_token_and_the_score_grid_writes_every_score():
    figure = Figure()
    ax = figure.add_axes((0.1, 0.1, 0.8, 0.8))
    draw_token_labels(ax, TOKENS)
    labels = [(t.get_text(), t.get_rotation(), t.get_transform() == ax.transData) for t in figure.texts]
    shown = [repr(token)[1:-1] for token in TOKENS]  # "\n" written as the two characters \ and n
    assert labels == [label for token in shown for label in ((token, 90.0, True), (token, 0.0, True))]
    grid = head_score_grid(np.array([[0.1, 0.9], [0.5, 0.25]]), "induction")
    cells = {(t.get_position(), t.get_text()) for t in grid.texts}
    assert cells == {((0, 0), "0.10"), ((1, 0), "0.90"), ((0, 1), "0.50"), ((1, 1), "0.25")}  # (head, layer)


def test_the_heatmaps_labels_drawn_once_and_laid_over_give_the_pixels_of_labels_drawn_on_it():
    pasted = figure_to_array(CHARTS["attention_heatmap"]())
    heatmap = CHARTS["attention_heatmap"]()
    (layer,) = [artist for artist in heatmap.artists if isinstance(artist, PixelLayer)]
    layer.remove()
    assert not np.array_equal(figure_to_array(heatmap), pasted)  # the layer holds the labels
    draw_token_labels(heatmap.axes[0], TOKENS)
    drawn = figure_to_array(heatmap)
    assert np.abs(drawn.astype(int) - pasted.astype(int)).max() <= 2  # rounding of the blend, at most


def test_a_pixel_layer_lays_its_image_over_the_figure_as_figimage_would_upright_and_to_a_level():
    # A layer as the heatmaps' is made: text drawn on a transparent canvas (edges partly transparent),
    # in the top half only, so that an upside-down layer would differ.
    text = Figure(figsize=(2, 1), dpi=90)
    text.patch.set_alpha(0)
    text.text(0.1, 0.6, "INT. DINER", fontsize=14, color="crimson")
    canvas = FigureCanvasAgg(text)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba()).copy()

    def figure(overlay: str) -> Figure:
        fig = Figure(figsize=(2, 1), dpi=90)
        fig.add_axes((0.1, 0.1, 0.8, 0.8)).plot([0, 1], [0, 1])
        if overlay == "pixel layer":
            fig.add_artist(PixelLayer(rgba))
        elif overlay == "figimage":
            fig.figimage(rgba, origin="upper")
        return fig

    laid, imaged = (figure_to_array(figure(overlay)).astype(int) for overlay in ("pixel layer", "figimage"))
    assert np.abs(laid - imaged).max() <= 1  # figimage's float round trip rounds partly transparent edges
    assert np.abs(laid - figure_to_array(figure("none")).astype(int)).max() > 100  # the text is there


def test_confusion_chart_writes_each_nonzero_count_in_its_cell():
    fig = confusion_chart([[2, 0], [1, 3]], ["noir", "comedy"], "t", xlabel="guessed", ylabel="own")
    ax = fig.axes[0]
    cells = {(t.get_position(), t.get_text()) for t in fig.texts if t.get_transform() == ax.transData}
    assert cells == {((0, 0), "2"), ((0, 1), "1"), ((1, 1), "3")}  # (column, row): guessed, own
    assert [t.get_text() for t in ax.get_xticklabels()] == ["noir", "comedy"]
    assert ax.get_xlabel() == "guessed" and ax.get_ylabel() == "own"
    assert [patch.get_xy() for patch in ax.patches] == [(-0.5, -0.5), (0.5, 0.5)]  # the diagonal outlined


def test_surprisal_chart_shades_a_box_per_token_and_writes_each_ink_colour_once_per_line():
    reds = matplotlib.colormaps["Reds"]
    # Line 0: black, white, black (one black text, spaces under the white token), and a white token 32
    # columns after the last (a text of its own). Line 1: a token beyond ASCII (a text of its own), white.
    tokens = ["INT.", " DINER", " -", " " * 30, " NIGHT", "\n", "Café", " MARGO"]
    bits = [0.0, 12.0, 1.0, 1.0, 9.0, 3.0, 6.0, 24.0]
    fig = surprisal_chart(tokens, bits)
    ax = fig.axes[0]
    (boxes,) = ax.collections
    shades = [min(b, 12.0) / 12.0 for i, b in enumerate(bits) if i != 5]  # the newline token draws no box
    np.testing.assert_allclose(boxes.get_facecolor(), reds(shades))
    lefts = [path.vertices[:, 0].min() for path in boxes.get_paths()]
    np.testing.assert_allclose(lefts, np.array([0, 4, 10, 12, 42, 0, 4]) - 0.08)  # each token at its column
    texts = {(t.get_position(), t.get_text(), t.get_color()) for t in ax.texts}
    assert texts == {
        ((0, 0.5), "INT." + " " * 6 + " -" + " " * 30, "black"),
        ((4, 0.5), " DINER", "white"),
        ((42, 0.5), " NIGHT", "white"),
        ((0, 1.5), "Café", "black"),
        ((4, 1.5), " MARGO", "white"),
    }
    assert figure_to_array(fig).shape[1] > 600
