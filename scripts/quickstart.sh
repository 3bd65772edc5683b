#!/usr/bin/env bash
# Set up, then train the quickstart model on the embedded corpus (about 3 minutes on a 2-core CPU).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
lit-gpt2 fit --config configs/quickstart.yaml "$@"
