import Foundation
import StrataOCI
import StrataStreams

/// A Merge or Diff of snapshots (BuildKit's MergeOp and DiffOp): a named chain of layers, and the
/// committed snapshot whose tree is those layers applied in order onto the empty tree.
public struct Ref: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case merge
        case diff
    }

    /// How the ref's snapshot was built.
    public enum Build: String, Codable, Sendable {
        /// The layers' own directories stacked as overlay lower directories: no file written.
        case stacked
        /// A new tree of hard links to the layers' files (native): no file data written.
        case hardlinks
        /// Some layers existed only as blobs and were unpacked (their data copied).
        case copy
    }

    /// How a Diff found its layers.
    public enum DiffMethod: String, Codable, Sendable {
        /// The lower's chain is the start of the upper's: the upper's layers above it, as they are.
        case unmerge
        /// One new layer from the differ, comparing the two trees.
        case simple
    }

    public var name: String
    public var kind: Kind
    public var snapshotter: String
    /// The committed snapshot holding the ref's tree; nil for a Diff of layers that exist only as
    /// blobs, until something needs the tree.
    public var snapshot: String?
    public var build: Build?
    public var diff: DiffMethod?
    public var layers: [RefLayer]
    public var created: Date
}

/// One layer of a ref: a blob, a snapshot's changes, or both.
public struct RefLayer: Codable, Sendable, Equatable {
    /// The layer's blob in the content store, with its diffID as the `containerd.io/uncompressed`
    /// annotation; nil until the layer is exported.
    public var descriptor: Descriptor?
    public var diffID: Digest?
    /// A committed snapshot holding the layer: its own directory on overlay; on native its tree is
    /// the layer applied over `base`.
    public var snapshot: String?
    /// What the layer's changes are taken against (native, export): nil is the empty tree.
    public var base: String?

    public init(descriptor: Descriptor? = nil, diffID: Digest? = nil, snapshot: String? = nil, base: String? = nil) {
        self.descriptor = descriptor
        self.diffID = diffID
        self.snapshot = snapshot
        self.base = base
    }

    /// The same layer: equal diffIDs, or else the same snapshot over the same base.
    public func isSame(as other: RefLayer) -> Bool {
        if let a = diffID, let b = other.diffID { return a == b }
        return snapshot != nil && snapshot == other.snapshot && base == other.base
    }
}

/// Why a ref operation failed.
public enum RefError: Error, CustomStringConvertible {
    case invalidName(String)
    case notFound(String)
    case alreadyExists(String)
    case noTree(String, String)
    case noLayerData(String, Int)

    public var description: String {
        switch self {
        case .invalidName(let n):
            return
                "invalid ref \"\(n)\": write snapshot:KEY, image:NAME, scratch, or a name made by strata ref (letters, digits, . _ - /, no colon)"
        case .notFound(let n): return "ref \(n): not found"
        case .alreadyExists(let n): return "ref \(n): already exists"
        case .noTree(let n, let why): return "\(n): no tree to compare: \(why)"
        case .noLayerData(let n, let i): return "ref \(n): layer \(i) has neither a blob nor a snapshot"
        }
    }
}
