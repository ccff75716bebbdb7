import StrataContainerdAPI
import StrataFS
import StrataOCI

// containerd's wire types and Strata's, converted in one place for the client here and the
// services in StrataService. (A descriptor read from the wire is checked where it is read: a
// request's is InvalidArgument, a daemon's reply an invalid image.)

extension Containerd_Types_Mount {
    public init(_ m: Mount) {
        self.init()
        type = m.type
        source = m.source
        options = m.options
    }
}

extension Mount {
    public init(_ m: Containerd_Types_Mount) { self.init(type: m.type, source: m.source, options: m.options) }
}

extension Containerd_Types_Descriptor {
    public init(_ d: Descriptor) {
        self.init()
        mediaType = d.mediaType
        digest = d.digest.description
        size = d.size
        annotations = d.annotations ?? [:]
    }
}
