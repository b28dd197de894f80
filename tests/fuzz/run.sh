#!/usr/bin/env bash
# Builds the fuzz targets with clang's libFuzzer (ASan + UBSan) into build-fuzz/ and fuzzes each
# for a fixed time from its seed corpus (tests/fuzz/corpus/<target>/). A crash, leak, sanitizer
# report or broken invariant fails the run; libFuzzer leaves the input as build-fuzz/crash-*:
# add it to tests/fuzz/regressions/<target>/ (ctest then replays it in every build) and fix the reader.
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]   (default 30; needs clang++ with -fsanitize=fuzzer)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
if ! command -v clang++ >/dev/null; then
  echo "servesim fuzz: clang++ not found: skipped (Debian: apt-get install clang)" >&2
  exit 0
fi
cmake -S tests/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" >&2
targets=(config csv_trace jsonl_trace calibration)
if [ ! -x build-fuzz/fuzz_config ]; then
  echo "servesim fuzz: clang++ has no libFuzzer: skipped" >&2
  exit 0
fi
for target in "${targets[@]}"; do
  # Fuzz into a scratch copy so the checked-in corpus stays as written.
  work="build-fuzz/corpus/$target"
  rm -rf "$work" && mkdir -p "$work"
  echo "servesim fuzz: $target for ${seconds} s" >&2
  (cd build-fuzz && ./"fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
     -print_final_stats=1 "corpus/$target" "../tests/fuzz/corpus/$target" 2>"fuzz_$target.log") || {
    tail -n 60 "build-fuzz/fuzz_$target.log" >&2
    echo "servesim fuzz: $target failed; the input is in build-fuzz/ (crash-*, leak-*, timeout-*)" >&2
    exit 1
  }
  grep -E "^stat::number_of_executed_units|^Done" "build-fuzz/fuzz_$target.log" | tr '\n' ' ' >&2 || true
  echo >&2
done
