"""The GPU paths: every strategy config on CUDA (NCCL) with the watching callbacks, the bf16 default,
bf16 through the chunked loss, and torch.compile. Skipped where there is no CUDA GPU (CI has none); run on
a GPU machine with ``python -m pytest tests/test_gpu.py``."""

import importlib.util
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from transformers import GPT2LMHeadModel

from conftest import REPO, TINY_CONFIG, eager_and_compiled_loss, tiny_fit_args
from lit_gpt2.modeling.loss import chunked_lm_loss

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; CI has none")

CALLBACKS = {
    "trainer": {
        "callbacks": [
            {
                "class_path": "lit_gpt2.callbacks.SampleGenerationCallback",
                "init_args": {"max_new_tokens": 8, "strategies": ["greedy", "beam-5", "top-p-0.9"]},
            },
            {"class_path": "lit_gpt2.callbacks.AttentionHeatmapCallback"},
        ]
    }
}
NEEDS_DEEPSPEED = pytest.mark.skipif(
    importlib.util.find_spec("deepspeed") is None, reason="deepspeed is not installed (pip install -e '.[deepspeed]')"
)
STRATEGY_CONFIGS = [
    pytest.param(None, id="single-gpu"),
    pytest.param("ddp.yaml", id="ddp"),
    pytest.param("fsdp.yaml", id="fsdp"),
    pytest.param("deepspeed.yaml", id="deepspeed-stage2", marks=NEEDS_DEEPSPEED),
    pytest.param("deepspeed-stage3.yaml", id="deepspeed-stage3", marks=NEEDS_DEEPSPEED),
]


def _gpu_fit_args(tmp_path: Path, *extra: str) -> list[str]:
    callbacks = tmp_path / "callbacks.yaml"
    callbacks.write_text(yaml.safe_dump(CALLBACKS))
    # GPT-2's own 50,257 tokens: the GPU defaults pad that vocabulary, and the export keeps its shape.
    args = [a for a in tiny_fit_args(tmp_path, epochs=1, gpt2_vocab=True) if a != "--trainer.accelerator=cpu"]
    return [*args, f"--config={callbacks}", "--trainer.accelerator=gpu", "--trainer.devices=1", *extra]


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}


def _events(tmp_path: Path) -> EventAccumulator | None:
    runs = list((tmp_path / "runs" / "lit-gpt2").glob("version_*"))
    if len(runs) != 1:
        return None
    events = EventAccumulator(str(runs[0]), size_guidance={"tensors": 0, "images": 0, "scalars": 0})
    events.Reload()
    return events


