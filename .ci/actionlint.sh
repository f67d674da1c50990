#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow linter; it runs shellcheck
# on every `run:` script) from the Go module proxy at the version pinned
# below, whose checksums the Go checksum database verifies, and prints the
# directory that holds it, for .ci/run to put on PATH. Cached like
# .ci/upstream.sh: ${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci/actionlint-<version>/
# with a stamp of the Go version; a rerun with the same stamp builds nothing.
# A first build takes about 15 s of CPU. Progress goes to stderr.
set -euo pipefail
version=v1.7.12

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null; then
  echo "actionlint.sh: no Go toolchain (go on PATH or /usr/local/go/bin/go)" >&2
  exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci"
out="$cache_root/actionlint-$version"
stamp="$(go version) CGO_ENABLED=0 -trimpath"
if [ -x "$out/actionlint" ] && [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
  echo "actionlint.sh: actionlint $version cached in $out" >&2
else
  echo "actionlint.sh: building actionlint $version" >&2
  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.actionlint-XXXXXX")"
  GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath "github.com/rhysd/actionlint/cmd/actionlint@$version" >&2
  echo "$stamp" >"$tmp/.stamp"
  chmod 755 "$tmp"
  rm -rf "$out"
  mv "$tmp" "$out"
fi
echo "$out"
