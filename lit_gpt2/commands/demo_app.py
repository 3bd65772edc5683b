"""The Gradio page behind ``lit-gpt2 demo``: generate with any strategy, two side by side (two strategies,
or a base and a fine-tuned model), and look at the prompt's attention and next-token distribution, drawn
by the same code as the TensorBoard callbacks."""

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
from matplotlib.figure import Figure
from PIL import Image
from transformers import GPT2LMHeadModel, PreTrainedTokenizerBase

from lit_gpt2.decoding.distribution import next_token_distribution
from lit_gpt2.decoding.generate import DEFAULT_PROMPTS, generate_samples
from lit_gpt2.decoding.strategies import PRESETS, customised
from lit_gpt2.errors import UserInputError
from lit_gpt2.inspect.lens import surprisal_pass
from lit_gpt2.inspect.probe import probe_attention
from lit_gpt2.modeling.control import coded_prompts, model_genres
from lit_gpt2.modeling.tokenizer import token_texts
from lit_gpt2.plots import attention_grid, attention_heatmap, next_token_chart, surprisal_chart

ALL_HEADS = "all (grid of every layer and head)"
NO_GENRE = "(no code)"
MAX_NEW_TOKENS = 256
MAX_SAMPLES = 8


@dataclass
class DemoModel:
    label: str  # how the page names it, e.g. "fine-tuned: last.ckpt"
    model: GPT2LMHeadModel
    tokenizer: PreTrainedTokenizerBase


def _shown_in_page(handler: Callable) -> Callable:
    """Bad input becomes a message in the page (gr.Error) instead of a traceback."""

    @functools.wraps(handler)
    def wrapper(*args: Any) -> Any:
        try:
            return handler(*args)
        except UserInputError as err:
            raise gr.Error(str(err), print_exception=False) from None

    return wrapper


def figure_to_image(fig: Figure) -> Image.Image:
    """A PNG of the figure (pyplot never holds it, so a long-running page keeps no figure it has shown)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _whole_number(name: str, value: float | None, low: int, high: int) -> int:
    if value is None or not low <= value <= high or int(value) != value:
        raise UserInputError(f"{name} must be a whole number from {low} to {high}, got {value}")
    return int(value)


class Demo:
    """The page's handlers as plain methods: tests call them directly, the page calls them through Gradio."""

    def __init__(self, models: list[DemoModel]) -> None:
        if not models:
            raise UserInputError("the demo needs at least one model")
        self.models = {m.label: m for m in models}

    def _model(self, label: str) -> DemoModel:
        if label not in self.models:
            raise UserInputError(f"unknown model {label!r}: choose one of {', '.join(self.models)}")
        return self.models[label]

    @staticmethod
    def _prompt(prompt: str | None) -> str:
        if not prompt or not prompt.strip():
            raise UserInputError("the prompt is empty: type the start of a scene for the model to continue")
        return prompt

    def generate(
        self,
        prompt: str,
        model_label: str,
        preset: str,
        temperature: float,
        top_k: float,
        top_p: float,
        repetition_penalty: float,
        max_new_tokens: float,
        seed: float,
        genre: str | None = NO_GENRE,
        num_samples: float = 1,
        stop: str | None = "",
    ) -> str:
        """The continuation of ``prompt`` under the preset with the sliders' values on top, after the
        genre's control code when one is chosen (models trained with data.control=genre); ``num_samples``
        of them, and each ends at the first of the ``stop`` strings (one per line, \\n for a line break)
        that it writes. Beyond the model's context the window slides."""
        prompt = self._prompt(prompt)
        chosen = self._model(model_label)
        genre = None if genre == NO_GENRE else genre
        coded = coded_prompts(chosen.model, [prompt], genre)  # refused here if the model lacks the genre
        new_tokens = _whole_number("max new tokens", max_new_tokens, 1, MAX_NEW_TOKENS)
        count = _whole_number("samples", num_samples, 1, MAX_SAMPLES)
        stops = [line.replace("\\n", "\n") for line in (stop or "").splitlines() if line]
        overrides = {"temperature": temperature, "top_p": top_p, "repetition_penalty": repetition_penalty}
        overrides["top_k"] = _whole_number("top-k", top_k, 0, len(chosen.tokenizer))
        strategy = customised(preset, overrides)
        seed = _whole_number("seed", seed, 0, 2**31 - 1)
        model, tokenizer = chosen.model, chosen.tokenizer
        samples = generate_samples(model, tokenizer, coded, strategy, new_tokens, seed, False, count, stops)
        asked = f", genre {genre}" if genre else ""
        shown = []
        for number, (ids, text) in enumerate(zip(samples.continuations, samples.texts)):
            written = len(ids)
            # Say what the eye cannot see: an early end, or a continuation of nothing but line breaks.
            stopped = stops and any(text.endswith(s) for s in stops)
            notes = ", stop string" if stopped else ", then <|endoftext|>" if written < new_tokens else ""
            notes += ", all whitespace" if written and not text.strip() else ""
            label = f", sample {number + 1} of {count}" if count > 1 else ""
            shown.append(f"[{strategy.name}{asked}, seed {seed}{label}: {written} new tokens{notes}]\n\n{prompt}{text}")
        return "\n\n".join(shown)

    def analyse(
        self, prompt: str, model_label: str, layer: float, head: str
    ) -> tuple[Image.Image, Image.Image, Image.Image]:
        """The prompt's attention (one head, or the grid of all), the next-token probabilities, and how
        surprising each token of the prompt is to the model (docs/logit-lens-and-surprisal.md)."""
        prompt = self._prompt(prompt)
        chosen = self._model(model_label)
        config = chosen.model.config
        layer = _whole_number("layer", layer, 0, config.n_layer - 1)
        probe = probe_attention(chosen.model, chosen.tokenizer, [prompt])
        if head == ALL_HEADS:
            attention = attention_grid(probe.attentions)
        else:
            index = _whole_number("head", float(head) if str(head).isdigit() else None, 0, config.n_head - 1)
            weights = probe.attentions[layer][0, index]
            attention = attention_heatmap(weights, probe.tokens[0], f"{model_label}: layer {layer}, head {index}")
        chart = next_token_chart(next_token_distribution(chosen.model, chosen.tokenizer, prompt))
        tokenizer = chosen.tokenizer
        ids, bits = surprisal_pass(chosen.model, [tokenizer.eos_token_id, *tokenizer(prompt)["input_ids"]])
        surprisal = surprisal_chart(token_texts(tokenizer, ids.tolist()[1:]), bits.tolist())
        return figure_to_image(attention), figure_to_image(chart), figure_to_image(surprisal)


