import Foundation
import StrataContent
import StrataOCI
import StrataStreams
import Testing

/// `CommitDocuments`: the base config kept field for field but for what a commit adds.
@Suite struct CommitDocumentsTests {
    let layer = Descriptor(
        mediaType: MediaType.layer(.gzip), digest: Digest.sha256([1, 2, 3]), size: 3,
        annotations: [Annotations.uncompressed: Digest.sha256([4]).description])

    @Test func aCommitAppendsTheDiffIDAndAHistoryEntryAndKeepsEverythingElse() throws {
        let base = Descriptor(mediaType: MediaType.layer(.gzip), digest: Digest.sha256([9]), size: 1)
        let config = Array(
            #"{"architecture":"arm64","os":"linux","config":{"Env":["A=1"]},"x-unknown":{"kept":true},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created_by":"base"}]}"#
                .utf8)
        let manifest = ImageManifest(
            schemaVersion: 2, mediaType: MediaType.manifest,
            config: Descriptor(mediaType: MediaType.config, digest: Digest.sha256(config), size: Int64(config.count)),
            layers: [base], annotations: nil)
        let d = try CommitDocuments(
            base: (config, manifest), layer: layer, platform: Platform.current, createdBy: "test", comment: "why")
        let object = try ImageDocument.object(d.config)
        #expect(object["architecture"] as? String == "arm64")
        #expect((object["x-unknown"] as? [String: Any])?["kept"] as? Bool == true)
        #expect(((object["config"] as? [String: Any])?["Env"] as? [String]) == ["A=1"])
        let rootfs = object["rootfs"] as? [String: Any]
        #expect(rootfs?["diff_ids"] as? [String] == ["sha256:aa", Digest.sha256([4]).description])
        let history = object["history"] as? [[String: Any]] ?? []
        #expect(history.count == 2 && history[1]["created_by"] as? String == "test")
        #expect(history.last?["comment"] as? String == "why")
        #expect(d.configDescriptor.digest == Digest.sha256(d.config))
        #expect(d.manifestDescriptor.digest == Digest.sha256(d.manifest))
        let written = try JSONDecoder().decode(ImageManifest.self, from: Data(d.manifest))
        #expect(written.layers.map(\.digest) == [base.digest, layer.digest])
        #expect(written.layers.last?.annotations == nil)
        #expect(written.config.digest == d.configDescriptor.digest)
    }

    @Test func withoutABaseItIsAOneLayerImageForThePlatform() throws {
        let d = try CommitDocuments(
            base: nil, layer: layer, platform: Platform.current, createdBy: "test", comment: nil)
        let object = try ImageDocument.object(d.config)
        #expect(object["os"] as? String == Platform.current.os)
        #expect((object["rootfs"] as? [String: Any])?["diff_ids"] as? [String] == [Digest.sha256([4]).description])
    }

    @Test func aLayerWithoutItsDiffIDIsRefused() {
        var bare = layer
        bare.annotations = nil
        #expect(throws: ContentError.self) {
            _ = try CommitDocuments(base: nil, layer: bare, platform: .current, createdBy: "t", comment: nil)
        }
    }
}
