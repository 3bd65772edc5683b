import json
import math

import pytest
import torch

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.evaluation.perplexity import strided_nll

SCENES = {
    "diner.txt": "INT. DINER - NIGHT\n\n                    MARGO\n          Kitchen closed at ten.\n",
    "roof.txt": "EXT. ROOF - DAWN\n\n                    ELI\n          You came back.\n",
}


@pytest.fixture
def scripts(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name, text in SCENES.items():
        (folder / name).write_text(text)
    return folder


def test_perplexity_of_a_folder_scores_normalised_scripts_each_followed_by_eos(
    run_cli, tiny_export, scripts, tmp_path, capsys
):
    out = tmp_path / "ppl.json"
    args = ["perplexity", f"--model={tiny_export}", f"--data={scripts}", "--context=16", "--stride=8", f"--out={out}"]
    assert run_cli(args) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert f"perplexity {report['ppl']:.3f}" in printed and "bits per byte" in printed
    model, tokenizer = load_model_and_tokenizer(str(tiny_export))
    stream = []
    for name in sorted(SCENES):  # the data module's order and packing
        stream += [*tokenizer(normalise_screenplay(SCENES[name]))["input_ids"], tokenizer.eos_token_id]
    expected = strided_nll(model, torch.tensor(stream), context=16, stride=8)
    assert report["normalize"] is True and report["documents"] == 2 and report["tokens"] == len(stream)
    assert report["predicted_tokens"] == len(stream) - 1 and report["windows"] == expected.n_windows
    assert report["nll_nats"] == pytest.approx(expected.nll_sum, rel=1e-6)
    assert report["ppl"] == pytest.approx(math.exp(expected.nll_sum / (len(stream) - 1)), rel=1e-6)
    # Every byte of the normalised text but the first token's; the end-of-text tokens count none.
    text_bytes = sum(len(normalise_screenplay(t).encode()) for t in SCENES.values())
    first_bytes = len(tokenizer.decode(stream[:1]).encode())
    assert report["predicted_bytes"] == text_bytes - first_bytes
    assert report["bpb"] == pytest.approx(expected.nll_sum / math.log(2) / report["predicted_bytes"])


def test_paragraph_rows_of_a_table_join_with_blank_lines_and_are_not_normalised(run_cli, tiny_export, tmp_path):
    rows = [" = Robert Boulter = \n", "   Robert Boulter is an English actor .\n"]  # WikiText-style rows
    table = tmp_path / "wiki.jsonl"
    table.write_text("".join(json.dumps({"text": row}) + "\n" for row in rows))
    out = tmp_path / "ppl.json"
    args = ["perplexity", f"--model={tiny_export}", f"--data={table}", "--separator=blank_line", "--stride=128"]
    assert run_cli([*args, f"--out={out}"]) == 0
    report = json.loads(out.read_text())
    _, tokenizer = load_model_and_tokenizer(str(tiny_export))
    text = " = Robert Boulter = \n\n   Robert Boulter is an English actor .\n\n"
    assert report["normalize"] is False and report["tokens"] == len(tokenizer(text)["input_ids"])
    assert report["windows"] == 1 and report["predicted_tokens"] == report["tokens"] - 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--stride=17", "--context=16"], "between 1 and the context"), (["--context=999"], "between 2 and the model")],
)
def test_perplexity_refuses_bad_windows_in_one_line(run_cli, tiny_export, scripts, capsys, extra, message):
    assert run_cli(["perplexity", f"--model={tiny_export}", f"--data={scripts}", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
