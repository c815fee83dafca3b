#!/bin/sh
# Smoke run of the libFuzzer target for ctest: seeds a corpus with the sample frames, then fuzzes
# for a few seconds from a fixed seed.
#   run_libfuzzer.sh <fuzzer binary> <seed corpus writer> <corpus dir> <seconds>
set -eu
fuzzer=$1
seed_writer=$2
corpus=$3
seconds=$4
"$seed_writer" "$corpus"
exec "$fuzzer" "$corpus" -seed=1 -max_total_time="$seconds" -print_final_stats=1
