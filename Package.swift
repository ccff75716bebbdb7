// swift-tools-version: 6.1
import PackageDescription

/// Swift 6 language mode everywhere. Warnings are refused by `make test` (scripts/check-warnings.sh
/// reads the build log) rather than by `-warnings-as-errors`, which would reach Strata's users.
let strictSwift: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .library(name: "StrataFS", targets: ["StrataFS"]),
        .library(name: "StrataStreams", targets: ["StrataStreams"]),
        .library(name: "StrataBlock", targets: ["StrataBlock"]),
        .library(name: "StrataCompression", targets: ["StrataCompression"]),
        .library(name: "StrataOCI", targets: ["StrataOCI"]),
        .library(name: "StrataChanges", targets: ["StrataChanges"]),
        .library(name: "StrataOverlay", targets: ["StrataOverlay"]),
        .library(name: "StrataArchive", targets: ["StrataArchive"]),
        .library(name: "StrataProcessors", targets: ["StrataProcessors"]),
        .library(name: "StrataLayers", targets: ["StrataLayers"]),
        .library(name: "StrataDatabase", targets: ["StrataDatabase"]),
        .library(name: "StrataContent", targets: ["StrataContent"]),
        .library(name: "StrataSnapshots", targets: ["StrataSnapshots"]),
        .library(name: "StrataStore", targets: ["StrataStore"]),
        .library(name: "StrataRefs", targets: ["StrataRefs"]),
        .library(name: "StrataGC", targets: ["StrataGC"]),
        .library(name: "StrataPatch", targets: ["StrataPatch"]),
        .library(name: "StrataRegistry", targets: ["StrataRegistry"]),
        .library(name: "StrataContainerdAPI", targets: ["StrataContainerdAPI"]),
        .library(name: "StrataContainerd", targets: ["StrataContainerd"]),
        .library(name: "StrataService", targets: ["StrataService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(name: "CStrata"),
        .systemLibrary(
            name: "CISAL", pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]),
        .systemLibrary(
            name: "CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        // Lowest first, as in README.md's module map, which says what each may import
        // (scripts/check-deps.py enforces the map and that every dependency here is imported).
        .target(
            name: "StrataFS",
            dependencies: [
                "CStrata",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift),
        .target(
            name: "StrataStreams",
            dependencies: [
                "StrataFS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift),
        // Block images: loop devices, the xfs reflink pool, ext4 images.
        .target(
            name: "StrataBlock",
            dependencies: ["CStrata", "StrataFS", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSwift),
        .target(
            name: "StrataCompression", dependencies: ["CISAL", "CZstd", "StrataStreams"], swiftSettings: strictSwift),
        .target(name: "StrataOCI", dependencies: ["StrataCompression", "StrataStreams"], swiftSettings: strictSwift),
        .target(name: "StrataChanges", dependencies: ["StrataFS"], swiftSettings: strictSwift),
        .target(name: "StrataOverlay", dependencies: ["StrataChanges", "StrataFS"], swiftSettings: strictSwift),
        .target(
            name: "StrataArchive",
            dependencies: [
                "StrataChanges", "StrataFS", "StrataOverlay", "StrataStreams",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift),
        // containerd's stream processors: the chain from a layer's media type to plain tar.
        .target(
            name: "StrataProcessors",
            dependencies: [
                "CStrata", "StrataCompression", "StrataOCI", "StrataStreams",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSwift),
        .target(
            name: "StrataLayers",
            dependencies: [
                "StrataArchive", "StrataChanges", "StrataCompression", "StrataFS", "StrataOCI", "StrataOverlay",
                "StrataProcessors", "StrataStreams",
            ],
            swiftSettings: strictSwift),
        .target(
            name: "StrataDatabase",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSwift),
        .target(
            name: "StrataContent",
            dependencies: [
                "StrataDatabase", "StrataFS", "StrataOCI", "StrataStreams",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift),
        .target(
            name: "StrataSnapshots",
            dependencies: [
                "StrataDatabase", "StrataFS", "StrataOverlay", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwift),
        .target(
            name: "StrataStore",
            dependencies: [
                "StrataArchive", "StrataChanges", "StrataCompression", "StrataContent", "StrataDatabase", "StrataFS",
                "StrataLayers", "StrataOCI", "StrataOverlay", "StrataProcessors", "StrataSnapshots", "StrataStreams",
            ],
            swiftSettings: strictSwift),
        .target(
            name: "StrataRefs",
            dependencies: [
                "StrataChanges", "StrataCompression", "StrataContent", "StrataDatabase", "StrataFS", "StrataLayers",
                "StrataOCI", "StrataOverlay", "StrataSnapshots", "StrataStore", "StrataStreams",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwift),
        .target(
            name: "StrataGC",
            dependencies: [
                "StrataDatabase", "StrataFS", "StrataOCI", "StrataRefs", "StrataSnapshots",
                "StrataStore",
                "StrataStreams",
            ],
            swiftSettings: strictSwift),
        .target(
            name: "StrataPatch",
            dependencies: [
                "StrataArchive", "StrataChanges", "StrataCompression", "StrataFS", "StrataOverlay", "StrataStreams",
            ],
            swiftSettings: strictSwift),
        // The OCI distribution client: push and pull.
        .target(
            name: "StrataRegistry",
            dependencies: [
                "StrataContent", "StrataFS", "StrataOCI", "StrataStreams",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift),
        // containerd's gRPC API: messages, clients and servers, scripts/generate-protos.sh's output.
        .target(
            name: "StrataContainerdAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSwift),
        // A client of a containerd daemon: diff and commit its containers' snapshots.
        .target(
            name: "StrataContainerd",
            dependencies: [
                "StrataContainerdAPI", "StrataContent", "StrataFS", "StrataLayers", "StrataOCI", "StrataOverlay",
                "StrataStreams",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift),
        // containerd's gRPC services over the stores.
        .target(
            name: "StrataService",
            dependencies: [
                "CStrata", "StrataContainerd", "StrataContainerdAPI", "StrataContent", "StrataFS", "StrataLayers",
                "StrataOCI",
                "StrataOverlay",
                "StrataProcessors",
                "StrataSnapshots", "StrataStore", "StrataStreams",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift),
        .executableTarget(
            name: "strata",
            dependencies: [
                "StrataArchive", "StrataBlock", "StrataChanges", "StrataCompression", "StrataContainerd",
                "StrataContent",
                "StrataDatabase", "StrataFS", "StrataGC", "StrataLayers", "StrataOCI", "StrataPatch",
                "StrataProcessors",
                "StrataRefs",
                "StrataRegistry", "StrataService", "StrataSnapshots", "StrataStore", "StrataStreams",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift),
        // Shared by every test target: temp trees, generators, tools, the CLI, registries, sandboxes.
        .target(
            name: "StrataTestSupport",
            dependencies: [
                "StrataArchive",
                "StrataChanges",
                "StrataCompression",
                "StrataFS",
                "StrataLayers",
                "StrataStreams",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/StrataTestSupport",
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataFSTests",
            dependencies: [
                "StrataChanges",
                "StrataFS",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataStreamsTests",
            dependencies: [
                "StrataFS",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataCompressionTests",
            dependencies: [
                "StrataCompression",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataOCITests",
            dependencies: [
                "StrataCompression",
                "StrataOCI",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataChangesTests",
            dependencies: [
                "StrataChanges",
                "StrataFS",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataOverlayTests",
            dependencies: [
                "StrataChanges",
                "StrataFS",
                "StrataOverlay",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataArchiveTests",
            dependencies: [
                "StrataArchive",
                "StrataChanges",
                "StrataFS",
                "StrataLayers",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataProcessorsTests",
            dependencies: [
                "StrataProcessors",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataBlockTests",
            dependencies: ["StrataBlock", "StrataFS", "StrataTestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataContainerdTests",
            dependencies: ["StrataContainerd", "StrataTestSupport"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataLayersTests",
            dependencies: [
                "StrataArchive",
                "StrataChanges",
                "StrataCompression",
                "StrataFS",
                "StrataLayers",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataDatabaseTests",
            dependencies: [
                "StrataDatabase",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataContentTests",
            dependencies: [
                "StrataArchive",
                "StrataContent",
                "StrataDatabase",
                "StrataFS",
                "StrataOCI",
                "StrataStore",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataSnapshotsTests",
            dependencies: [
                "StrataArchive",
                "StrataChanges",
                "StrataFS",
                "StrataLayers",
                "StrataOCI",
                "StrataSnapshots",
                "StrataStore",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataStoreTests",
            dependencies: [
                "StrataArchive",
                "StrataContent",
                "StrataFS",
                "StrataGC",
                "StrataOCI",
                "StrataSnapshots",
                "StrataStore",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataRefsTests",
            dependencies: [
                "StrataArchive",
                "StrataChanges",
                "StrataContent",
                "StrataFS",
                "StrataGC",
                "StrataLayers",
                "StrataOCI",
                "StrataRefs",
                "StrataSnapshots",
                "StrataStore",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataGCTests",
            dependencies: [
                "StrataFS",
                "StrataGC",
                "StrataLayers",
                "StrataOCI",
                "StrataSnapshots",
                "StrataStore",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataPatchTests",
            dependencies: [
                "StrataChanges",
                "StrataCompression",
                "StrataFS",
                "StrataLayers",
                "StrataPatch",
                "StrataSnapshots",
                "StrataStore",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataRegistryTests",
            dependencies: [
                "StrataFS",
                "StrataOCI",
                "StrataRegistry",
                "StrataSnapshots",
                "StrataStore",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataServiceTests",
            dependencies: [
                "StrataChanges",
                "StrataContainerd",
                "StrataContainerdAPI",
                "StrataFS",
                "StrataLayers",
                "StrataProcessors",
                "StrataService",
                "StrataStore",
                "StrataStreams",
                "StrataTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "StrataCLITests",
            dependencies: [
                "StrataFS",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "InteropTests",
            dependencies: [
                "StrataChanges",
                "StrataFS",
                "StrataLayers",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "SecurityTests",
            dependencies: [
                "StrataArchive",
                "StrataFS",
                "StrataLayers",
                "StrataStreams",
                "StrataTestSupport",
            ],
            swiftSettings: strictSwift),
    ]
)
