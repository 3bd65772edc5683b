#!/usr/bin/env bash
# Set up, then run the test suite (about a minute on a 2-core CPU once installed).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
python -m pytest "$@"
