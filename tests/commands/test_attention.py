import json


def test_attention_command_writes_pngs_json_and_a_summary(run_cli, tiny_export, tmp_path, capsys):
    args = ["attention", f"--model={tiny_export}", "--text=MARGO\\nKitchen closed at ten.", f"--out={tmp_path}"]
    assert run_cli([*args, "--heads", "[1, 1]", "[0, 1]"]) == 0  # space-separated pairs
    printed = capsys.readouterr().out
    assert printed.startswith("layer | entropy")
    assert "previous-token heads:" in printed and "where a head reads" in printed
    assert "best induction head: L" in printed
    for png in ("grid.png", "rollout.png", "layer1_head1.png", "layer0_head1.png", "heads_induction.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    stats = json.loads((tmp_path / "statistics.json").read_text())
    assert stats["tokens"][0] == "<|endoftext|>"
    assert len(stats["per_head"]["entropy"]) == 2 and len(stats["per_head"]["entropy"][0]) == 2
    assert set(stats["head_classes"]) == {"previous_token", "sink", "broad"}
    scores = stats["head_scores"]
    assert set(scores) == {"previous_token", "duplicate_token", "induction"}
    assert all(0 <= v <= 1 for rows in scores.values() for row in rows for v in row) and len(scores["induction"]) == 2
