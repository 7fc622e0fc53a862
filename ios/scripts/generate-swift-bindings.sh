#!/usr/bin/env bash
# Generates the Swift bindings of twofold-ffi with the pinned uniffi-bindgen:
#   ios/TwofoldKit/Sources/TwofoldFFI/TwofoldFFI.swift     (committed)
#   ios/TwofoldKit/FFIHeaders/TwofoldFFIFFI.h, module.modulemap (committed; packed into the
#                                                            XCFramework by build-xcframework.sh)
# With --check, generates into a temporary folder and fails if the committed files differ
# (CI runs this, so the committed bindings always match the Rust API).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
check=0
[ "${1:-}" = "--check" ] && check=1

cargo build --locked -q -p twofold-ffi -p uniffi-bindgen
case "$(uname -s)" in
  Darwin) lib="$root/target/debug/libtwofold_ffi.dylib" ;;
  *) lib="$root/target/debug/libtwofold_ffi.so" ;;
esac
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$root/target/debug/uniffi-bindgen" generate --no-format --library "$lib" --language swift --out-dir "$out" >/dev/null
# The XCFramework's headers folder needs the module map under its conventional name.
mv "$out/TwofoldFFIFFI.modulemap" "$out/module.modulemap"

kit="$root/ios/TwofoldKit"
pairs=(
  "$out/TwofoldFFI.swift:$kit/Sources/TwofoldFFI/TwofoldFFI.swift"
  "$out/TwofoldFFIFFI.h:$kit/FFIHeaders/TwofoldFFIFFI.h"
  "$out/module.modulemap:$kit/FFIHeaders/module.modulemap"
)
status=0
for pair in "${pairs[@]}"; do
  generated="${pair%%:*}"
  committed="${pair#*:}"
  if [ "$check" = 1 ]; then
    if ! cmp -s "$generated" "$committed"; then
      echo "out of date: ${committed#"$root"/} (run ios/scripts/generate-swift-bindings.sh)" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$committed")"
    cp "$generated" "$committed"
  fi
done
if [ "$check" = 1 ] && [ "$status" = 0 ]; then
  echo "Swift bindings generate and match the committed copy"
fi
exit "$status"
