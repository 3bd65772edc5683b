"""The embedded corpus (large enough to learn from, labelled by genre, well-formed, and no copies), and
``Corpus``: its split, genres, normalised texts and fitted tokenizer, without a data module."""

from collections import defaultdict

import pytest

from lit_gpt2.data.corpus import Corpus
from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.data.sources import embedded_corpus_files, load_scripts
from lit_gpt2.data.split import split_by_script
from lit_gpt2.decoding.structure import structure_score
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.tokenizer import load_tokenizer

FILES = embedded_corpus_files()


def test_corpus_size_and_genres():
    genres = {path.parent.name for path in FILES}
    assert len(FILES) >= 150
    assert sum(path.stat().st_size for path in FILES) >= 400_000
    assert len(genres) >= 10
    assert all(sum(path.parent.name == genre for path in FILES) >= 8 for genre in genres)


def test_every_scene_has_its_folder_as_genre():
    scripts, _ = load_scripts(None)
    assert scripts["genre"] == [path.parent.name for path in FILES]
    assert scripts["title"] == [path.stem for path in FILES]


def test_every_scene_parses_as_screenplay():
    scores = {path.name: structure_score(normalise_screenplay(path.read_text())) for path in FILES}
    assert min(scores.values()) >= 0.9, sorted(scores.items(), key=lambda kv: kv[1])[:5]


def test_no_two_scenes_share_a_paragraph_or_a_run_of_words():
    paragraphs, shingles = defaultdict(set), defaultdict(set)
    for path in FILES:
        text = normalise_screenplay(path.read_text())
        for block in text.split("\n\n"):
            paragraph = " ".join(block.split())
            if len(paragraph) > 200:
                paragraphs[paragraph].add(path)
        words = text.split()
        for i in range(len(words) - 19):
            shingles[" ".join(words[i : i + 20])].add(path)
    assert [sorted(p.name for p in paths) for paths in paragraphs.values() if len(paths) > 1] == []
    shared = [(run, sorted(p.name for p in paths)) for run, paths in shingles.items() if len(paths) > 1]
    assert shared == []


def test_validation_scripts_normalise_only_the_validation_split(monkeypatch):
    import lit_gpt2.data.corpus as corpus_module

    seen = []
    real = corpus_module.normalise_screenplay
    monkeypatch.setattr(corpus_module, "normalise_screenplay", lambda text: seen.append(text) or real(text))
    corpus = Corpus(control="genre")
    scripts = corpus.validation_scripts()
    _, val_idx, _ = corpus.split(326)
    assert len(seen) == len(val_idx) == len(scripts) < 326
    assert [genre for genre, _ in scripts] == [corpus.genres[i] for i in val_idx]
    assert [text for _, text in scripts] == [real(text) for text in seen]


def test_training_scripts_pair_each_training_script_with_its_genre():
    corpus = Corpus(control="genre")
    train_idx, _, _ = corpus.split(326)
    scripts = corpus.training_scripts()
    assert [genre for genre, _ in scripts] == [corpus.genres[i] for i in train_idx]
    assert [text for _, text in scripts] == corpus.training_texts()
    assert not {text for _, text in scripts} & {text for _, text in corpus.validation_scripts()}


def test_training_texts_hold_no_validation_script():
    corpus = Corpus()
    texts = corpus.training_texts()
    every = corpus.scripts()["text"]
    _, val_idx, test_idx = split_by_script(len(every), corpus.val_fraction, corpus.seed, 0.1)
    assert len(texts) == len(every) - len(val_idx) - len(test_idx) and test_idx
    assert not {every[i] for i in val_idx + test_idx} & set(texts)


def test_a_corpus_alone_fits_its_bpe_and_resolves_it_with_the_genre_codes(tmp_path):
    """What the CLI, the commands and the benchmarks use instead of building a throwaway data module."""
    for genre in ("noir", "comedy"):
        (tmp_path / "scripts" / genre).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "scripts" / genre / f"{i}.txt").write_text(f"INT. {genre.upper()} {i} - NIGHT\n\nWords. " * 30)
    options = {"source": str(tmp_path / "scripts"), "train_tokenizer": 300, "cache_dir": str(tmp_path / "cache")}
    corpus = Corpus(**options, control="genre")
    fitted = corpus.fitted_tokenizer()
    assert fitted.parent == tmp_path / "cache" / "tokenizers" and len(load_tokenizer(str(fitted))) <= 300
    assert Corpus(**options).fitted_tokenizer() == fitted  # the codes do not shape the vocabulary
    tokenizer = corpus.tokenizer()
    assert corpus.codes == ["comedy", "noir"] and len(tokenizer) == len(load_tokenizer(str(fitted))) + 2
    assert tokenizer.convert_tokens_to_ids("<|genre:noir|>") == len(tokenizer) - 1
    assert len(Corpus(**options, control="genre", control_format="text").tokenizer()) == len(tokenizer) - 2


def test_a_corpus_is_built_from_a_data_modules_options_and_refuses_what_streaming_cannot_do():
    options = {"source": "x.jsonl", "block_size": 64, "batch_size": 2, "seed": 3, "streaming": True}
    assert Corpus.from_options(options) == Corpus(source="x.jsonl", seed=3, streaming=True)
    with pytest.raises(UserInputError, match="data.train_tokenizer reads every training script: not with"):
        Corpus.from_options({**options, "train_tokenizer": 512})
    with pytest.raises(UserInputError, match="data.control reads every script's genre first: not with"):
        Corpus.from_options({**options, "control": "genre"})
