import StrataContent
import StrataStreams

/// containerd's record of where a blob came from: the label
/// `containerd.io/distribution.source.HOST` holds the repositories of HOST known to have it,
/// comma-separated. A pull or push adds its repository; a push to another repository of the
/// same host asks the registry to mount the blob from one of them instead of sending it.
enum DistributionSource {
    static func key(_ host: String) -> String { "containerd.io/distribution.source.\(host)" }

    /// The repositories of `host` that `digest` is recorded in, `except` left out.
    static func repositories(of digest: Digest, at host: String, in store: ContentStore, except: String) -> [String] {
        guard let value = (try? store.info(digest))?.labels[key(host)] else { return [] }
        return value.split(separator: ",").map(String.init).filter { $0 != except }
    }

    /// Records that `repository` of `host` has `digest`.
    static func record(_ digest: Digest, at host: String, _ repository: String, in store: ContentStore) throws {
        let known = repositories(of: digest, at: host, in: store, except: repository)
        _ = try store.label(digest, [key(host): (known + [repository]).joined(separator: ",")])
    }
}
