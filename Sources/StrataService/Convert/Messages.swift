import Foundation
import StrataContainerd
import StrataContainerdAPI
import StrataContent
import StrataFS
import StrataOCI
import StrataSnapshots
import StrataStreams
import SwiftProtobuf

/// Conversions between containerd's messages and Strata's types, in one place.

typealias ProtoMount = Containerd_Types_Mount
typealias ProtoDescriptor = Containerd_Types_Descriptor
typealias SnapshotInfoMessage = Containerd_Services_Snapshots_V1_Info
typealias ContentInfoMessage = Containerd_Services_Content_V1_Info
typealias StatusMessage = Containerd_Services_Content_V1_Status

extension Descriptor {
    /// A descriptor from a request: its digest parsed and its size not negative (InvalidArgument
    /// naming the field otherwise), before anything counts with it.
    init(_ d: ProtoDescriptor) throws {
        guard d.size >= 0 else { throw RequestError("descriptor size: \(d.size) is negative") }
        self.init(
            mediaType: d.mediaType, digest: try Digest(request: d.digest, field: "descriptor digest"), size: d.size,
            annotations: d.annotations.isEmpty ? nil : d.annotations)
    }
}

extension SnapshotInfoMessage {
    init(_ i: SnapshotInfo) {
        self.init()
        name = i.name
        parent = i.parent ?? ""
        kind =
            switch i.kind {
            case .view: .view
            case .active: .active
            case .committed: .committed
            }
        createdAt = Google_Protobuf_Timestamp(date: i.createdAt)
        updatedAt = Google_Protobuf_Timestamp(date: i.updatedAt)
        labels = i.labels
    }

    /// containerd's snapshot filter fields: `name`, `parent`, `kind`, `labels.KEY`.
    func field(_ path: ArraySlice<String>) -> (String, Bool) {
        switch path.first {
        case "name": return (name, !name.isEmpty)
        case "parent": return (parent, !parent.isEmpty)
        case "kind":
            let k =
                switch kind {
                case .view: "view"
                case .active: "active"
                case .committed: "committed"
                default: "unknown"
                }
            return (k, true)
        case "labels": return Filter.label(path, labels)
        default: return ("", false)
        }
    }
}

extension ContentInfoMessage {
    init(_ i: ContentInfo) {
        self.init()
        digest = i.digest.description
        size = i.size
        createdAt = Google_Protobuf_Timestamp(date: i.createdAt)
        updatedAt = Google_Protobuf_Timestamp(date: i.updatedAt)
        labels = i.labels
    }

    /// containerd's content filter fields: `digest`, `size`, `labels.KEY`.
    func field(_ path: ArraySlice<String>) -> (String, Bool) {
        switch path.first {
        case "digest": return (digest, true)
        case "size": return (String(size), true)
        case "labels": return Filter.label(path, labels)
        default: return ("", false)
        }
    }
}

extension StatusMessage {
    init(_ s: IngestStatus) {
        self.init()
        ref = s.ref
        offset = s.offset
        total = s.total ?? 0
        startedAt = Google_Protobuf_Timestamp(date: s.startedAt)
        updatedAt = Google_Protobuf_Timestamp(date: s.updatedAt)
    }

    /// containerd's ingest status filter field: `ref`.
    func field(_ path: ArraySlice<String>) -> (String, Bool) {
        path.first == "ref" ? (ref, true) : ("", false)
    }
}

/// A label update with containerd's field mask: none or `labels` replaces them all,
/// `labels.KEY` sets or (when absent or empty) removes one key; any other path is refused.
struct LabelUpdate {
    var changes: [String: String?]
    var replacing: Bool

    init(labels: [String: String], mask: [String], object: String) throws {
        if mask.isEmpty || mask.contains("labels") {
            changes = labels.filter { !$0.value.isEmpty }.mapValues { Optional($0) }
            replacing = true
            return
        }
        changes = [:]
        replacing = false
        for path in mask {
            guard path.hasPrefix("labels.") else {
                throw RequestError("cannot update \"\(path)\" of \(object): only labels can change")
            }
            let key = String(path.dropFirst("labels.".count))
            let value = labels[key] ?? ""
            changes[key] = value.isEmpty ? .some(nil) : .some(value)
        }
    }
}
