# Sourced by scripts/fuzz.sh and fuzz/plateau.sh (from the repository root): the fuzz targets,
# the seeds each starts from, and the libFuzzer flags a target needs beyond the common ones.
# shellcheck shell=bash
# shellcheck disable=SC2034 # read by the scripts that source this file
FUZZ_TARGETS=(decode decode_evaluate policy policy_spec phi_scan)
# Seed directories, relative to the repository root.
seeds_for() {
  case "$1" in
    decode | decode_evaluate) echo "deploy/examples/events crates/phiguard-events/tests/fixtures" ;;
    policy) echo "deploy/examples/policies" ;;
    policy_spec | phi_scan) echo "" ;;
  esac
}
flags_for() {
  case "$1" in
    # Its input is bytes for a generator that fills the spec field by field: libFuzzer's
    # default length ramp kept inputs at tens of bytes for minutes, so the later fields
    # (exemptions' tags, JSON) were rarely reached. Measured in docs/fuzzing.md.
    policy_spec) echo "-len_control=0" ;;
  esac
}
