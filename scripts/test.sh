#!/usr/bin/env bash
# Set up, then run the test suite (about 4 minutes on a 2-core CPU once installed; docs/performance.md).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# One pytest-xdist worker per core (tests/conftest.py keeps the tests that share a fit on one worker);
# add -n 0 to run in this process, e.g. under a debugger.
python -m pytest -n auto "$@"
