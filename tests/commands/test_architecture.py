import json


def test_architecture_command_prints_and_writes(run_cli, tmp_path, capsys):
    assert run_cli(["architecture", "--model=gpt2-medium", "--compare=[bert, t5]", f"--out={tmp_path}"]) == 0
    printed = capsys.readouterr().out
    assert "| **total** | **354,823,168** | |" in printed and "BERT base" in printed
    data = json.loads((tmp_path / "architecture.json").read_text())
    assert data["total"] == 354_823_168 and len(data["comparison"]) == 3
    assert (tmp_path / "architecture.md").read_text() in printed


def test_architecture_of_an_exported_model_and_bad_names(run_cli, tiny_export, capsys):
    assert run_cli(["architecture", f"--model={tiny_export}"]) == 0
    assert "layers 2, heads 2, head size 16" in capsys.readouterr().out
    assert run_cli(["architecture", "--model=not-a-model"]) == 2
    assert "no model config for 'not-a-model'" in capsys.readouterr().err
    assert run_cli(["architecture", "--compare", "bert", "opera"]) == 2
    assert "can compare with bert, bart, t5, xlnet; unknown: opera" in capsys.readouterr().err
