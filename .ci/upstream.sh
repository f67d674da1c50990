#!/usr/bin/env bash
# Builds upstream prometheus, promtool, alertmanager and amtool from the Go
# module proxy, at the versions pinned (with every dependency's checksum) by
# .ci/upstream/<project>/go.mod and go.sum, and prints the directories that
# hold them as one PATH fragment (dir:dir), for .ci/run to put first on PATH.
#
# Each project is a scratch module whose only content is a `tool` directive
# naming the upstream commands: its requirements are exactly the upstream
# go.mod's, so the binaries link the dependency versions the release does.
# The binaries are cached in ${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci/
# <project>-<version>/ with a stamp of what built them (go.mod, go.sum, Go
# version, flags); a rerun on the same machine with the same stamp builds
# nothing. Progress goes to stderr; stdout is the PATH fragment alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# Go: the machine's /usr/local/go when PATH lacks go. Debian's golang-go
# (1.19 on bookworm) is far older than the 1.26.7 Prometheus's go.mod needs,
# so it is no fallback.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null; then
  echo "upstream.sh: no Go toolchain (go on PATH or /usr/local/go/bin/go); Prometheus v0.316.0 needs Go >= 1.26.7" >&2
  exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/harden-ci"
mkdir -p "$cache_root"
dirs=()

# build PROJECT MODULE: builds every tool of .ci/upstream/PROJECT into
# $cache_root/PROJECT-<version>/ unless its stamp matches, and adds that
# directory to dirs.
build() {
  local project="$1" module="$2"
  local mod_dir="$here/upstream/$project"
  local version
  version="$(awk -v m="$module" '$1 == m { print $2 }' "$mod_dir/go.mod")"
  [ -n "$version" ] || { echo "upstream.sh: $module not required in $mod_dir/go.mod" >&2; exit 1; }
  local out="$cache_root/$project-$version"

  # The release's own version string (the module tag v0.316.0 is release
  # 3.16.0), from the VERSION file in the module; promu stamps it the same way.
  (cd "$mod_dir" && go mod download "$module")
  local src release
  src="$(cd "$mod_dir" && go list -m -f '{{.Dir}}' "$module")"
  release="$(tr -d '[:space:]' <"$src/VERSION")"
  local pkg=github.com/prometheus/common/version
  local ldflags="-X $pkg.Version=$release -X $pkg.Branch=$version -X $pkg.BuildUser=harden-ci"
  # netgo as upstream's .promu.yml; not builtinassets: the web UI's compiled
  # assets are not in the module (npm builds them), and our tests use only
  # the HTTP API, which is served without them.
  local tags=netgo
  # Prometheus with only the service discovery harden generates (static,
  # file and http are always in; Kubernetes and DNS): the cloud providers'
  # SDKs are most of a cold build. promtool then refuses the other
  # discovery kinds, which harden never writes.
  if [ "$project" = prometheus ]; then
    tags="$tags,remove_all_sd,enable_kubernetes_sd,enable_dns_sd"
  fi

  # Files under .ci/upstream/PROJECT/overlay/ are laid over a copy of the
  # module's source (the copy go verified against go.sum) that a temporary
  # go.mod replaces the module with. Alertmanager needs it: its ui package
  # embeds ui/app/dist, which npm and elm build and the module lacks, so the
  # overlay puts a placeholder page there (the API does not use it).
  local overlay="$mod_dir/overlay"
  local stamp
  stamp="$(cat "$mod_dir/go.mod" "$mod_dir/go.sum" <(go version) <(echo "$tags $ldflags") \
    <(if [ -d "$overlay" ]; then cd "$overlay" && find . -type f | LC_ALL=C sort | xargs sha256sum; fi) |
    sha256sum | cut -d' ' -f1)"
  if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "upstream.sh: $project $version ($release) cached in $out" >&2
  else
    echo "upstream.sh: building $project $version ($release) with $(go version | cut -d' ' -f3)" >&2
    local tmp start modfile="$mod_dir/go.mod" work=""
    tmp="$(mktemp -d "$cache_root/.$project-XXXXXX")"
    start=$SECONDS
    if [ -d "$overlay" ]; then
      work="$(mktemp -d)"
      cp -R "$src" "$work/src"
      chmod -R u+w "$work/src"
      cp -R "$overlay/." "$work/src/"
      cp "$mod_dir/go.mod" "$mod_dir/go.sum" "$work/"
      echo "replace $module => $work/src" >>"$work/go.mod"
      modfile="$work/go.mod"
    fi
    (cd "$mod_dir" && CGO_ENABLED=0 go build -modfile="$modfile" -mod=readonly -trimpath \
      -tags "$tags" -ldflags "$ldflags" -o "$tmp/" tool)
    [ -z "$work" ] || rm -rf "$work"
    echo "$stamp" >"$tmp/.stamp"
    chmod 755 "$tmp"
    rm -rf "$out"
    mv "$tmp" "$out"
    echo "upstream.sh: built $project in $((SECONDS - start))s" >&2
  fi
  dirs+=("$out")
}

build prometheus github.com/prometheus/prometheus
build alertmanager github.com/prometheus/alertmanager
(IFS=:; echo "${dirs[*]}")
