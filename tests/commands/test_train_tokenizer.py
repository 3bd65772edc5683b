from conftest import tiny_fit_args
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.data.split import split_by_script
from lit_gpt2.modeling.tokenizer import load_tokenizer


def test_training_texts_hold_no_validation_script():
    dm = MovieScriptsDataModule()
    texts = dm.training_texts()
    every = dm._prepared_scripts()["text"]
    _, val_idx = split_by_script(len(every), dm.hparams.val_fraction, dm.hparams.seed)
    assert len(texts) == len(every) - len(val_idx)
    assert not {every[i] for i in val_idx} & set(texts)


def test_trained_tokenizer_drives_a_from_scratch_fit(run_cli, tmp_path):
    out = tmp_path / "bpe"
    assert run_cli(["train-tokenizer", f"--out={out}", "--vocab_size=512"]) == 0
    assert len(load_tokenizer(str(out))) == 512
    assert run_cli(tiny_fit_args(tmp_path, f"--model.tokenizer={out}", epochs=1)) == 0
    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    assert len(load_tokenizer(str(run / "export"))) == 512
    assert '"vocab_size": 512' in (run / "export" / "config.json").read_text()
