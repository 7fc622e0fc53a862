#!/usr/bin/env bash
# Runs the TwofoldKit XCTests where a Swift toolchain exists, and says so where none does.
#   macOS: builds the XCFramework (debug) and runs `swift test` in tests/swift.
#   Linux with swift: builds a throwaway package that links libtwofold_ffi.so directly
#   (an XCFramework binary target is Apple-only) and runs the same tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! command -v swiftc >/dev/null 2>&1; then
  echo "Swift tests skipped: no Swift toolchain on this machine (swiftc not found)."
  exit 0
fi

if [ "$(uname -s)" = Darwin ]; then
  bash ios/scripts/build-xcframework.sh --debug
  swift test --package-path tests/swift
  exit 0
fi

cargo build --locked -q -p twofold-ffi
bash ios/scripts/generate-swift-bindings.sh --check
pkg="$(mktemp -d)"
trap 'rm -rf "$pkg"' EXIT
mkdir -p "$pkg/Sources/TwofoldFFIFFI" "$pkg/Sources/TwofoldFFI" "$pkg/Sources/TwofoldKit" "$pkg/Tests"
cp ios/TwofoldKit/FFIHeaders/TwofoldFFIFFI.h "$pkg/Sources/TwofoldFFIFFI/"
cat > "$pkg/Sources/TwofoldFFIFFI/module.modulemap" <<'MAP'
module TwofoldFFIFFI {
    header "TwofoldFFIFFI.h"
    link "twofold_ffi"
    export *
}
MAP
cp ios/TwofoldKit/Sources/TwofoldFFI/*.swift "$pkg/Sources/TwofoldFFI/"
cp -r ios/TwofoldKit/Sources/TwofoldKit/. "$pkg/Sources/TwofoldKit/"
cp -r tests/swift/Tests/TwofoldKitTests "$pkg/Tests/"
cat > "$pkg/Package.swift" <<'SWIFT'
// swift-tools-version:5.9
import PackageDescription
let package = Package(
    name: "TwofoldKitLinuxTests",
    targets: [
        .systemLibrary(name: "TwofoldFFIFFI", path: "Sources/TwofoldFFIFFI"),
        .target(name: "TwofoldFFI", dependencies: ["TwofoldFFIFFI"], path: "Sources/TwofoldFFI"),
        .target(name: "TwofoldKit", dependencies: ["TwofoldFFI"], path: "Sources/TwofoldKit"),
        .testTarget(name: "TwofoldKitTests", dependencies: ["TwofoldKit"], path: "Tests/TwofoldKitTests"),
    ]
)
SWIFT
LD_LIBRARY_PATH="$root/target/debug" swift test --package-path "$pkg" -Xlinker -L"$root/target/debug"
