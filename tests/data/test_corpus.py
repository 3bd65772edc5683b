"""The embedded corpus: large enough to learn from, labelled by genre, well-formed, and no copies."""

from collections import defaultdict

from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.data.sources import embedded_corpus_files, load_scripts
from lit_gpt2.decoding.structure import structure_score

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
