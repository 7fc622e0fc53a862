#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what the tests need
# (Debian packages, the npm Kotlin compiler), then format and lint checks, the Rust tests,
# the generated-bindings checks and the Kotlin tests on the JVM. Ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- system packages the tests use ----------------------------------------------------------
need=()
command -v oathtool >/dev/null || need+=(oathtool)
command -v zbarimg >/dev/null || need+=(zbar-tools)
# The recovery kit's PDF is rendered (pdftoppm) and inspected (pdffonts, pdftotext) by its tests.
command -v pdftoppm >/dev/null || need+=(poppler-utils)
# `twofold copy` is tested on a private X server (cli/tests/desktop_cli.rs).
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xclip >/dev/null || need+=(xclip)
python3 -c 'import venv' 2>/dev/null || need+=(python3-venv)
[ -f /usr/share/java/jna.jar ] || need+=(libjna-java)
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v npm >/dev/null || need+=(npm)
# WebDAV servers the sync tests start on random loopback ports (core/tests/sync_storage.rs).
command -v rclone >/dev/null || need+=(rclone)
[ -x /usr/sbin/apache2 ] || need+=(apache2-bin)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -x node_modules/kotlin-compiler/bin/kotlinc ]; then
  echo "== installing the Kotlin compiler (npm kotlin-compiler, pinned in package.json)"
  npm install --no-audit --no-fund --silent
fi

# Independent crypto peers for the interop tests (Python cryptography, PyNaCl, argon2-cffi).
if [ ! -x target/test-venv/bin/python ] || ! target/test-venv/bin/python -c 'import nacl, cryptography, argon2, pykeepass, pyzipper' 2>/dev/null; then
  echo "== installing the interop test peers (PyPI) into target/test-venv"
  python3 -m venv target/test-venv
  target/test-venv/bin/pip install --quiet --disable-pip-version-check -r tests/peers/requirements.txt
fi
# wsgidav (PyPI) for the sync tests, in the same venv; versions as measured in SYNC-FACTS §1.2.
if ! target/test-venv/bin/python -c 'import wsgidav, cheroot' 2>/dev/null; then
  echo "== installing wsgidav and cheroot (PyPI) into target/test-venv"
  target/test-venv/bin/pip install --quiet --disable-pip-version-check wsgidav==4.4.0 cheroot==11.1.2
fi

# --- Rust ---------------------------------------------------------------------------------
# No incremental caches: a test run builds each crate once, and the caches cost 2 GB of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
disk() { echo "   at ${SECONDS}s — disk: $(df -h . | awk 'NR == 2 {print $4 " free of " $2}'), target/ $(du -sh target 2>/dev/null | cut -f1)"; }
disk
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo deny (supply chain: deny.toml)"
# A debug build of the tool: it compiles in a third of the time, and checking one lock file is
# quick either way.
command -v cargo-deny >/dev/null || cargo install cargo-deny --locked --quiet --debug
if cargo deny fetch >/dev/null 2>&1; then
  cargo deny check
else
  # The RustSec database lives on GitHub; where it cannot be fetched the other checks still run.
  echo "   the RustSec advisory database cannot be fetched here: advisories not checked"
  cargo deny check bans licenses sources
fi
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== Rust tests"
rust_log="$(mktemp)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast 2>&1 | tee "$rust_log"
  rust_passed=$(grep -oE '[0-9]+ tests? run: [0-9]+ passed' "$rust_log" | tail -1 | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
else
  cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$rust_log"
  rust_passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$rust_log" | grep -oE '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
fi

disk

# --- generated bindings -------------------------------------------------------------------
echo "== Swift bindings generate and the committed copy is current"
bash ios/scripts/generate-swift-bindings.sh --check

# --- Kotlin on the JVM --------------------------------------------------------------------
echo "== Kotlin tests"
kotlin_log="$(mktemp)"
bash tests/kotlin/run.sh 2>&1 | tee "$kotlin_log"
kotlin_passed=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$kotlin_log" | tail -1 | cut -d' ' -f1)

# --- fuzz targets, each briefly -------------------------------------------------------------
# The fuzz build needs about 3 GB of its own. On a small disk, the test binaries, which have
# run by now, make room (a later run links them again).
if [ "$(df -Pk . | awk 'NR == 2 {print $4}')" -lt $((12 * 1024 * 1024)) ]; then
  echo "   less than 12 GB free: removing the test binaries that have run"
  find target/debug/deps -maxdepth 1 -type f -executable ! -name '*.so' -delete
fi
disk
echo "== fuzz targets (cargo-fuzz, ${FUZZ_SECONDS:-5} s each)"
FUZZ_SECONDS="${FUZZ_SECONDS:-5}" bash scripts/fuzz.sh
disk

# --- Swift (only where a Swift toolchain exists) ---------------------------------------------
bash tests/swift/run.sh

echo "total: $((rust_passed + kotlin_passed)) passed, 0 failed"
