import Foundation
import FuzzSupport
import StrataContent
import StrataFS
import StrataOCI
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// A layout directory of this process, whose `index.json` each input replaces.
private let layout: String = {
    let dir = scratchDirectory("image-layout")
    mkdir(dir + "/blobs", 0o755)
    return dir
}()

/// The documents Strata reads from registries and layouts: every input is decoded as an image
/// manifest, an index (or `index.json`), a configuration's rootfs and a descriptor; what decodes
/// must encode and decode again to the same document. The input as text is also a
/// `WWW-Authenticate` header (StrataRegistry's `Challenge`) and a digest. Last, it is a layout's
/// `index.json` that `ImageLayout.setImage` rewrites: every manifest entry of another name must
/// survive the rewrite (a finding otherwise).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if Plant.reached(data, size) { Plant.crash("FuzzImage") }
    let input = Data(bytes(data, size))
    let decoder = JSONDecoder()
    if let m = try? decoder.decode(ImageManifest.self, from: input) {
        _ = m.layers.map { ($0.uncompressedDigest, MediaType.layerCompression($0.mediaType)) }
        roundTrip(m) { $0.layers.map(\.digest) + [$0.config.digest] }
    }
    if let index = try? decoder.decode(ImageIndexDocument.self, from: input) {
        _ = index.manifests.map(\.descriptor)
        roundTrip(index) { $0.manifests.map(\.digest) }
    }
    if let config = try? decoder.decode(ImageConfigRootFS.self, from: input) { _ = config.chainIDs }
    if let d = try? decoder.decode(Descriptor.self, from: input) { roundTrip(d) { [$0.digest] } }
    let text = String(decoding: input, as: UTF8.self)
    if let c = Challenge(text) { _ = (c.scheme, c.parameters["realm"], c.parameters["scope"]) }
    _ = Digest(parsing: text)
    rewriteIndex(input)
    return 0
}

/// What Strata decoded, it encodes; the encoding decodes to the same document (by `key`).
private func roundTrip<T: Codable>(_ value: T, key: (T) -> [Digest]) {
    do {
        let again = try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
        if key(again) != key(value) { Oracle.fail("FuzzImage: \(T.self) changed in an encode/decode round trip") }
    } catch {
        Oracle.fail("FuzzImage: \(T.self) that decoded does not decode after encoding: \(error)")
    }
}

/// `index.json` rewritten by `setImage`: the entries of other names stay.
private func rewriteIndex(_ input: Data) {
    let path = layout + "/index.json"
    guard (try? input.write(to: URL(fileURLWithPath: path))) != nil else { return }
    let name = "fuzz"
    let before = (try? JSONSerialization.jsonObject(with: input)) as? [String: Any]
    let target = Descriptor(mediaType: MediaType.manifest, digest: Digest.sha256([]), size: 0)
    guard (try? ImageLayout.setImage(name, target, in: Handle.openDirectory(path: layout))) != nil else { return }
    guard
        let after = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))))
            as? [String: Any],
        let entries = after["manifests"] as? [Any]
    else { Oracle.fail("FuzzImage: setImage wrote an index.json without a manifests list") }
    guard let old = before?["manifests"] as? [Any] else { return }
    let kept = old.filter { entry in
        ((entry as? [String: Any])?["annotations"] as? [String: Any])?["org.opencontainers.image.ref.name"] as? String
            != name
    }
    if entries.count != kept.count + 1 {
        Oracle.fail("FuzzImage: setImage kept \(entries.count - 1) of the \(kept.count) entries of other names")
    }
}

/// `LLVMFuzzerInitialize`: the seed mode, documents as Strata's `Codable` types encode them, and
/// a layout's `index.json` as `ImageLayout` writes it.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    Seeds.handle("FuzzImage") { dir in
        let config = Descriptor(mediaType: MediaType.config, digest: Digest.sha256(Array("c".utf8)), size: 2)
        let layer = Descriptor(
            mediaType: MediaType.layer(.gzip), digest: Digest.sha256(Array("l".utf8)), size: 100,
            annotations: ["containerd.io/uncompressed": Digest.sha256(Array("u".utf8)).description])
        let manifest = ImageManifest(config: config, layers: [layer, layer])
        let encoder = JSONEncoder()
        Seeds.save(Array(try encoder.encode(manifest)), dir, "manifest.json")
        let entry = IndexEntry(
            Descriptor(mediaType: MediaType.manifest, digest: Digest.sha256(Array("m".utf8)), size: 300),
            platform: Platform(architecture: "arm64", os: "linux", variant: "v8"))
        Seeds.save(Array(try encoder.encode(ImageIndexDocument(manifests: [entry, entry]))), dir, "index.json")
        Seeds.save(Array(try encoder.encode(layer)), dir, "descriptor.json")
        let scratch = scratchDirectory("image-seeds")
        let handle = try Handle.openDirectory(path: scratch)
        try ImageLayout.initialize(handle)
        try ImageLayout.setImage("a:1", layer, in: handle)
        try ImageLayout.setImage("b:2", config, in: handle)
        Seeds.save(Array(try Data(contentsOf: URL(fileURLWithPath: scratch + "/index.json"))), dir, "layout-index.json")
    }
    return 0
}
