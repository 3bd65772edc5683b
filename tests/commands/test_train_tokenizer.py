from conftest import tiny_fit_args
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.data.split import split_by_script
from lit_gpt2.modeling.tokenizer import load_tokenizer


def test_training_texts_hold_no_validation_script():
    dm = MovieScriptsDataModule()
    texts = dm.training_texts()
    every = dm._prepared_scripts()["text"]
    _, val_idx, test_idx = split_by_script(len(every), dm.hparams.val_fraction, dm.hparams.seed, 0.1)
    assert len(texts) == len(every) - len(val_idx) - len(test_idx) and test_idx
    assert not {every[i] for i in val_idx + test_idx} & set(texts)


def test_trained_tokenizer_drives_a_from_scratch_fit(run_cli, tmp_path):
    out = tmp_path / "bpe"
    assert run_cli(["train-tokenizer", f"--out={out}", "--vocab_size=512"]) == 0
    assert len(load_tokenizer(str(out))) == 512
    assert run_cli(tiny_fit_args(tmp_path, f"--model.tokenizer={out}", epochs=1)) == 0
    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    assert len(load_tokenizer(str(run / "export"))) == 512
    assert '"vocab_size": 512' in (run / "export" / "config.json").read_text()


def test_data_train_tokenizer_fits_once_and_drives_model_and_data(run_cli, tmp_path):
    args = tiny_fit_args(tmp_path, "--data.train_tokenizer=400", epochs=1, cache_dir=tmp_path / "cache")
    assert run_cli(args) == 0
    (cached,) = (tmp_path / "cache" / "tokenizers").iterdir()
    first = (cached / "tokenizer.json").stat().st_mtime_ns
    assert run_cli(args) == 0  # a second run reads the cache instead of training again
    assert [p.name for p in (tmp_path / "cache" / "tokenizers").iterdir()] == [cached.name]
    assert (cached / "tokenizer.json").stat().st_mtime_ns == first
    for run in (tmp_path / "runs" / "lit-gpt2").iterdir():
        assert len(load_tokenizer(str(run / "export"))) == 400
        assert '"vocab_size": 400' in (run / "export" / "config.json").read_text()
