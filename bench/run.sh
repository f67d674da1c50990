#!/usr/bin/env bash
# Benchmarks: validate, generate and diff for 1, 10, 100 and 1,000 services
# (bench/make-spec.py), plus the App-Oint example. Times from hyperfine
# (mean of repeated runs; wall clock, then CPU time = user + system, which a
# machine shared with other work inflates less), peak memory (max RSS) from
# GNU time. `generate` runs twice: into an empty directory on the working
# disk, and on tmpfs (/dev/shm), which leaves out the disk's cost of
# creating files; bench/floor.py writes the same files with no compiling at
# all (the floor any generator has on that disk).
# Usage: bench/run.sh [SIZES...]   (needs hyperfine and /usr/bin/time:
#   apt-get install -y hyperfine time). Prints a Markdown table.
# HARDEN_BIN=path/to/harden benchmarks that binary instead of building this
# tree (to compare with an older build on the same machine at the same time).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/harden-bin.sh
. bench/harden-bin.sh
work=$(mktemp -d)
shm=$(mktemp -d /dev/shm/harden-bench.XXXXXX 2>/dev/null || true)
trap 'rm -rf "$work" ${shm:+"$shm"}' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 10 100 1000)

mean_ms() { # hyperfine's mean wall / CPU time, in milliseconds, of one command
  hyperfine --style none --warmup 1 --min-runs 3 --export-json "$work/h.json" "$@" >/dev/null 2>&1
  python3 -c "import json; r = json.load(open('$work/h.json'))['results'][0]; print('%.1f / %.1f' % (r['mean'] * 1000, (r['user'] + r['system']) * 1000))"
}
peak_mb() { # max RSS in MB of one run
  /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }'
}

floor_ms() { # mean of three runs of bench/floor.py writing a copy of tree $1
  for _ in 1 2 3; do
    rm -rf "$work/floor"
    python3 bench/floor.py "$1" "$work/floor"
  done | awk '{ s += $1 } END { printf "%.1f", s / NR }'
  rm -rf "$work/floor"
}

echo "| spec | files | MB | validate ms wall / cpu | generate ms, disk, wall / cpu | floor ms, disk | generate ms, tmpfs, wall / cpu | diff ms (unchanged) wall / cpu | diff -r ms wall / cpu | generate peak MB |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
run() { # name slug spec
  local name=$1 slug=$2 spec=$3 out="$work/out-$2" ref="$work/ref-$2"
  rm -rf "$out" "$ref"
  "$bin" generate "$spec" --out "$ref" >/dev/null 2>&1
  local files; files=$(find "$ref" -type f | wc -l)
  local mb; mb=$(find "$ref" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1e6 }')
  local v g f t d r m
  v=$(mean_ms "$bin validate $spec")
  g=$(mean_ms --prepare "rm -rf $out" "$bin generate $spec --out $out")
  f=$(floor_ms "$ref")
  t="n/a"
  [ -z "$shm" ] || t=$(mean_ms --prepare "rm -rf $shm/out" "$bin generate $spec --out $shm/out")
  rm -rf "${shm:-$work/none}/out"
  d=$(mean_ms "$bin diff $spec --out $ref")
  cp -r "$ref" "$work/copy-$slug"
  r=$(mean_ms "diff -r $ref $work/copy-$slug")
  rm -rf "$out"
  m=$(peak_mb "$bin" generate "$spec" --out "$out")
  echo "| $name | $files | $mb | $v | $g | $f | $t | $d | $r | $m |"
}
run app-oint app-oint "$PWD/examples/app-oint/hardening.toml"
for n in "${sizes[@]}"; do
  python3 bench/make-spec.py "$n" > "$work/spec-$n.toml"
  run "$n services" "n$n" "$work/spec-$n.toml"
done
