#!/usr/bin/env bash
# Builds ios/TwofoldKit/TwofoldFFI.xcframework: the twofold-ffi static library for iOS devices
# (arm64), the iOS simulator (arm64 + x86_64) and macOS (arm64 + x86_64, for `swift test`),
# each with the UniFFI header and module map. Run on a Mac with Xcode and rustup:
#   rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios \
#                     aarch64-apple-darwin x86_64-apple-darwin
#   ios/scripts/build-xcframework.sh [--debug]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
profile=release
cargo_flags=(--release)
if [ "${1:-}" = "--debug" ]; then profile=debug; cargo_flags=(); fi

# Regenerate the Swift bindings from this exact library build.
bash ios/scripts/generate-swift-bindings.sh

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
for t in "${targets[@]}"; do
  echo "== cargo build $t"
  IPHONEOS_DEPLOYMENT_TARGET=17.0 MACOSX_DEPLOYMENT_TARGET=14.0 \
    cargo rustc --locked -p twofold-ffi --lib --crate-type staticlib --target "$t" "${cargo_flags[@]}"
done

work="$root/target/xcframework"
rm -rf "$work"
mkdir -p "$work/headers" "$work/ios-sim" "$work/macos"
cp ios/TwofoldKit/FFIHeaders/TwofoldFFIFFI.h ios/TwofoldKit/FFIHeaders/module.modulemap "$work/headers/"
lib() { echo "$root/target/$1/$profile/libtwofold_ffi.a"; }
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$work/ios-sim/libtwofold_ffi.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$work/macos/libtwofold_ffi.a"

out="$root/ios/TwofoldKit/TwofoldFFI.xcframework"
rm -rf "$out"
xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers "$work/headers" \
  -library "$work/ios-sim/libtwofold_ffi.a" -headers "$work/headers" \
  -library "$work/macos/libtwofold_ffi.a" -headers "$work/headers" \
  -output "$out"
echo "built ${out#"$root"/}"
