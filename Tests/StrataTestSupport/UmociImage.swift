import Foundation
import StrataStreams
import Testing

/// Images built by umoci, an implementation independent of Strata: each layer is what a shell
/// script does to the previous root filesystem, repacked by `umoci repack`.
public struct UmociImage {
    public let layout: String
    public let tag: String

    /// Builds the image `layout:tag` with one layer per script (run in the root filesystem).
    public static func build(in t: TempDirectory, name: String = "image", tag: String = "v1", layers: [String])
        async throws
        -> UmociImage
    {
        let layout = t.at(name)
        try await Tool.check("umoci", ["init", "--layout", layout])
        try await Tool.check("umoci", ["new", "--image", "\(layout):\(tag)"])
        for (i, script) in layers.enumerated() {
            let bundle = t.at("\(name)-bundle-\(i)")
            try await Tool.check("umoci", ["unpack", "--image", "\(layout):\(tag)", bundle])
            try await Tool.check("sh", ["-c", "set -e\n" + script], in: bundle + "/rootfs")
            try await Tool.check("umoci", ["repack", "--image", "\(layout):\(tag)", bundle])
            try FileManager.default.removeItem(atPath: bundle)
        }
        return UmociImage(layout: layout, tag: tag)
    }

    /// umoci's own unpack of the image: the reference root filesystem.
    public func unpackByUmoci(_ t: TempDirectory) async throws -> String {
        let bundle = t.at("\(tag)-reference")
        try await Tool.check("umoci", ["unpack", "--image", "\(layout):\(tag)", bundle])
        return bundle + "/rootfs"
    }

    /// Edits the image's config and rewrites what points at it, up to `index.json`: makes images
    /// that are wrong in one chosen way.
    public func rewriteConfig(_ edit: (inout [String: Any]) -> Void) throws {
        var index = try Self.json(layout + "/index.json")
        var manifests = index["manifests"] as! [[String: Any]]
        var manifest = try Self.json(blob(manifests[0]["digest"] as! String))
        var config = manifest["config"] as! [String: Any]
        var configObject = try Self.json(blob(config["digest"] as! String))
        edit(&configObject)
        (config["digest"], config["size"]) = try write(configObject)
        manifest["config"] = config
        (manifests[0]["digest"], manifests[0]["size"]) = try write(manifest)
        index["manifests"] = manifests
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: layout + "/index.json"))
    }

    private func blob(_ digest: String) -> String { layout + "/blobs/sha256/" + digest.dropFirst(7) }

    private func write(_ object: [String: Any]) throws -> (String, Int) {
        let data = try JSONSerialization.data(withJSONObject: object)
        let digest = Digest.sha256(Array(data))
        try data.write(to: URL(fileURLWithPath: blob(digest.description)))
        return (digest.description, data.count)
    }

    public static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// Three layers of a sample image: every entry type, a deletion, an opaque directory,
    /// hard links, owners and times.
    public static let sampleLayers = [
        """
        mkdir -p etc usr/bin var/lib/keep opaque
        echo base > etc/hosts; echo keep > var/lib/keep/a; echo o1 > opaque/one; echo o2 > opaque/two
        printf '#!/bin/sh\\n' > usr/bin/tool; chmod 755 usr/bin/tool; ln usr/bin/tool usr/bin/tool-link
        ln -s ../etc/hosts usr/hosts-link; mkfifo var/fifo; chown 1000:1000 var/lib/keep/a
        """,
        """
        rm etc/hosts; rm -rf opaque; mkdir opaque; echo new > opaque/three; echo two > etc/two; chmod 700 var/lib
        """,
        """
        echo again > etc/hosts; rm var/fifo; touch -d '2001-02-03 04:05:06' etc/two
        """,
    ]

    /// Whether umoci, skopeo, tar and root are here (see `TestEnvironment.requirementsMet`).
    public static func requirements() -> Bool {
        TestEnvironment.requirementsMet(tools: ["umoci", "skopeo", "tar"], root: true) {
            Issue.record(Comment(rawValue: $0))
        }
    }
}
