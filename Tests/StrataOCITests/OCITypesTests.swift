import Foundation
import StrataCompression
import StrataOCI
import StrataStreams
import StrataTestSupport
import Testing

/// The OCI types: platform specifiers, media types and their compression, document caps, and
/// descriptors' JSON as the image spec names its fields.
@Suite struct OCITypesTests {
    @Test func platformParsing() {
        #expect(Platform(parsing: "linux/arm64") == Platform(architecture: "arm64", os: "linux"))
        #expect(Platform(parsing: "linux//amd64") == Platform(architecture: "amd64", os: "linux"))
        for bad in ["linux", "linux/", "/amd64", "linux/amd64/v8", "", "/"] {
            #expect(Platform(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func layerMediaTypes() {
        for c in Compression.allCases {
            #expect(MediaType.layerCompression(MediaType.layer(c)) == c)
        }
        #expect(MediaType.layerCompression(MediaType.config) == nil)
        #expect(MediaType.isIndex(MediaType.dockerManifestList) && MediaType.isManifest(MediaType.dockerManifest))
        #expect(!MediaType.isIndex(MediaType.manifest) && !MediaType.isManifest(MediaType.index))
    }

    @Test func documentLimits() {
        #expect(DocumentLimit.bytes(for: MediaType.manifest) == 4 << 20)
        #expect(DocumentLimit.bytes(for: MediaType.index) == 4 << 20)
        #expect(DocumentLimit.bytes(for: MediaType.config) == 16 << 20)
    }

    @Test func descriptorJSON() throws {
        let digest = Digest.sha256(Array("layer".utf8))
        let d = Descriptor(
            mediaType: MediaType.layer(.gzip), digest: digest, size: 5,
            annotations: [Annotations.uncompressed: digest.description])
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(d)) as? [String: Any]
        #expect(json?["mediaType"] as? String == "application/vnd.oci.image.layer.v1.tar+gzip")
        #expect(json?["digest"] as? String == digest.description && json?["size"] as? Int == 5)
        #expect(try JSONDecoder().decode(Descriptor.self, from: JSONEncoder().encode(d)) == d)
        #expect(d.uncompressedDigest == digest)
    }
}
