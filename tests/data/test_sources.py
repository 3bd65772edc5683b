import json

import pytest

from lit_gpt2.data.sources import load_scripts
from lit_gpt2.errors import UserInputError


def test_default_source_is_the_embedded_corpus():
    scripts, report = load_scripts(None)
    assert len(scripts) >= 40
    assert sum(len(t.encode()) for t in scripts["text"]) >= 60_000
    assert report.files == 0
    assert all(t.lstrip().startswith("INT.") or t.lstrip().startswith("EXT.") for t in scripts["text"])


def test_folder_of_txt_scripts_one_per_file_with_titles(tmp_path):
    (tmp_path / "alien.txt").write_text("INT. SHIP\nRIPLEY\nHello.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "heat.txt").write_text("EXT. STREET\n")
    (tmp_path / "notes.md").write_text("ignored")
    scripts, _ = load_scripts(str(tmp_path))
    assert sorted(scripts["title"]) == ["alien", "heat"]


def test_glob_selects_files(tmp_path):
    for name in ("a.txt", "b.txt", "c.log"):
        (tmp_path / name).write_text(name)
    scripts, _ = load_scripts(str(tmp_path / "*.txt"))
    assert scripts["text"] == ["a.txt", "b.txt"]


def test_undecodable_bytes_are_replaced_and_counted(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 and \xff\xfe end")
    (tmp_path / "good.txt").write_text("fine")
    scripts, report = load_scripts(str(tmp_path))
    assert (report.files, report.bytes) == (1, 3)
    assert scripts["text"][0] == "caf\ufffd and \ufffd\ufffd end"


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_tables_with_text_title_and_genre_columns(tmp_path, fmt):
    import pandas as pd

    frame = pd.DataFrame({"script": ["INT. A", "INT. B", ""], "name": ["A", "B", "C"], "kind": ["noir", "sci-fi", "x"]})
    path = tmp_path / f"scripts.{fmt}"
    {
        "csv": lambda: frame.to_csv(path, index=False),
        "jsonl": lambda: frame.to_json(path, orient="records", lines=True),
        "parquet": lambda: frame.to_parquet(path),
    }[fmt]()
    scripts, _ = load_scripts(str(path), text_column="script", title_column="name", genre_column="kind")
    assert scripts["text"] == ["INT. A", "INT. B"]  # the empty row is dropped
    assert scripts["title"] == ["A", "B"]
    assert scripts["genre"] == ["noir", "sci-fi"]


def test_missing_text_column_names_the_columns(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"body": "x"}) + "\n")
    with pytest.raises(
        UserInputError, match=r"column 'text' \(data.text_column\) is not in .*s.jsonl; its columns are body"
    ):
        load_scripts(str(path))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "no .txt scripts"),
        (lambda p: (p.mkdir(), (p / "a.txt").write_text("  \n")), "is empty"),
    ],
)
def test_bad_sources_give_one_clear_line(tmp_path, make, message):
    source = tmp_path / "scripts"
    make(source)
    with pytest.raises(UserInputError, match=message) as err:
        load_scripts(str(source))
    assert "\n" not in str(err.value)


def test_a_hub_dataset_is_read_with_its_configuration_and_split(monkeypatch):
    # Offline here: the hub is stood in for; what matters is what lit-gpt2 asks it for.
    import datasets

    import lit_gpt2.data.sources as sources

    asked = []

    def load_dataset(name, config=None, split=None, streaming=False):
        asked.append((name, config, split, streaming))
        rows = {"text": ["= Valkyria =", "", "It is a game ."]}
        table = datasets.Dataset.from_dict(rows)
        return table.to_iterable_dataset() if streaming else table

    monkeypatch.setattr(sources, "hub_reachable", lambda: True)
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    scripts, _ = sources.load_scripts("Salesforce/wikitext", hub_split="test", hub_config="wikitext-2-raw-v1")
    assert scripts["text"][0] == "= Valkyria ="
    streamed = [
        row["text"] for row in sources.stream_documents("Salesforce/wikitext", "text", "test", "wikitext-2-raw-v1")
    ]
    assert "It is a game ." in streamed
    assert asked == [
        ("Salesforce/wikitext", "wikitext-2-raw-v1", "test", False),
        ("Salesforce/wikitext", "wikitext-2-raw-v1", "test", True),
    ]
