#!/usr/bin/env bash
# Builds Sloth (the SLO rule generator harden's `import sloth` is compared
# with: tests/cli/import.rs runs `sloth generate` on the same spec files)
# from the Go module proxy at the version pinned below, whose checksums the
# Go checksum database verifies, and prints the directory that holds it, for
# .ci/run to put on PATH. Cached like .ci/actionlint.sh:
# ${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci/sloth-<version>/ with a stamp of
# the Go version; a rerun with the same stamp builds nothing. Progress goes
# to stderr; stdout is the directory alone.
set -euo pipefail
version=v0.16.0

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null; then
  echo "sloth.sh: no Go toolchain (go on PATH or /usr/local/go/bin/go)" >&2
  exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci"
out="$cache_root/sloth-$version"
stamp="$(go version) CGO_ENABLED=0 -trimpath"
if [ -x "$out/sloth" ] && [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
  echo "sloth.sh: sloth $version cached in $out" >&2
else
  echo "sloth.sh: building sloth $version" >&2
  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.sloth-XXXXXX")"
  start=$SECONDS
  GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath "github.com/slok/sloth/cmd/sloth@$version" >&2
  echo "$stamp" >"$tmp/.stamp"
  chmod 755 "$tmp"
  rm -rf "$out"
  mv "$tmp" "$out"
  echo "sloth.sh: built sloth in $((SECONDS - start))s" >&2
fi
echo "$out"
