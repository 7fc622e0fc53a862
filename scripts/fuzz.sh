#!/usr/bin/env bash
# Builds every fuzz target in core/fuzz and runs each briefly (default 20 s; FUZZ_SECONDS
# overrides). cargo-fuzz needs nightly compiler flags; on a stable toolchain we set
# RUSTC_BOOTSTRAP=1 for this build only. Installs cargo-fuzz from crates.io when missing.
# Crashes are kept under core/fuzz/artifacts/TARGET and fail the run.
set -euo pipefail
cd "$(dirname "$0")/../core"
seconds="${FUZZ_SECONDS:-20}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list)
cargo fuzz build --sanitizer none --release
for t in $targets; do
  echo "== fuzz $t for ${seconds}s"
  # Every target starts from its committed seeds (fuzz/seeds/TARGET); the importers also from
  # the project's own fixtures (every format and variant). New finds go to fuzz/corpus/TARGET.
  mkdir -p "fuzz/corpus/$t"
  seeds=("fuzz/corpus/$t" "fuzz/seeds/$t")
  case "$t" in import_*) seeds+=(tests/fixtures/import) ;; esac
  cargo fuzz run --sanitizer none --release "$t" "${seeds[@]}" -- -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
    | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==|INFO: Done|.*(panicked|ERROR|SUMMARY))' || true
  if ls fuzz/artifacts/"$t"/crash-* >/dev/null 2>&1; then
    echo "fuzz target $t found a crash: core/fuzz/artifacts/$t" >&2
    exit 1
  fi
done
echo "fuzz: every target ran ${seconds}s without a crash"
