"""scripts/train_genre_classifier.py: a local genre classifier that compare --classifier can load."""

from transformers import pipeline

from conftest import REPO, run_script

SCRIPT = REPO / "scripts" / "train_genre_classifier.py"


def test_genres_with_their_own_words_are_learned_and_the_folder_loads_as_a_pipeline(tmp_path, capsys):
    words = {"alpha": " apple banana cherry plum", "beta": " zebra walrus yak otter"}
    for genre, text in words.items():
        (tmp_path / "scripts" / genre).mkdir(parents=True)
        for i in range(10):
            (tmp_path / "scripts" / genre / f"{i}.txt").write_text((text * 3 + " and the") * 8)
    out = tmp_path / "classifier"
    options = [f"--source={tmp_path / 'scripts'}", "--train_tokenizer=300", "--window=16", "--epochs=3"]
    done = run_script(SCRIPT, f"--out={out}", *options)
    printed = capsys.readouterr()
    assert done == 0, printed.err
    last = printed.out.strip().splitlines()[-1]
    assert last.startswith(f"Saved in {out}: validation accuracy ") and last.endswith("(chance 0.500)")
    assert float(last.split("accuracy ")[1].split()[0]) > 0.9
    classify = pipeline("text-classification", model=str(out))
    assert classify("zebra walrus yak otter zebra walrus")[0]["label"] == "beta"
    assert classify("apple banana cherry plum apple banana")[0]["label"] == "alpha"
    assert classify("apple banana " * 200, truncation=True)[0]["label"] == "alpha"  # longer than its context


def test_a_window_longer_than_every_script_and_no_epochs_are_refused_in_one_line(tmp_path, capsys):
    for genre in ("alpha", "beta"):
        (tmp_path / "scripts" / genre).mkdir(parents=True)
        for i in range(10):
            (tmp_path / "scripts" / genre / f"{i}.txt").write_text(f"{genre} words")
    options = [f"--out={tmp_path / 'c'}", f"--source={tmp_path / 'scripts'}", "--train_tokenizer=300", "--window=64"]
    assert run_script(SCRIPT, *options) == 1
    assert (
        capsys.readouterr().err.strip().splitlines()[-1]
        == "error: no training script is 64 tokens long: lower --window"
    )
    assert not (tmp_path / "c").exists()
    assert run_script(SCRIPT, *options[:3], "--epochs=0") == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == "error: --epochs=0 must be at least 1"
    assert not (tmp_path / "c").exists()
