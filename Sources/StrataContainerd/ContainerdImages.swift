import Foundation
import StrataContainerdAPI
import StrataContent
import StrataOCI
import StrataStreams
import SwiftProtobuf

/// containerd's image records (its Images API): a name and the descriptor it points at.
public struct ContainerdImages: Sendable {
    public let client: ContainerdClient

    public init(_ client: ContainerdClient) { self.client = client }

    /// The descriptor image `name` points at, checked (a digest, a size not negative).
    public func target(of name: String) async throws -> Descriptor {
        let t = try await client.call("Images.Get", "image \(name)") {
            try await client.images.get(.with { $0.name = name }, metadata: client.metadata()).image.target
        }
        guard let digest = Digest(parsing: t.digest), t.size >= 0 else {
            throw ContentError.invalidImage("image \(name): containerd gave the target \(t.digest), \(t.size) bytes")
        }
        return Descriptor(mediaType: t.mediaType, digest: digest, size: t.size)
    }

    /// Points image `name` at `target`: creates it, or updates the image of that name.
    public func set(_ name: String, to target: Descriptor) async throws {
        let image = Containerd_Services_Images_V1_Image.with {
            $0.name = name
            $0.target = .init(target)
        }
        do {
            _ = try await client.call("Images.Create", "image \(name)") {
                try await client.images.create(.with { $0.image = image }, metadata: client.metadata())
            }
        } catch let e as ContainerdError where e.isAlreadyExists {
            _ = try await client.call("Images.Update", "image \(name)") {
                try await client.images.update(
                    .with {
                        $0.image = image
                        $0.updateMask = .with { $0.paths = ["target"] }
                    }, metadata: client.metadata())
            }
        }
    }
}
