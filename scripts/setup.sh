#!/usr/bin/env bash
# Creates .venv (once) and installs lit-gpt2 with its test tools into it. Sourced by the scripts beside it.
# TORCH_SPEC picks the torch build when none is installed yet (default: the CPU build pinned below;
# an unpinned torch would pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# Some pip configurations list local mirror folders that may be absent; drop those warnings only.
pip_install() { python -m pip install -q "$@" 2> >(grep -v "is ignored" >&2); }
pip_install --upgrade pip
python -c "import torch" 2>/dev/null || pip_install "${TORCH_SPEC:-torch==2.13.0}"
pip_install -e ".[test]"
python -c "import lit_gpt2, torch" # fail here, not later, if the install did not work
