import itertools
import math
import pickle
import traceback

import pytest
import torch

from lit_gpt2.evaluation.bits_per_byte import bits_per_byte
from lit_gpt2.module import seed_dropout
from lit_gpt2.optim import adamw_param_groups, warmup_cosine, warmup_cosine_scheduler


def test_validation_nll_is_token_weighted_over_unequal_batches(tiny_module):
    torch.manual_seed(0)
    tiny_module.eval()
    batches = [{"input_ids": torch.randint(0, 50257, (b, 9))} for b in (1, 3)]
    losses, counts = [], []
    with torch.no_grad():
        for i, batch in enumerate(batches):
            tiny_module.validation_step(batch, i)
            loss, n = tiny_module.shared_step(batch)
            losses.append(loss)
            counts.append(n)
    expected = sum(loss * n for loss, n in zip(losses, counts)) / sum(counts)
    unweighted = sum(losses) / 2
    assert torch.allclose(tiny_module.val_nll.compute(), expected)
    assert not torch.allclose(expected, unweighted)


def test_bits_per_byte_is_the_nll_in_bits_over_the_bytes_the_tokens_cover(tiny_module):
    text = "MARGO\nCaf\u00e9 closed at ten.\n"  # the accented letter is two UTF-8 bytes
    ids = torch.tensor([tiny_module.tokenizer(text)["input_ids"]])
    tiny_module.eval()
    with torch.no_grad():
        tiny_module.validation_step({"input_ids": ids}, 0)
        loss, n_tokens = tiny_module.shared_step({"input_ids": ids})
    first_token_bytes = len(tiny_module.tokenizer.decode(ids[0, :1]).encode())  # the first token is not predicted
    predicted_bytes = len(text.encode()) - first_token_bytes
    assert tiny_module.val_bytes.compute() == predicted_bytes
    expected = loss * n_tokens / math.log(2) / predicted_bytes
    assert torch.allclose(bits_per_byte(tiny_module.val_nll_sum.compute(), tiny_module.val_bytes.compute()), expected)


def test_no_weight_decay_on_biases_and_layernorm(tiny_module):
    decay, no_decay = adamw_param_groups(tiny_module.model, weight_decay=0.1)
    names = {id(p): n for n, p in tiny_module.model.named_parameters()}
    assert all(names[id(p)].endswith("bias") or ".ln_" in names[id(p)] for p in no_decay["params"])
    assert any("ln_f.weight" == names[id(p)].split("transformer.")[-1] for p in no_decay["params"])
    assert all(p.ndim == 2 for p in decay["params"]) and decay["weight_decay"] == 0.1


def test_schedule_warms_up_then_decays_to_the_floor():
    lr = [warmup_cosine(s, warmup_steps=4, total_steps=20, min_lr_ratio=0.1) for s in range(21)]
    assert lr[0] == 0.25 and lr[3] == 1.0
    assert all(a >= b for a, b in itertools.pairwise(lr[3:]))
    assert abs(lr[20] - 0.1) < 1e-9


def test_scheduler_pickles_for_ddp_and_checkpoints():
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])
    scheduler = warmup_cosine_scheduler(optimizer, warmup_steps=2, total_steps=10, min_lr_ratio=0.1)
    pickle.dumps(scheduler.lr_lambdas)


def test_no_remote_code_is_ever_trusted():
    from conftest import REPO

    sources = [p.read_text() for p in (REPO / "lit_gpt2").rglob("*.py")]
    assert sources and not any("trust_remote_code" in text for text in sources)


def test_negative_loss_chunk_size_is_refused(tiny_config):
    import pytest

    from lit_gpt2.errors import UserInputError
    from lit_gpt2.module import GPT2LitModule

    with pytest.raises(UserInputError, match="loss_chunk_size=-1 must be >= 0"):
        GPT2LitModule(config=tiny_config, loss_chunk_size=-1)


@pytest.mark.parametrize(("fused_adamw", "expected"), [(None, True), (True, True), (False, None)])
def test_fused_adamw_is_switchable_and_on_by_default_on_cpu(tiny_config, fused_adamw, expected):
    from types import SimpleNamespace

    from lightning.pytorch.plugins.precision import Precision

    from lit_gpt2.module import GPT2LitModule

    module = GPT2LitModule(config=tiny_config, fused_adamw=fused_adamw)
    # All configure_optimizers asks of the trainer: the plan's length and the precision plugin (no scaler).
    module.trainer = SimpleNamespace(estimated_stepping_batches=5, precision_plugin=Precision())
    optimizer = module.configure_optimizers()["optimizer"]
    assert optimizer.defaults["fused"] is expected


