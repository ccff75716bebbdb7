#!/usr/bin/env bash
# Fails when the build log shows a compiler warning in Strata's own sources (Swift 6, no warnings).
set -euo pipefail
log=$1
if grep -E "^$(pwd)/(Sources|Tests)/.*: warning:" "$log" | sort -u; then
    echo "check-warnings: the build has warnings in Strata's sources" >&2
    exit 1
fi
