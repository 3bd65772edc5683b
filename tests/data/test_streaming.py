"""Streaming (``--data.streaming=true``): validation is the head of the stream, training packs the rest on
the fly, and a resumed run continues the stream where the checkpoint says it stopped."""

import itertools
import json

import lightning as L
import numpy as np
import pytest
import torch
import yaml

from conftest import tiny_fit_args
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.data.packing import pack_blocks
from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.data.sources import embedded_corpus_files
from lit_gpt2.data.streaming import StreamPosition
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling import load_tokenizer


class StopAfterSteps(L.Callback):
    """Ends fit gracefully after ``steps`` optimizer steps, mid-stream, without changing the plan."""

    def __init__(self, steps: int = 4) -> None:
        self.steps = steps

    def on_train_batch_end(self, trainer: L.Trainer, *_) -> None:
        if trainer.global_step >= self.steps:
            trainer.should_stop = True


@pytest.fixture
def jsonl(tmp_path):
    """The embedded corpus as one JSONL file (column ``script``): a local file streamed, never cached."""
    path = tmp_path / "scripts.jsonl"
    with open(path, "w") as handle:
        for file in embedded_corpus_files():
            handle.write(json.dumps({"script": file.read_text()}) + "\n")
        handle.write(json.dumps({"script": "   "}) + "\n")  # blank rows are skipped
    return path


def _streaming(jsonl, **kwargs) -> MovieScriptsDataModule:
    settings = {"text_column": "script", "streaming_val_documents": 5, "block_size": 32, "batch_size": 4}
    dm = MovieScriptsDataModule(source=str(jsonl), streaming=True, **{**settings, **kwargs})
    dm.setup("fit")
    return dm


def test_validation_is_the_head_of_the_stream_and_training_packs_the_rest(jsonl):
    dm = _streaming(jsonl)
    tokenizer = load_tokenizer("gpt2")
    texts = [normalise_screenplay(file.read_text()) for file in embedded_corpus_files()]
    ids = tokenizer(texts, verbose=False)["input_ids"]
    validation = pack_blocks(ids[:5], tokenizer.eos_token_id, 32)[0]
    training = pack_blocks(ids[5:], tokenizer.eos_token_id, 32)[0]
    assert np.array_equal(dm.val_dataloader().dataset.blocks.numpy(), validation)
    batches = list(dm.train_dataloader())
    assert {tuple(b["input_ids"].shape) for b in batches} == {(4, 32)}
    assert np.array_equal(torch.cat([b["input_ids"] for b in batches]).numpy(), training[: len(batches) * 4])


@pytest.mark.parametrize("blocks", [1, 7, 500])
def test_a_stream_started_at_a_recorded_position_continues_exactly(jsonl, blocks):
    dm = _streaming(jsonl)
    whole = [b["input_ids"] for b in dm.stream]
    list(itertools.islice(iter(dm.stream), blocks + 8))  # read ahead, as Lightning's fetcher does
    position = dm.stream.position_after(blocks)
    dm.stream.start = lambda: position
    rest = [b["input_ids"] for b in dm.stream]
    assert position != StreamPosition() and len(rest) == len(whole) - blocks
    assert all(torch.equal(a, b) for a, b in zip(whole[blocks:], rest))


def test_streaming_refusals_each_say_what_to_change(tmp_path, jsonl):
    with pytest.raises(UserInputError, match="not 'the embedded corpus'.*drop data.streaming"):
        MovieScriptsDataModule(streaming=True).setup("fit")
    with pytest.raises(UserInputError, match="set data.num_workers=0"):
        MovieScriptsDataModule(source=str(jsonl), streaming=True, num_workers=2)
    with pytest.raises(UserInputError, match="data.train_tokenizer .* not with data.streaming"):
        MovieScriptsDataModule(source=str(jsonl), streaming=True, train_tokenizer=512)
    with pytest.raises(UserInputError, match=r"column 'text' \(data.text_column\) is not in"):
        MovieScriptsDataModule(source=str(jsonl), streaming=True).setup("fit")
    with pytest.raises(UserInputError, match="test needs a prepared source"):
        _streaming(jsonl).test_dataloader()
    dm = MovieScriptsDataModule(source=str(jsonl), text_column="script", streaming=True)
    dm.trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False)
    with pytest.raises(UserInputError, match="set trainer.max_steps"):
        dm.setup("fit")


def _stream_args(root, jsonl, *extra):
    return tiny_fit_args(
        root,
        f"--data.source={jsonl}",
        "--data.text_column=script",
        "--data.streaming=true",
        "--data.streaming_val_documents=3",
        *extra,
    )


def _last(root):
    (checkpoint,) = (root / "runs").rglob("last.ckpt")
    return torch.load(checkpoint, map_location="cpu", weights_only=True)


def test_a_streamed_fit_cut_mid_stream_and_resumed_equals_the_straight_fit(run_cli, tmp_path, jsonl):
    """The checkpoint holds the position of the blocks trained on (not of those the loader read ahead)."""
    plan = ["--trainer.max_steps=8", "--trainer.max_epochs=-1", "--trainer.limit_train_batches=1.0"]
    # Dropout on (the tiny config's 0.1): its masks are seeded per batch, so they continue exactly too.
    straight = tmp_path / "straight"
    assert run_cli(_stream_args(straight, jsonl, *plan)) == 0

    cut = tmp_path / "cut"
    cut.mkdir()
    config = cut / "stop.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": [{"class_path": f"{__name__}.StopAfterSteps"}]}}))
    assert run_cli(_stream_args(cut, jsonl, *plan, f"--config={config}")) == 0
    half = _last(cut)
    assert half["global_step"] == 4
    assert run_cli(_stream_args(cut, jsonl, *plan, "--ckpt_path=last")) == 0

    expected, resumed = _last(straight), _last(cut)
    assert expected["global_step"] == resumed["global_step"] == 8
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(tensor, resumed["state_dict"][name]), name


def test_resuming_a_stream_planned_by_epochs_is_refused_in_one_line(run_cli, tmp_path, jsonl, capsys):
    # One epoch of one batch, planned by epochs: a checkpoint to resume from is all this needs.
    short = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=1", "--trainer.limit_val_batches=1"]
    assert run_cli(_stream_args(tmp_path, jsonl, *short)) == 0
    assert run_cli(_stream_args(tmp_path, jsonl, *short, "--ckpt_path=last")) == 2
    err = capsys.readouterr().err
    assert "resumes exactly only when planned by steps: set trainer.max_steps" in err and "Traceback" not in err
