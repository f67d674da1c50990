#!/usr/bin/env bash
# Builds Sloth (the SLO rule generator `harden import sloth` is compared
# with: tests/cli/import.rs runs `sloth generate` on the same spec file)
# from the Go module proxy at the version pinned below and prints the
# directory that holds it, for .ci/run to put on PATH; cached by
# .ci/go-install.sh in ${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci/
# sloth-<version>/. A first build takes minutes (it links client-go).
set -euo pipefail
exec bash "$(dirname "$0")/go-install.sh" sloth github.com/slok/sloth/cmd/sloth v0.16.0
