"""``lit-gpt2 demo``: a local web page to generate with any strategy and look at attention (Gradio)."""

import importlib.util

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.errors import UserInputError


def demo_command(
    model: str, baseline: str | None = None, host: str = "127.0.0.1", port: int | None = None, share: bool = False
) -> None:
    """Play with a model in the browser: every decoding strategy, side by side, and its attention (Gradio).

    Args:
        model: The model to play with: a .ckpt, an exported folder, or a hub name.
        baseline: A second model to set beside it, e.g. gpt2 (online) or the run's step-0 export.
        host: Address to serve on (0.0.0.0: every interface).
        port: Port; default the first free one from 7860.
        share: Also open a public gradio.live link.
    """
    if importlib.util.find_spec("gradio") is None:
        raise UserInputError("the demo needs gradio, which is not installed: pip install -e '.[demo]'")
    from lit_gpt2.commands.demo_app import Demo, DemoModel, build_app

    models = [DemoModel(f"fine-tuned: {model}", *load_model_and_tokenizer(model))]
    if baseline:
        models.insert(0, DemoModel(f"baseline: {baseline}", *load_model_and_tokenizer(baseline)))
    app = build_app(Demo(models))
    app.launch(server_name=host, server_port=port, share=share)
