import Foundation

/// Where a request goes, as far as credentials are concerned: scheme, host (lowercased) and port
/// (80 and 443 when the URL gives none), as browsers and containerd compare origins.
///
/// The one rule of the client: a registry's credentials (Basic, or its Bearer tokens) go only to
/// the registry's own origin; an upload `Location`, a redirect or a blob URL on any other origin
/// gets a request without them. Only `http` and `https` URLs are origins: a registry cannot send
/// the client to another scheme (AsyncHTTPClient would also follow `http+unix`).
struct Origin: Hashable, Sendable, CustomStringConvertible {
    let scheme: String
    let host: String
    let port: Int

    /// The origin of an absolute `http` or `https` URL; nil for anything else.
    init?(url: String) {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = c.host, !host.isEmpty
        else { return nil }
        if let port = c.port, !(1...65535).contains(port) { return nil }
        self.scheme = scheme
        self.host = host.lowercased()
        port = c.port ?? (scheme == "https" ? 443 : 80)
    }

    var isTLS: Bool { scheme == "https" }

    var description: String {
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(bracketed):\(port)"
    }
}
