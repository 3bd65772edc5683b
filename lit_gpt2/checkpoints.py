"""Loading trained models back: from a Lightning checkpoint, an exported folder, or a hub name."""

import pickle
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import torch
from huggingface_hub import try_to_load_from_cache
from safetensors import safe_open
from transformers import GPT2LMHeadModel, PreTrainedTokenizerBase

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling import build_model, load_tokenizer
from lit_gpt2.modeling.hub import hub_reachable
from lit_gpt2.module import GPT2LitModule


def verify_checkpoint(ckpt_path: str | Path) -> Path:
    """Refuse a missing, truncated or corrupted checkpoint before anything tries to load it.

    A checkpoint is a zip archive (torch.save's format); a cut-off or damaged one fails the archive's
    CRC check, which reads the file once without unpickling anything.
    """
    path = Path(ckpt_path)
    if is_deepspeed_checkpoint(path):
        return path  # DeepSpeed checks its own folder when it loads it
    if not path.is_file():
        raise UserInputError(f"checkpoint {str(path)!r} does not exist: pass the path of a .ckpt file")
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        damaged = "the archive"
    if damaged is not None:
        raise _unreadable(path, f"{damaged} is damaged")
    return path


# A truncated zip archive surfaces as any of these when loaded, depending on where the cut falls.
LOAD_ERRORS = (RuntimeError, EOFError, KeyError, ValueError, OSError, pickle.UnpicklingError)


def _unreadable(path: Path, why: str) -> UserInputError:
    return UserInputError(
        f"checkpoint {str(path)!r} cannot be read ({why}): it may be truncated or not a lit-gpt2 checkpoint; "
        "use another one, e.g. the run's last.ckpt"
    )


def find_last_checkpoint(folders: Iterable[Path]) -> Path | None:
    """The most recently written ``last.ckpt`` among these checkpoint folders, as Lightning would pick."""
    found = [folder / "last.ckpt" for folder in folders if (folder / "last.ckpt").exists()]
    return max(found, key=lambda path: path.stat().st_mtime, default=None)


def best_checkpoint_recorded_in(last: Path) -> Path | None:
    """The best checkpoint that the run's ModelCheckpoint recorded in its ``last.ckpt``, if it still exists.

    Memory-mapped, so a multi-gigabyte optimizer state is not read to find one path.
    """
    if is_deepspeed_checkpoint(last):
        return None  # its Lightning state lies inside DeepSpeed's own files
    try:
        state = torch.load(last, map_location="cpu", weights_only=True, mmap=True)
    except LOAD_ERRORS as err:
        raise _unreadable(last, type(err).__name__) from None
    for name, callback_state in state.get("callbacks", {}).items():
        best = callback_state.get("best_model_path") if name.startswith("ModelCheckpoint") else None
        # Recorded as the run saw it (perhaps relative to another folder); beside last.ckpt if moved.
        for candidate in (Path(best), last.parent / Path(best).name) if best else ():
            if candidate.exists():
                return candidate
    return None


CARD_KEY = "lit_gpt2_model_card"  # the model card's facts, as the export callback records them


def recorded_card_facts(ckpt_path: str | Path) -> dict | None:
    """The model card's facts a checkpoint recorded (``lit_gpt2.model_card.card_facts``), if any;
    memory-mapped, so the weights are not read to find them."""
    path = Path(ckpt_path)
    if is_deepspeed_checkpoint(path):
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True).get(CARD_KEY)
    except LOAD_ERRORS as err:
        raise _unreadable(path, type(err).__name__) from None


def is_deepspeed_checkpoint(path: Path) -> bool:
    """DeepSpeed saves a ``.ckpt`` folder of per-rank shards with a ``latest`` tag file."""
    return path.is_dir() and (path / "latest").is_file()


def load_module(ckpt_path: str | Path, map_location: str = "cpu") -> GPT2LitModule:
    """The module saved in ``ckpt_path``, rebuilt from the architecture the checkpoint records.

    Loaded with ``weights_only=True``: tensors and plain values only, no arbitrary code from the file.
    A DeepSpeed checkpoint folder is first consolidated into one file by Lightning's converter, which
    must unpickle DeepSpeed's own format in full: load only folders you trust.
    """
    path = verify_checkpoint(ckpt_path)
    if is_deepspeed_checkpoint(path):
        from lightning.pytorch.utilities.deepspeed import convert_zero_checkpoint_to_fp32_state_dict

        with tempfile.TemporaryDirectory() as tmp:
            single = Path(tmp) / "consolidated.ckpt"
            convert_zero_checkpoint_to_fp32_state_dict(str(path), str(single))
            return load_module(single, map_location)
    try:
        return GPT2LitModule.load_from_checkpoint(path, map_location=map_location, weights_only=True)
    except LOAD_ERRORS as err:
        raise _unreadable(path, type(err).__name__) from None


def check_model_spec(spec: str, option: str = "--model") -> None:
    """Refuse, before any work, a model that cannot be loaded: a missing or damaged checkpoint, a folder
    that is not an exported model, a mistyped path, or a hub name that is neither cached nor reachable."""
    path = Path(spec).expanduser()
    if spec.endswith(".ckpt") or is_deepspeed_checkpoint(path):
        verify_checkpoint(path)
        return
    usage = "give a .ckpt file, a folder written by lit-gpt2 export, or a Hugging Face model name"
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserInputError(f"{option}={spec} is a folder without config.json, not a saved model: {usage}")
        if not _weights_readable(path / "model.safetensors"):
            raise UserInputError(
                f"{option}={spec}: model.safetensors is damaged (truncated?): export the model again, e.g. "
                "lit-gpt2 export --ckpt_path=RUN/checkpoints/last.ckpt --out=FOLDER --overwrite"
            )
        return
    if path.exists():
        raise UserInputError(f"{option}={spec} is a file, not a model: {usage}")
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec:
        raise UserInputError(f"{option}={spec} does not exist: check the path ({usage})")
    try:
        cached = isinstance(try_to_load_from_cache(spec, "config.json"), str)
    except ValueError:  # not a valid hub name
        raise UserInputError(f"{option}={spec} does not exist: {usage}") from None
    if not cached and not hub_reachable():
        raise UserInputError(
            f"{option}={spec} is no local folder or file, not in the Hugging Face cache, and the hub is unreachable: "
            f"check the name, or run once with network access ({usage})"
        )


def _weights_readable(safetensors_file: Path) -> bool:
    """Whether a ``model.safetensors`` (when there is one) opens: its header names every tensor's byte
    range, which a truncated file no longer holds."""
    if not safetensors_file.is_file():
        return True
    try:
        with safe_open(str(safetensors_file), framework="pt"):
            return True  # opening checks the header's byte ranges against the file's size
    except Exception:  # safetensors raises its own SafetensorError, or OSError
        return False


def load_model_and_tokenizer(spec: str, map_location: str = "cpu") -> tuple[GPT2LMHeadModel, PreTrainedTokenizerBase]:
    """A ``.ckpt`` file, a folder saved by ``export``/``save_pretrained``, or a hub name (online)."""
    check_model_spec(spec)
    if spec.endswith(".ckpt"):
        module = load_module(spec, map_location)
        return module.model, module.tokenizer
    tokenizer = load_tokenizer(spec)
    model = build_model(pretrained=spec, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    # transformers wraps PreTrainedModel.to in a decorator whose annotation drops the device argument.
    return model.to(map_location), tokenizer  # type: ignore[arg-type]
