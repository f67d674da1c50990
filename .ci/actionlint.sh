#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow linter; it runs shellcheck
# on every `run:` script) from the Go module proxy at the version pinned
# below and prints the directory that holds it, for .ci/run to put on PATH;
# cached by .ci/go-install.sh in ${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci/
# actionlint-<version>/. A first build takes about 15 s of CPU.
set -euo pipefail
exec bash "$(dirname "$0")/go-install.sh" actionlint github.com/rhysd/actionlint/cmd/actionlint v1.7.12
