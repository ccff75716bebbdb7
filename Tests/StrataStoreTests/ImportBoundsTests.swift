import Foundation
import StrataContent
import StrataFS
import StrataOCI
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// Work bounded by what an image declares (issue 23, defect 6): an import reads a blob no
/// further than its descriptor's size, documents are capped before they are decoded, and an
/// `index.json` that cannot be read whole is refused rather than rewritten without its entries.
@Suite struct ImportBoundsTests {
    /// A layout at `dir` whose `index.json` names `manifest` (digest and size as given).
    static func layout(_ dir: String, manifest: [String: Any]) throws {
        try FileManager.default.createDirectory(atPath: dir + "/blobs/sha256", withIntermediateDirectories: true)
        try ImageLayout.version.write(toFile: dir + "/oci-layout", atomically: true, encoding: .utf8)
        let index: [String: Any] = ["schemaVersion": 2, "manifests": [manifest]]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: dir + "/index.json"))
    }

    /// Writes `bytes` as a blob of the layout; its descriptor as JSON.
    static func blob(_ dir: String, _ bytes: [UInt8], _ mediaType: String) throws -> [String: Any] {
        let d = Digest.sha256(bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/blobs/sha256/" + d.encoded))
        return ["mediaType": mediaType, "digest": d.description, "size": bytes.count]
    }

    @Test func aBlobLongerThanItsDescriptorIsRefusedWithoutReadingItAll() throws {
        let t = TempDirectory("import-long")
        defer { withExtendedLifetime(t) {} }
        let layout = t.at("layout")
        let digest = Digest.sha256(Array("abc".utf8))
        try Self.layout(layout, manifest: ["mediaType": MediaType.manifest, "digest": digest.description, "size": 3])
        // 1 GiB, sparse: read to its end, the import would store a gigabyte before checking.
        let path = layout + "/blobs/sha256/" + digest.encoded
        _ = FileManager.default.createFile(atPath: path, contents: Data("abc".utf8))
        try FileHandle(forWritingTo: URL(fileURLWithPath: path)).truncate(atOffset: 1 << 30)
        let root = try StateRoot(path: t.at("root"))

        let started = ContinuousClock.now
        #expect {
            _ = try ImageImporter(store: root.content).importImage(from: layout, as: "x")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("blobs/sha256/\(digest.encoded)") && text.contains("longer than the 3 bytes")
        }
        #expect(ContinuousClock.now - started < .seconds(1), "the import read on past the descriptor's size")
        #expect(try root.content.ingests().isEmpty)
        #expect((try? root.content.info(digest)) == nil)
    }

    @Test func aManifestPastTheCapIsRefusedBeforeItIsDecoded() throws {
        let t = TempDirectory("import-cap")
        defer { withExtendedLifetime(t) {} }
        let layout = t.at("layout")
        try FileManager.default.createDirectory(atPath: layout + "/blobs/sha256", withIntermediateDirectories: true)
        let config = try Self.blob(
            layout, Array(#"{"rootfs":{"type":"layers","diff_ids":[]}}"#.utf8), MediaType.config)
        // A valid manifest, 5 MiB with its padding: within the old 16 MiB, past containerd's 4.
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.manifest, "config": config, "layers": [] as [Any],
            "annotations": ["padding": String(repeating: "p", count: 5 << 20)],
        ]
        let bytes = Array(try JSONSerialization.data(withJSONObject: manifest))
        let descriptor = try Self.blob(layout, bytes, MediaType.manifest)
        try Self.layout(layout, manifest: descriptor)
        let root = try StateRoot(path: t.at("root"))

        #expect {
            _ = try ImageImporter(store: root.content).importImage(from: layout, as: "x")
        } throws: { error in
            let text = String(describing: error)
            return text.contains(Digest.sha256(bytes).description) && text.contains("4 MiB")
        }
        #expect(throws: (any Error).self) { try root.content.image("x") }
    }

    @Test func anIndexWithAnEntryThatIsNotAnObjectIsRefusedNotEmptied() throws {
        let t = TempDirectory("index-entry")
        defer { withExtendedLifetime(t) {} }
        let root = try StateRoot(path: t.at("root"))
        let d = Descriptor(
            mediaType: MediaType.manifest, digest: try root.content.put(Array("{}".utf8)), size: 2)
        try root.content.setImage("a", d)
        let indexPath = t.at("root") + "/content/index.json"
        var document =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: indexPath)))
            as! [String: Any]
        document["manifests"] = (document["manifests"] as! [Any]) + [42]
        let planted = try JSONSerialization.data(withJSONObject: document)
        try planted.write(to: URL(fileURLWithPath: indexPath))

        let edits: [() throws -> Void] = [{ try root.content.setImage("b", d) }, { try root.content.removeImage("a") }]
        for edit in edits {
            #expect {
                try edit()
            } throws: { error in
                let text = String(describing: error)
                return text.contains("index.json") && text.contains("manifests[1]")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: indexPath)) == planted, "index.json was rewritten")
        }
    }
}
