// swift-tools-version:5.9
// TwofoldKit: the Swift face of the Twofold core for the iOS app.
//   TwofoldFFIFFI  the twofold-ffi static library + C header (XCFramework, built by
//                  ios/scripts/build-xcframework.sh)
//   TwofoldFFI     the UniFFI-generated Swift bindings (generated, committed)
//   TwofoldKit     the async/throws facade and the view models the app's views bind to
import PackageDescription

let package = Package(
    name: "TwofoldKit",
    platforms: [.iOS(.v17), .macOS(.v14)],
    products: [
        .library(name: "TwofoldKit", targets: ["TwofoldKit"]),
    ],
    targets: [
        .binaryTarget(name: "TwofoldFFIFFI", path: "TwofoldFFI.xcframework"),
        .target(name: "TwofoldFFI", dependencies: ["TwofoldFFIFFI"], path: "Sources/TwofoldFFI"),
        .target(name: "TwofoldKit", dependencies: ["TwofoldFFI"], path: "Sources/TwofoldKit"),
    ]
)
