import json

import pytest


def test_lens_command_writes_pictures_json_and_per_layer_losses(run_cli, tiny_export, tmp_path, capsys):
    text = "INT. DINER - NIGHT\\n\\nMARGO\\nKitchen closed at ten."
    assert run_cli(["lens", f"--model={tiny_export}", f"--text={text}", f"--out={tmp_path}", "--max_tokens=8"]) == 0
    printed = capsys.readouterr().out
    assert "embed" in printed and "layer1" in printed and "Mean surprisal" in printed
    for png in ("lens.png", "surprisal.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    report = json.loads((tmp_path / "lens.json").read_text())
    assert report["layers"] == ["embed", "layer0", "layer1"]
    assert report["tokens"][0] == "<|endoftext|>" and "".join(report["tokens"][1:]) == text.replace("\\n", "\n")
    assert len(report["surprisal_bits"]) == len(report["tokens"]) - 1
    assert all(len(row) == len(report["tokens"]) for row in report["top_tokens"].values())


@pytest.mark.parametrize(
    ("extra", "message"), [(["--max_tokens=1"], "at least 2"), (["--prepend_eos=false", "--text=A"], "two tokens")]
)
def test_lens_command_refuses_bad_input_in_one_line(run_cli, tiny_export, tmp_path, capsys, extra, message):
    args = ["lens", f"--model={tiny_export}", "--text=MARGO", f"--out={tmp_path}"]
    assert run_cli([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
