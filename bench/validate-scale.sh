#!/usr/bin/env bash
# validate's time and memory against the number of services: a synthetic
# spec (bench/make-spec.py) of each size, validated once; wall clock, CPU
# time (user + system: less sensitive to a shared machine) and peak
# resident memory by GNU time. Linear means the ms-per-service and
# KB-per-service columns stay flat as the size grows.
# Usage: bench/validate-scale.sh [SIZES...]   (default 10000 20000 40000 100000;
#   needs /usr/bin/time: apt-get install -y time). Prints a Markdown table.
# HARDEN_BIN=path/to/harden measures that binary instead of building this tree.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/harden-bin.sh
. bench/harden-bin.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 20000 40000 100000)
echo "| services | spec MB | validate wall s | CPU s | CPU ms / service | peak MB | KB / service |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for n in "${sizes[@]}"; do
  python3 bench/make-spec.py "$n" >"$work/hardening.toml"
  # Past 40,000 services the spec is refused (port conflicts; see
  # make-spec.py) after every check ran: exit 2 is expected there.
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" validate "$work/hardening.toml" >/dev/null 2>&1 || true
  read -r secs user sys kb < <(tail -n 1 "$work/time")
  bytes=$(stat -c %s "$work/hardening.toml")
  python3 -c "
n, s, cpu, kb, b = $n, $secs, $user + $sys, $kb, $bytes
print('| %d | %.1f | %.2f | %.2f | %.3f | %.0f | %.1f |' % (n, b / 1e6, s, cpu, cpu * 1000 / n, kb / 1024, kb / n))"
done
