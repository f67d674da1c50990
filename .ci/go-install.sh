#!/usr/bin/env bash
# go-install.sh NAME PACKAGE VERSION: builds the command PACKAGE@VERSION from
# the Go module proxy (whose checksums the Go checksum database verifies)
# and prints the directory that holds it, for .ci/run to put on PATH.
# Cached in ${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci/NAME-VERSION/ with a
# stamp of the Go version and flags; a rerun with the same stamp builds
# nothing. Progress goes to stderr; stdout is the directory alone. The
# tools' own scripts (.ci/actionlint.sh, .ci/sloth.sh) pin what to build.
set -euo pipefail
name="$1" package="$2" version="$3"

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null; then
  echo "$name: no Go toolchain (go on PATH or /usr/local/go/bin/go)" >&2
  exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci"
out="$cache_root/$name-$version"
stamp="$(go version) CGO_ENABLED=0 -trimpath"
if [ -x "$out/$name" ] && [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
  echo "$name: $version cached in $out" >&2
else
  echo "$name: building $version" >&2
  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.$name-XXXXXX")"
  start=$SECONDS
  GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath "$package@$version" >&2
  echo "$stamp" >"$tmp/.stamp"
  chmod 755 "$tmp"
  rm -rf "$out"
  mv "$tmp" "$out"
  echo "$name: built in $((SECONDS - start))s" >&2
fi
echo "$out"
