#!/usr/bin/env bash
# Run fuzz targets until coverage stops growing, one target at a time, one job, at the lowest
# CPU priority (the machine is shared):
#   bash fuzz/plateau.sh [TARGET...]                        default: all five targets
#   PLATEAU_SECONDS=180 MAX_SECONDS=600 bash fuzz/plateau.sh decode
# A target stops when libFuzzer's `cov` has not grown for PLATEAU_SECONDS (default 180), or
# after MAX_SECONDS (default 600). Needs the targets built (`bash scripts/fuzz.sh 1` builds
# them; or `cd fuzz && cargo fuzz build`). Resumes from and grows the same corpus as
# scripts/fuzz.sh ($cache/fuzz-corpus/<target>, seeded from the repo's examples).
# Writes, per target, into $cache/fuzz-plateau/<target>/:
#   log        libFuzzer's output
#   minutes    cov and ft at the end of each minute (what docs/fuzzing.md tabulates)
#   summary    executions, final cov/ft, seconds of the last new coverage, crashes
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"
plateau="${PLATEAU_SECONDS:-180}"
max="${MAX_SECONDS:-600}"
targets=("$@")
bin_dir="${CARGO_TARGET_DIR:-$cache/fuzz-target}/x86_64-unknown-linux-gnu/release"
source fuzz/targets.sh
[ ${#targets[@]} -gt 0 ] || targets=("${FUZZ_TARGETS[@]}")
status=0
for t in "${targets[@]}"; do
  out="$cache/fuzz-plateau/$t"
  corpus="$cache/fuzz-corpus/$t"
  mkdir -p "$out" "$corpus" "fuzz/artifacts/$t"
  [ -x "$bin_dir/$t" ] || { echo "plateau: $bin_dir/$t not built (cd fuzz && cargo fuzz build)"; exit 2; }
  start=$(date +%s)
  # shellcheck disable=SC2046
  nice -n 19 "$bin_dir/$t" "$corpus" $(seeds_for "$t") \
    -max_total_time="$max" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $(flags_for "$t") \
    -artifact_prefix="fuzz/artifacts/$t/" >"$out/log" 2>&1 &
  fuzz_pid=$!
  last_cov=0
  last_growth=0
  : >"$out/minutes"
  minute=0
  while kill -0 "$fuzz_pid" 2>/dev/null; do
    sleep 5
    now=$(($(date +%s) - start))
    line=$(grep -E ' cov: [0-9]+' "$out/log" | tail -n1 || true)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
    execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
    # Coverage only counts once the corpus is loaded (INITED); before that it is replay.
    if grep -q INITED "$out/log" && [ -n "$cov" ] && [ "$cov" -gt "$last_cov" ]; then
      last_cov=$cov
      last_growth=$now
    fi
    if [ $((now / 60)) -gt "$minute" ]; then
      minute=$((now / 60))
      echo "$minute min: execs ${execs:-?} cov ${cov:-?} ft ${ft:-?}" | tee -a "$out/minutes"
    fi
    if grep -q INITED "$out/log" && [ $((now - last_growth)) -ge "$plateau" ]; then
      echo "plateau: $t cov $last_cov unchanged since ${last_growth}s; stopping at ${now}s"
      kill -INT "$fuzz_pid" 2>/dev/null || true
      break
    fi
  done
  wait "$fuzz_pid" || true
  end=$(($(date +%s) - start))
  crashes=$(find "fuzz/artifacts/$t" -type f | wc -l)
  execs=$(sed -nE 's/.*stat::number_of_executed_units: ([0-9]+).*/\1/p' "$out/log" | tail -n1)
  line=$(grep -E ' cov: [0-9]+' "$out/log" | tail -n1 || true)
  {
    echo "target: $t"
    echo "seconds: $end"
    echo "executions: ${execs:-$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")}"
    echo "final: $(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$line")"
    echo "last new coverage at: ${last_growth}s"
    echo "crashes: $crashes"
    echo "corpus: $(find "$corpus" -type f | wc -l) inputs"
  } | tee "$out/summary"
  [ "$crashes" -eq 0 ] || status=1
done
exit $status
