import pytest
from transformers import AutoTokenizer

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.bpe import cached_bpe_tokenizer, train_bpe_tokenizer
from lit_gpt2.modeling.tokenizer import load_tokenizer

TEXTS = ["INT. DINER - NIGHT\n\nMARGO\nKitchen closed at ten.\n", "EXT. DESERT - DAY\n\nDust everywhere.\n"] * 20


def test_trained_tokenizer_round_trips_text_and_reloads(tmp_path):
    trained = train_bpe_tokenizer(TEXTS, vocab_size=300, directory=tmp_path)
    assert len(trained) <= 300
    reloaded = load_tokenizer(str(tmp_path))
    text = "MARGO\nKitchen closed. ünïcode never seen"
    ids = reloaded(text)["input_ids"]
    assert reloaded.decode(ids) == text  # byte-level: nothing is unknown
    assert reloaded.eos_token == reloaded.pad_token == "<|endoftext|>"
    assert len(AutoTokenizer.from_pretrained(tmp_path)("Kitchen closed")["input_ids"]) < len("Kitchen closed")


def test_too_small_vocabulary_is_refused(tmp_path):
    with pytest.raises(UserInputError, match="at least 257"):
        train_bpe_tokenizer(TEXTS, vocab_size=100, directory=tmp_path)


def test_a_truncated_fitted_tokenizer_is_fitted_again_with_a_notice(tmp_path, capfd):
    """A cut-off tokenizer.json in the cache once failed every run with a JSONDecodeError traceback."""
    directory = cached_bpe_tokenizer(TEXTS, 300, tmp_path)
    saved = (directory / "tokenizer.json").read_text()
    (directory / "tokenizer.json").write_text(saved[: len(saved) // 2])
    capfd.readouterr()
    assert cached_bpe_tokenizer(TEXTS, 300, tmp_path) == directory
    assert f"the fitted tokenizer {directory} is damaged: fitting it again" in capfd.readouterr().err
    assert (directory / "tokenizer.json").read_text() == saved
    assert load_tokenizer(str(directory))("MARGO")["input_ids"]
