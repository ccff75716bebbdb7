import ArgumentParser
import Foundation
import StrataChanges
import StrataCompression
import StrataFS
import StrataLayers

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Build two sample trees, diff them, apply the layer to a copy of the lower tree, verify, print the descriptor."
    )

    @Option(help: "gzip, zstd or none.") var compression: Compression = .gzip
    @Flag(help: "Keep the temporary directory and print its path.") var keep = false
    @Flag(help: "Print the descriptor as one JSON object.") var json = false

    func run() throws {
        var base = NSTemporaryDirectory()
        while base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/strata-demo-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ValidationError("cannot create a temporary directory") }
        let dir = String(cString: made)
        defer { if !keep { try? FileManager.default.removeItem(atPath: dir) } }
        let lower = dir + "/lower"
        let upper = dir + "/upper"
        let applied = dir + "/applied"
        let layer = dir + "/layer"
        try SampleTrees.buildLower(at: lower)
        try SampleTrees.buildUpper(at: upper)
        try SampleTrees.buildLower(at: applied)
        let descriptor = try Differ(options: DiffOptions(compression: compression)).write(
            lower: lower, upper: upper, output: layer)
        let result = try Applier(expectedDiffID: descriptor.uncompressedDigest).apply(layer: layer, root: applied)
        let owners = Identity.effectiveUID == 0
        if let difference = try TreeVerifier(times: .seconds, owners: owners).firstDifference(
            Handle.openDirectory(path: applied), Handle.openDirectory(path: upper))
        {
            throw ValidationError("round trip failed: \(difference)")
        }
        if json { return try Output.json(descriptor) }
        if keep { print("trees and layer kept in \(dir)") }
        print("diffed \(lower) -> \(upper): \(result.entries) entries")
        print("applied to a copy of the lower tree and verified equal to the upper tree")
        try Output.descriptor(descriptor, json: false)
    }
}
