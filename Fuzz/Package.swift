// swift-tools-version: 6.1
import PackageDescription

/// libFuzzer harnesses for Strata's parsers and appliers, kept out of the root package so its
/// sanitizer and `unsafeFlags` never reach Strata's users. Build with `scripts/fuzz.sh`, or
/// `swift build -c release --sanitize address --sanitize fuzzer -Xswiftc -sanitize=address,fuzzer`
/// (SwiftPM's own flags reach swiftc in no fixed order and only the last counts; see FUZZING.md).
let harness: [SwiftSetting] = [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "StrataFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Strata", path: "..")
    ],
    targets: [
        // The planted crash, the sentinel tree and its oracle: shared by every harness.
        .target(name: "CFuzzSupport"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzSupport"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzTar",
            dependencies: [
                "FuzzSupport",
                .product(name: "StrataArchive", package: "Strata"),
                .product(name: "StrataFS", package: "Strata"),
                .product(name: "StrataStreams", package: "Strata"),
            ],
            swiftSettings: harness),
        .executableTarget(
            name: "FuzzApply",
            dependencies: [
                "FuzzSupport",
                .product(name: "StrataArchive", package: "Strata"),
                .product(name: "StrataCompression", package: "Strata"),
                .product(name: "StrataFS", package: "Strata"),
                .product(name: "StrataLayers", package: "Strata"),
                .product(name: "StrataStreams", package: "Strata"),
            ],
            swiftSettings: harness),
        .executableTarget(
            name: "FuzzPatch",
            dependencies: [
                "FuzzSupport",
                .product(name: "StrataFS", package: "Strata"),
                .product(name: "StrataPatch", package: "Strata"),
            ],
            swiftSettings: harness),
        // Challenge.swift is StrataRegistry's own file, symlinked: that target needs NIO and
        // AsyncHTTPClient, far too heavy to build sanitized, and the parser needs only the stdlib.
        .executableTarget(
            name: "FuzzImage",
            dependencies: [
                "FuzzSupport",
                .product(name: "StrataContent", package: "Strata"),
                .product(name: "StrataFS", package: "Strata"),
                .product(name: "StrataOCI", package: "Strata"),
                .product(name: "StrataStreams", package: "Strata"),
            ],
            swiftSettings: harness),
        // Filter.swift and LinearRegex.swift are StrataService's own files, symlinked (that target needs gRPC and NIO).
        .executableTarget(
            name: "FuzzFilter",
            dependencies: ["FuzzSupport"],
            swiftSettings: harness),
    ]
)
