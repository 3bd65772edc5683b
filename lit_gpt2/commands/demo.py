"""``lit-gpt2 demo``: a local web page to generate with any strategy and look at attention (Gradio)."""

import importlib.util

from jsonargparse import ArgumentParser

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.errors import UserInputError


def demo_command(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lit-gpt2 demo", description="Play with a model in the browser (Gradio).")
    parser.add_argument("--model", type=str, required=True, help="A .ckpt, an exported folder, or a hub name.")
    parser.add_argument(
        "--baseline", type=str | None, default=None, help="A second model to set beside it, e.g. gpt2 (online)."
    )
    parser.add_argument("--host", type=str, default="127.0.0.1", help="Address to serve on (0.0.0.0: all).")
    parser.add_argument("--port", type=int | None, default=None, help="Port; default the first free from 7860.")
    parser.add_argument("--share", type=bool, default=False, help="Also open a public gradio.live link.")
    cfg = parser.parse_args(argv)
    if importlib.util.find_spec("gradio") is None:
        raise UserInputError("the demo needs gradio, which is not installed: pip install -e '.[demo]'")
    from lit_gpt2.commands.demo_app import Demo, DemoModel, build_app

    models = [DemoModel(f"fine-tuned: {cfg.model}", *load_model_and_tokenizer(cfg.model))]
    if cfg.baseline:
        models.insert(0, DemoModel(f"baseline: {cfg.baseline}", *load_model_and_tokenizer(cfg.baseline)))
    app = build_app(Demo(models))
    app.launch(server_name=cfg.host, server_port=cfg.port, share=cfg.share)