def _gpu_fit(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, EventAccumulator | None]:
    done = subprocess.run(
        [sys.executable, "-m", "lit_gpt2", *_gpu_fit_args(tmp_path, *extra)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=REPO,
        timeout=400,
    )
    return done, _events(tmp_path) if done.returncode == 0 else None


def _before_training(events: EventAccumulator) -> tuple[bytes, dict[str, float]]:
    """Step 0's greedy samples and attention statistics: what the side passes saw of the initial weights."""
    (first, *_) = events.Tensors("samples/greedy/text_summary")
    assert first.step == 0
    attention = {tag: events.Scalars(tag)[0].value for tag in events.Tags()["scalars"] if tag.startswith("attn/layer")}
    assert attention
    return first.tensor_proto.string_val[0], attention


@pytest.fixture(scope="module")
def single_gpu_before_training(tmp_path_factory) -> tuple[bytes, dict[str, float]]:
    done, events = _gpu_fit(tmp_path_factory.mktemp("reference"), "--trainer.precision=32-true")
    assert events is not None, done.stderr[-3000:]
    return _before_training(events)


@pytest.mark.parametrize("config", STRATEGY_CONFIGS)
def test_strategy_config_runs_the_callbacks_on_whole_weights(config, tmp_path, single_gpu_before_training):
    """Under every strategy the step-0 samples and attention statistics (same initial weights, fp32)
    equal the plain single-GPU ones: the side passes saw whole weights, not shards."""
    extra = [f"--config={REPO / 'configs' / config}"] if config else []
    done, events = _gpu_fit(tmp_path, *extra, "--trainer.devices=1", "--trainer.precision=32-true")
    assert events is not None, done.stderr[-3000:]
    samples, attention = _before_training(events)
    reference_samples, reference_attention = single_gpu_before_training
    assert samples == reference_samples
    assert attention == pytest.approx(reference_attention, rel=1e-4, abs=1e-6, nan_ok=True)
    assert [i.step for i in events.Images("attention/grid")] == [0, 4]
    assert math.isfinite(events.Scalars("val/ppl")[-1].value)


def _over_gloo(strategy: str, **init_args: object) -> list[str]:
    """The strategy spelt out as a class, so its process group backend can be set."""
    args = [f"--trainer.strategy=lightning.pytorch.strategies.{strategy}"]
    return args + [
        f"--trainer.strategy.{name}={value}" for name, value in {**init_args, "process_group_backend": "gloo"}.items()
    ]


TWO_RANK_CONFIGS = [
    pytest.param("fsdp.yaml", ["--trainer.strategy.init_args.process_group_backend=gloo"], id="fsdp"),
    pytest.param(
        "deepspeed.yaml", _over_gloo("DeepSpeedStrategy", stage=2), id="deepspeed-stage2", marks=NEEDS_DEEPSPEED
    ),
    pytest.param(
        "deepspeed-stage3.yaml", _over_gloo("DeepSpeedStrategy", stage=3), id="deepspeed-stage3", marks=NEEDS_DEEPSPEED
    ),
]


@pytest.mark.parametrize(("config", "gloo"), TWO_RANK_CONFIGS)
def test_sharded_strategy_between_two_ranks_sharing_one_gpu(config, gloo, tmp_path, single_gpu_before_training):
    """Two one-rank "nodes" started by scripts/torchrun/fit.sh share this GPU, so FULL_SHARD and ZeRO
    really split the weights (FSDP's root unit with the embeddings included) in two; the side passes must
    still see whole weights. NCCL refuses two ranks on one GPU, so the ranks talk over gloo, which
    carries CUDA tensors too."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = str(free.getsockname()[1])
    args = _gpu_fit_args(
        tmp_path,
        f"--config={REPO / 'configs' / config}",
        *gloo,
        "--trainer.devices=1",
        "--trainer.num_nodes=2",
        "--trainer.precision=32-true",
    )
    assert args[0] == "fit"  # the script adds it
    nodes = [
        subprocess.Popen(
            ["bash", str(REPO / "scripts" / "torchrun" / "fit.sh"), *args[1:]],
            env=_env(NNODES="2", NODE_RANK=str(rank), GPUS_PER_NODE="1", HEAD_PORT=port),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [node.communicate(timeout=400)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    assert "MEMBER: 1/2" in outputs[0] and "MEMBER: 2/2" in outputs[1]  # Lightning's rank banner

    events = _events(tmp_path)  # rank 0 alone writes: one run folder, one event file
    assert events is not None
    samples, attention = _before_training(events)
    reference_samples, reference_attention = single_gpu_before_training
    assert samples == reference_samples
    assert attention == pytest.approx(reference_attention, rel=1e-4, abs=1e-6, nan_ok=True)
    assert [i.step for i in events.Images("attention/grid")] == [0, 4]
    assert len(events.Scalars("val/ppl")) == 1 and math.isfinite(events.Scalars("val/ppl")[0].value)
    # The checkpoint holds whole weights, gathered from both ranks' shards: the export loads as one model.
    (exported,) = (tmp_path / "runs" / "lit-gpt2").glob("version_*/export")
    model = GPT2LMHeadModel.from_pretrained(exported)
    assert model.transformer.wte.weight.shape == (50257, TINY_CONFIG["n_embd"])
    assert all(torch.isfinite(parameter).all() for parameter in model.parameters())


@pytest.mark.parametrize("config", [None, "fsdp.yaml"], ids=["single-gpu", "fsdp"])
def test_bf16_mixed_is_the_gpu_default_and_trains(config, tmp_path):
    """Unset precision resolves to bf16-mixed on a bf16 GPU; single-GPU runs also compile by default."""
    extra = [f"--config={REPO / 'configs' / config}", "--trainer.devices=1"] if config else []
    done, events = _gpu_fit(tmp_path, *extra, "--trainer.max_epochs=2", "--throughput.window_size=2")
    assert events is not None, done.stderr[-3000:]
    (saved,) = (tmp_path / "runs" / "lit-gpt2").glob("version_*/config.yaml")
    assert yaml.safe_load(saved.read_text())["trainer"]["precision"] == "bf16-mixed"
    ppl = [s.value for s in events.Scalars("val/ppl")]
    assert all(math.isfinite(p) for p in ppl) and ppl[-1] < ppl[0], ppl
    assert events.Scalars("train/device/items_per_sec")


def test_chunked_loss_under_bf16_autocast_matches_the_full_logits_loss():
    torch.manual_seed(0)
    hidden = torch.randn(4, 64, 256, device="cuda", requires_grad=True)
    weight = (torch.randn(50257, 256, device="cuda") * 0.02).requires_grad_()
    labels = torch.randint(0, 50257, (4, 64), device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        chunked = chunked_lm_loss(hidden, weight, labels, chunk_size=100)
        full = torch.nn.functional.cross_entropy(
            (hidden[:, :-1] @ weight.t()).float().reshape(-1, 50257), labels[:, 1:].reshape(-1)
        )
    grads_chunked = torch.autograd.grad(chunked, (hidden, weight))
    grads_full = torch.autograd.grad(full, (hidden, weight))
    assert chunked.dtype == torch.float32
    torch.testing.assert_close(chunked, full, rtol=2e-3, atol=2e-3)
    for ours, reference in zip(grads_chunked, grads_full):
        assert ours.dtype == reference.dtype
        cosine = torch.nn.functional.cosine_similarity(ours.flatten(), reference.flatten(), dim=0)
        assert cosine > 0.999


def test_compiled_training_gives_the_eager_loss_and_gradients():
    eager, compiled = eager_and_compiled_loss("cuda", length=64)
    assert compiled == pytest.approx(eager, rel=1e-4)
