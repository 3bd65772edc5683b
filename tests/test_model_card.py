"""The model card beside every export: loaded by huggingface_hub's ModelCard, as the hub would read it."""

import yaml
from huggingface_hub import ModelCard

from conftest import TINY_CONFIG, tiny_fit_args
from lit_gpt2.module import GPT2LitModule


def test_fit_and_export_write_a_card_with_data_metrics_and_samples(run_cli, tmp_path):
    callbacks = [
        {
            "class_path": "lit_gpt2.callbacks.SampleGenerationCallback",
            "init_args": {"max_new_tokens": 4, "strategies": ["greedy", "top-k-40"]},
        }
    ]
    config = tmp_path / "callbacks.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": callbacks}}))
    assert run_cli(tiny_fit_args(tmp_path, f"--config={config}", "--model.gradient_checkpointing=true", epochs=1)) == 0
    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    card = ModelCard.load(run / "export" / "README.md")
    assert card.data.library_name == "transformers" and card.data.pipeline_tag == "text-generation"
    assert "lit-gpt2" in card.data.tags and "base_model" not in card.data.to_dict()  # trained from scratch
    text = card.text
    assert "trained from scratch" in text and "2 layers, 2 heads, 32 wide, 128-token context" in text
    assert "the embedded screenplay corpus" in text and "split by whole script" in text
    assert "Screenplay normalisation: on" in text and "- Tokens per split: train " in text
    assert "| validation perplexity |" in text and "| validation bits per byte |" in text
    assert "### greedy" in text and "### top-k-40" in text and "INT. DINER - NIGHT" in text
    assert "Gradient checkpointing on." in text and "## What it is not for" in text
    assert "4 optimizer steps, 1 epoch(s) done of 1" in text  # the checkpoint at the epoch's end: one whole epoch

    exported = tmp_path / "again"
    assert run_cli(["export", f"--ckpt_path={run / 'checkpoints' / 'last.ckpt'}", f"--out={exported}"]) == 0
    again = ModelCard.load(exported / "README.md").text
    assert "| validation perplexity |" in again and "### greedy" in again  # as the checkpoint recorded it


def test_an_export_outside_a_run_still_writes_a_card_that_loads(tmp_path):
    GPT2LitModule(config=TINY_CONFIG).export(tmp_path)
    card = ModelCard.load(tmp_path / "README.md")
    assert card.data.pipeline_tag == "text-generation" and "Not recorded" in card.text
