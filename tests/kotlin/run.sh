#!/usr/bin/env bash
# Kotlin tests on the JVM: builds libtwofold_ffi.so, generates the Kotlin bindings with the
# pinned uniffi-bindgen, compiles bindings + the :twofold facade + these tests with kotlinc
# (npm package kotlin-compiler) and JNA (Debian libjna-java), and runs them against the host
# library, together with the Android app's view models (android/app/.../model, plain Kotlin)
# and their tests. Prints `N passed, N failed`; exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -f /usr/share/java/jna.jar ]; then
  echo "== installing libjna-java"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libjna-java >/dev/null
fi
kotlinc="$root/node_modules/kotlin-compiler/bin/kotlinc"
if [ ! -x "$kotlinc" ]; then
  echo "== installing the Kotlin compiler (npm kotlin-compiler, pinned in package.json)"
  npm install --no-audit --no-fund --silent
fi
kotlin_lib="$root/node_modules/kotlin-compiler/lib"

echo "== building twofold-ffi and uniffi-bindgen"
cargo build --locked -q -p twofold-ffi -p uniffi-bindgen
build="$root/tests/kotlin/build"
rm -rf "$build"
mkdir -p "$build/generated"
"$root/target/debug/uniffi-bindgen" generate --no-format \
  --library "$root/target/debug/libtwofold_ffi.so" --language kotlin \
  --out-dir "$build/generated" >/dev/null

echo "== docs/ffi.md names every exported function and method"
generated_kt="$(find "$build/generated" -name '*.kt')"
missing=0
# Every backticked `fun` in the bindings is an exported function or method.
for name in $(grep -ohE 'fun `[a-zA-Z]+`' $generated_kt | tr -d '`' | awk '{print $2}' | sort -u); do
  if ! grep -q "\b$name\b" "$root/docs/ffi.md"; then
    echo "docs/ffi.md does not mention $name" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1

echo "== docs/ffi.md lists every call that carries a secret"
python3 "$root/tests/kotlin/secret_calls.py" "$root/docs/ffi.md" $generated_kt

echo "== both facades call the same FFI functions (Kotlin and Swift)"
python3 "$root/tests/kotlin/facade_parity.py" $generated_kt

classpath="$kotlin_lib/kotlinx-coroutines-core-jvm.jar:/usr/share/java/jna.jar"
echo "== kotlinc (bindings + facade + app view models + tests)"
mapfile -t sources < <(find "$build/generated" "$root/android/twofold/src/main/kotlin" \
  "$root/android/app/src/main/kotlin/dev/twofold/app/model" "$root/tests/kotlin/src" -name '*.kt' | sort)
"$kotlinc" -nowarn -jvm-target 17 -cp "$classpath" -d "$build/tests.jar" "${sources[@]}"

echo "== running on the JVM against target/debug/libtwofold_ffi.so"
java -Djna.library.path="$root/target/debug" -Dtwofold.root="$root" \
  -cp "$build/tests.jar:$kotlin_lib/kotlin-stdlib.jar:$classpath" \
  "${TWOFOLD_KOTLIN_MAIN:-dev.twofold.tests.MainKt}"
