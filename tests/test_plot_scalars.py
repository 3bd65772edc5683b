"""scripts/plot_scalars.py: logged scalars of a run back out of its events, drawn as a PNG."""

from torch.utils.tensorboard import SummaryWriter

from conftest import REPO, run_script

SCRIPT = REPO / "scripts" / "plot_scalars.py"


def test_a_runs_scalars_become_a_png_and_a_missing_tag_is_named(tmp_path, capsys):
    run = tmp_path / "version_0"
    with SummaryWriter(run) as writer:
        for step, value in [(0, 0.03), (10, 0.15), (20, 0.09)]:
            writer.add_scalar("val/genre_accuracy", value, step)
        writer.add_scalar("val/loss", 3.0, 20)
    out = tmp_path / "curve.png"
    done = run_script(SCRIPT, str(run), "--tags", "val/genre_accuracy", "--reference", "0.077", f"--out={out}")
    assert done == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert run_script(SCRIPT, str(run), "--tags", "val/bpb", f"--out={out}") == 1
    assert capsys.readouterr().err.strip() == f"{run} logged no val/bpb: it has val/genre_accuracy, val/loss, ..."
