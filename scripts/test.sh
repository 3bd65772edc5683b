#!/usr/bin/env bash
# Set up, then run the test suite (about 7 to 10 minutes on a 2-core CPU once installed; docs/performance.md).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
python -m pytest "$@"
