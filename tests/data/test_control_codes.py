"""data.control=genre: each coded script starts with its genre's code, once, right after end-of-text."""

import numpy as np
import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from transformers import pipeline

from conftest import tiny_fit_args
from lit_gpt2.data.codes import coded_scripts
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.control import control_code


def _stream(data: MovieScriptsDataModule, split: str) -> np.ndarray:
    return np.fromfile(data.splits[split].path, dtype=data.splits[split].dtype)


def test_codes_reach_the_stream_once_per_coded_script_at_its_start(tmp_path):
    data = MovieScriptsDataModule(control="genre", uncoded_fraction=0.2, block_size=64, cache_dir=str(tmp_path))
    data.prepare_data()
    tokenizer, codes = data.tokenizer, data.corpus.codes
    assert len(codes) == 13 and "noir" in codes
    code_ids = set(tokenizer.convert_tokens_to_ids([control_code(g, "special") for g in codes]))
    coded = coded_scripts(326, 0.2, seed=42)
    train_idx, _, _ = data.corpus.split(326)
    stream = _stream(data, "train")
    at = np.flatnonzero(np.isin(stream, list(code_ids)))
    assert len(at) == sum(coded[i] for i in train_idx)  # every coded script once, the uncoded share without
    assert all(i == 0 or stream[i - 1] == tokenizer.eos_token_id for i in at)  # only where a script starts
    genres = data.corpus.genres
    first_coded = next(i for i in train_idx if coded[i])
    assert tokenizer.convert_ids_to_tokens(int(stream[at[0]])) == control_code(genres[first_coded], "special")


def test_folders_name_the_genres_and_a_flat_folder_is_refused(tmp_path):
    for genre in ("noir", "comedy"):
        (tmp_path / "scripts" / genre).mkdir(parents=True)
        (tmp_path / "scripts" / genre / "a.txt").write_text(f"INT. {genre.upper()} - NIGHT\n\nA line.\n")
    data = MovieScriptsDataModule(source=str(tmp_path / "scripts"), control="genre")
    assert data.corpus.codes == ["comedy", "noir"]
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.txt").write_text("INT. X\n")
    with pytest.raises(UserInputError, match="in a folder named after its genre"):
        _ = MovieScriptsDataModule(source=str(tmp_path / "flat"), control="genre").corpus.genres


def test_a_coded_fit_logs_genre_accuracy_and_exports_its_codes(coded_run):
    """``coded_run``: a 1-epoch fit with data.control=genre and a GenreAccuracyCallback (8 tokens)."""
    run = coded_run
    events = EventAccumulator(str(run), size_guidance={"images": 0})
    events.Reload()
    accuracy = events.Scalars("val/genre_accuracy")
    validations = [s.step for s in events.Scalars("val/ppl")]
    assert [a.step for a in accuracy] == [0, *validations] and all(0 <= a.value <= 1 for a in accuracy)
    # Drawn at the global step, as the other callbacks' images are (Lightning logs the validation's
    # scalars one step earlier).
    assert [image.step for image in events.Images("genre/confusion")] == [0, 4]
    generator = pipeline("text-generation", model=str(run / "export"))
    assert generator.model.config.control_codes["genres"][0] == "comedy"
    assert generator.tokenizer.convert_tokens_to_ids("<|genre:noir|>") == 512 + 6  # 7th genre, sorted, after the BPE's


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--data.control=genre"], [64]),  # added, with its defaults
        # one given in the config wins
        (
            ["--data.control=genre", "--trainer.callbacks+=GenreAccuracyCallback", "--trainer.callbacks.max_tokens=8"],
            [8],
        ),
        ([], []),  # no codes, nothing to measure
    ],
)
def test_genre_codes_bring_one_genre_accuracy_callback(tmp_path, extra, expected):
    """A user turning codes on expects to see whether they work, without adding the callback by hand."""
    from lit_gpt2.callbacks import GenreAccuracyCallback
    from lit_gpt2.cli import TRAINER_DEFAULTS, LitGPT2CLI
    from lit_gpt2.module import GPT2LitModule

    args = tiny_fit_args(tmp_path, *extra)[1:]  # without "fit": run=False builds and stops
    cli = LitGPT2CLI(GPT2LitModule, MovieScriptsDataModule, trainer_defaults=TRAINER_DEFAULTS, run=False, args=args)
    found = [c.max_tokens for c in cli.trainer.callbacks if isinstance(c, GenreAccuracyCallback)]
    assert found == expected


