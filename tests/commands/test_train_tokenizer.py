from conftest import tiny_fit_args
from lit_gpt2.modeling.tokenizer import load_tokenizer


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


def test_the_cli_resolves_one_tokenizer_and_hands_it_to_model_and_data(tmp_path):
    """The model loaded the tokenizer and added the codes, the data module did it again, and a throwaway
    data module fitted the BPE: now the corpus fits it, the model resolves it with the corpus's codes, and
    the data module tokenises with that same object."""
    from lit_gpt2.cli import TRAINER_DEFAULTS, LitGPT2CLI
    from lit_gpt2.data.datamodule import MovieScriptsDataModule
    from lit_gpt2.module import GPT2LitModule

    args = tiny_fit_args(tmp_path, "--data.train_tokenizer=300", "--data.control=genre")[1:]  # run=False: build only
    cli = LitGPT2CLI(GPT2LitModule, MovieScriptsDataModule, trainer_defaults=TRAINER_DEFAULTS, run=False, args=args)
    tokenizer = cli.model.tokenizer
    assert cli.datamodule.tokenizer is tokenizer
    fitted = cli.datamodule.corpus.fitted_tokenizer()
    assert cli.model.hparams.tokenizer == cli.datamodule.hparams.tokenizer == str(fitted)
    assert cli.model.hparams.control_codes == cli.datamodule.corpus.codes and len(cli.datamodule.corpus.codes) == 13
    assert len(tokenizer) == len(load_tokenizer(str(fitted))) + 13 == cli.model.model.config.vocab_size
    assert tokenizer.convert_tokens_to_ids("<|genre:noir|>") >= len(load_tokenizer(str(fitted)))
    # A data module built alone (from Python) resolves the same vocabulary through its corpus.
    alone = MovieScriptsDataModule(**{k: v for k, v in cli.datamodule.hparams.items() if not k.startswith("_")})
    assert alone.tokenizer is not tokenizer and alone.tokenizer.get_vocab() == tokenizer.get_vocab()