def test_adamw_is_not_fused_by_default_under_a_loss_scaler(tiny_config):
    """16-mixed's scaler unscales the gradients before clipping; fused AdamW would unscale them itself."""
    from types import SimpleNamespace

    from lit_gpt2.module import GPT2LitModule

    module = GPT2LitModule(config=tiny_config)
    module._trainer = SimpleNamespace(estimated_stepping_batches=5, precision_plugin=SimpleNamespace(scaler=object()))
    assert module.configure_optimizers()["optimizer"].defaults["fused"] is None


def test_compiled_loss_equals_the_eager_loss():
    from conftest import eager_and_compiled_loss

    eager, compiled = eager_and_compiled_loss("cpu", length=16)
    assert compiled == pytest.approx(eager, rel=1e-5)


def test_fused_adamw_under_bf16_mixed_clips_where_lightning_would_refuse(run_cli, tmp_path):
    """Lightning refuses norm clipping with a fused optimizer under AMP; bf16 has no scaler, so it is sound."""
    from conftest import tiny_fit_args

    # Two optimizer steps, each clipped, and a checkpoint.
    short = ["--trainer.limit_train_batches=2", "--trainer.limit_val_batches=1"]
    args = tiny_fit_args(tmp_path, "--trainer.precision=bf16-mixed", "--model.fused_adamw=true", *short, epochs=1)
    assert run_cli(args) == 0
    assert list((tmp_path / "runs" / "lit-gpt2").glob("version_0/checkpoints/last.ckpt"))


@pytest.mark.parametrize("lora", [False, True])
def test_gradient_checkpointing_gives_the_same_loss_and_gradients_and_recomputes_the_blocks(tiny_config, lora):
    """Same weights, same batch: checkpointing changes memory and time, never the numbers. The blocks run
    twice per step with it (forward, then again in the backward pass), which shows it is really on."""
    from lit_gpt2.modeling.lora import LoraSettings
    from lit_gpt2.module import GPT2LitModule

    no_dropout = {**tiny_config, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
    batch = {"input_ids": torch.randint(0, 50257, (2, 24), generator=torch.Generator().manual_seed(0))}
    results = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        settings = LoraSettings(rank=4) if lora else None
        module = GPT2LitModule(config=no_dropout, gradient_checkpointing=checkpointing, lora=settings)
        calls = []
        module.model.transformer.h[0].ln_1.register_forward_pre_hook(lambda *_, calls=calls: calls.append(1))
        loss, _ = module.shared_step(batch)
        loss.backward()
        grads = {name: p.grad.clone() for name, p in module.model.named_parameters() if p.requires_grad}
        results.append((loss.detach(), grads, len(calls)))
    (plain_loss, plain_grads, plain_calls), (ckpt_loss, ckpt_grads, ckpt_calls) = results
    torch.testing.assert_close(ckpt_loss, plain_loss)
    assert plain_grads.keys() == ckpt_grads.keys() and plain_grads
    for name, grad in plain_grads.items():
        torch.testing.assert_close(ckpt_grads[name], grad, msg=name)
    assert (plain_calls, ckpt_calls) == (1, 2)


def test_seed_dropout_draws_as_manual_seed_does_on_a_cpu_without_recording_a_stack(monkeypatch):
    torch.manual_seed(7)
    expected = torch.nn.functional.dropout(torch.ones(64), p=0.5)
    torch.manual_seed(8)

    def recorded(*args, **kwargs):
        raise AssertionError("a stack was recorded to seed a device that has not started")

    monkeypatch.setattr(traceback, "format_stack", recorded)  # what torch.manual_seed does per call here
    seed_dropout(7, torch.device("cpu"))
    assert torch.equal(torch.nn.functional.dropout(torch.ones(64), p=0.5), expected)


@pytest.mark.parametrize(
    ("switch", "on_gpu", "applied"),
    [(None, False, True), (None, True, False), (False, False, False), (True, True, True)],
)
def test_keep_freed_memory_is_applied_on_cpus_unless_switched(tiny_config, monkeypatch, switch, on_gpu, applied):
    from lit_gpt2.module import GPT2LitModule

    calls = []
    monkeypatch.setattr("lit_gpt2.module.keep_freed_memory", lambda: calls.append(1) or True)
    module = GPT2LitModule(config=tiny_config, keep_freed_memory=switch)
    assert not calls  # building a module changes nothing in the process
    module.resolve_speed_switches(on_gpu=on_gpu, sharded=False)
    assert module.tune_allocator() is applied
    assert len(calls) == applied