def test_genre_accuracy_without_codes_is_refused_in_one_line(run_cli, tmp_path, capsys):
    config = tmp_path / "genre.yaml"
    config.write_text(
        yaml.safe_dump({"trainer": {"callbacks": [{"class_path": "lit_gpt2.callbacks.GenreAccuracyCallback"}]}})
    )
    assert run_cli(tiny_fit_args(tmp_path, f"--config={config}", epochs=1)) == 2
    assert "set data.control=genre" in capsys.readouterr().err


def test_a_model_trained_with_codes_writes_each_genres_own_words_under_its_code(run_cli, tmp_path, capsys):
    words = {"alpha": " apple banana cherry", "beta": " zebra walrus yak"}
    for genre, text in words.items():
        (tmp_path / "scripts" / genre).mkdir(parents=True)
        for i in range(12):
            (tmp_path / "scripts" / genre / f"{i}.txt").write_text(text * 20)
    args = tiny_fit_args(tmp_path, epochs=4, gpt2_vocab=True)  # what it learns was tuned with GPT-2's tokens
    args = [a for a in args if not a.startswith(("--trainer.limit_train_batches", "--data.block_size"))]
    extra = ["--data.control=genre", "--data.uncoded_fraction=0", "--data.block_size=16", "--data.normalize=false"]
    extra += [f"--data.source={tmp_path / 'scripts'}", "--data.val_fraction=0.2", "--data.test_fraction=0"]
    # What is learned is checked, not what validation measures: one batch, no sanity check, and genre
    # accuracy over 8 tokens of 64 (the training, and so the samples, are the same).
    extra += ["--trainer.limit_val_batches=1", "--trainer.num_sanity_val_steps=0"]
    extra += ["--trainer.callbacks+=GenreAccuracyCallback", "--trainer.callbacks.max_tokens=8"]
    assert run_cli([*args, *extra, "--model.learning_rate=1e-2"]) == 0
    (export,) = (tmp_path / "runs").rglob("export")
    capsys.readouterr()
    written = {}
    for genre in words:
        generate = ["generate", f"--model={export}", "--prompt= ", f"--genre={genre}", "--max_new_tokens=12"]
        assert run_cli(generate) == 0
        written[genre] = capsys.readouterr().out
    for genre, own in words.items():
        other = words["beta" if genre == "alpha" else "alpha"]
        count = lambda text, vocab: sum(text.count(word) for word in vocab.split())  # noqa: E731
        assert count(written[genre], own) > count(written[genre], other), written
    assert run_cli(["generate", f"--model={export}", "--prompt=x", "--genre=opera"]) == 2
    assert "unknown genre 'opera': this model knows alpha, beta" in capsys.readouterr().err


def test_codes_are_given_never_targets(tmp_path):
    data = MovieScriptsDataModule(control="genre", uncoded_fraction=0.0, block_size=64, cache_dir=str(tmp_path))
    data.prepare_data()
    data.setup("fit")
    code_ids = torch.tensor(
        data.tokenizer.convert_tokens_to_ids([control_code(g, "special") for g in data.corpus.codes])
    )
    blocks = torch.stack([data.splits["train"][i]["input_ids"] for i in range(len(data.splits["train"]))])
    batch = data.on_before_batch_transfer({"input_ids": blocks}, 0)
    is_code = torch.isin(blocks, code_ids)
    assert is_code.any() and (batch["labels"][is_code] == -100).all()
    assert torch.equal(batch["labels"][~is_code], blocks[~is_code])  # every other token stays a target
    text = MovieScriptsDataModule(control="genre", control_format="text", block_size=64, cache_dir=str(tmp_path))
    text.setup("fit")
    assert "labels" not in text.on_before_batch_transfer({"input_ids": blocks}, 0)  # plain text: all targets
