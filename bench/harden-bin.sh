# shellcheck shell=bash disable=SC2034  # bin is read by the script that sources this
# Sourced by the benchmarks: sets `bin` to the harden binary to measure,
# HARDEN_BIN when given (to compare another build on the same machine at the
# same time), else this tree's release build, built first.
if [ -n "${HARDEN_BIN:-}" ]; then
  bin=$(realpath "$HARDEN_BIN")
else
  cargo build --release --locked -q
  bin="$PWD/target/release/harden"
fi
