// swift-tools-version:5.9
// XCTests of the TwofoldKit facade against the real core (macOS: through the XCFramework built
// by ios/scripts/build-xcframework.sh). tests/swift/run.sh runs them where a Swift toolchain
// exists and says it skipped them where none does.
import PackageDescription

let package = Package(
    name: "TwofoldKitTests",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "../../ios/TwofoldKit")],
    targets: [
        .testTarget(
            name: "TwofoldKitTests",
            dependencies: [.product(name: "TwofoldKit", package: "TwofoldKit")],
            path: "Tests/TwofoldKitTests"
        ),
    ]
)
