#!/usr/bin/env bash
# `make test`'s Autobahn step (~2 minutes): our server (ws-echo) against cases 1.*-10.* and a
# compression subset of 12.*/13.*, then our client against the fuzzingserver on a subset
# (9.* limits and the long 12.*/13.* runs are left to `make conformance`, which runs all).
# Reports go to .run/autobahn/{server,client}; any FAILED case fails the step.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CONFORMANCE_OUT="$ROOT/.run/autobahn"
export CONFORMANCE_CONFIG="${CONFORMANCE_CONFIG:-release}"
status=0
scripts/conformance.sh server "1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*,12.1.1,12.1.2,12.1.3,13.1.1,13.1.2,13.1.3,13.3.1,13.3.2,13.3.3" || status=1
scripts/conformance.sh client "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*,12.1.1,12.1.2,13.1.1,13.3.1" || status=1
exit $status