def preset_values(preset: str) -> tuple[float, int, float, float]:
    """The sliders' values for a preset: what it generates with before any change."""
    s = customised(preset, {})  # the preset itself, or one clear line for an unknown name
    return s.temperature, s.top_k, s.top_p, s.repetition_penalty


def build_app(demo: Demo) -> gr.Blocks:
    labels = list(demo.models)
    genres = sorted({genre for m in demo.models.values() for genre in model_genres(m.model)})
    largest = max((m.model.config for m in demo.models.values()), key=lambda c: c.n_layer * c.n_head)
    with gr.Blocks(title="lit-gpt2 demo") as app:
        gr.Markdown(
            "# lit-gpt2: watch GPT-2 write\nType a prompt, pick a decoding strategy for each side, and "
            "generate. The sliders start at the preset's values; moving one customises it. Below, the "
            "prompt's attention and the model's next-token probabilities."
        )
        prompt = gr.Textbox(label="Prompt", value=DEFAULT_PROMPTS[-1], lines=4, elem_id="prompt")
        with gr.Row():
            max_new_tokens = gr.Slider(1, MAX_NEW_TOKENS, value=48, step=1, label="Max new tokens")
            seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
            num_samples = gr.Slider(1, MAX_SAMPLES, value=1, step=1, label="Samples")
            stop_label = "Stop at (one string per line; \\n: a line break)"
            stop = gr.Textbox(value="", label=stop_label, lines=1, elem_id="stop")
        generate = gr.Button("Generate", variant="primary", elem_id="generate")
        with gr.Row():
            for side, default in (("left", "greedy"), ("right", "top-p-0.9")):
                with gr.Column():
                    model = gr.Dropdown(labels, value=labels[-1 if side == "left" else 0], label="Model")
                    preset = gr.Dropdown(list(PRESETS), value=default, label="Strategy preset")
                    # Shown only for models trained with genre codes: the code goes before the prompt.
                    genre = gr.Dropdown([NO_GENRE, *genres], value=NO_GENRE, label="Genre", visible=bool(genres))
                    temperature, top_k, top_p, penalty = preset_values(default)
                    sliders = [
                        gr.Slider(0.05, 2.0, value=temperature, step=0.05, label="Temperature"),
                        gr.Slider(0, 200, value=top_k, step=1, label="Top-k (0: all)"),
                        gr.Slider(0.05, 1.0, value=top_p, step=0.01, label="Top-p"),
                        gr.Slider(0.5, 2.0, value=penalty, step=0.05, label="Repetition penalty"),
                    ]
                    output = gr.Textbox(label=f"Output ({side})", lines=8, elem_id=f"output-{side}")
                    # False keeps it out of the API (gradio 5's way; gradio 6 takes it, annotating str | None).
                    preset.change(preset_values, preset, sliders, api_name=False)  # type: ignore[arg-type]
                    gr.on(
                        [generate.click, prompt.submit],
                        _shown_in_page(demo.generate),
                        [prompt, model, preset, *sliders, max_new_tokens, seed, genre, num_samples, stop],
                        output,
                        api_name=f"generate_{side}",
                    )
        gr.Markdown("## Attention, next-token probabilities and surprisal of the prompt")
        with gr.Row():
            probe_model = gr.Dropdown(labels, value=labels[-1], label="Model")
            layer = gr.Slider(0, largest.n_layer - 1, value=0, step=1, label="Layer")
            head = gr.Dropdown([ALL_HEADS, *map(str, range(largest.n_head))], value="0", label="Head")
        analyse = gr.Button("Show attention and next-token chart", elem_id="analyse")
        with gr.Row():
            attention = gr.Image(label="Attention", type="pil", elem_id="attention")
            chart = gr.Image(label="Next-token probabilities", type="pil", elem_id="next-token")
        surprisal = gr.Image(label="Surprisal of each prompt token (bits)", type="pil", elem_id="surprisal")
        gr.on(
            [analyse.click, generate.click],
            _shown_in_page(demo.analyse),
            [prompt, probe_model, layer, head],
            [attention, chart, surprisal],
            api_name="analyse",
        )
    return app
