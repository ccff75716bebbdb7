import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// An OCI distribution-spec client for one registry host: requests with the registry's auth
/// (anonymous, Basic, or Bearer tokens fetched from its `WWW-Authenticate` challenge, per
/// repository scope), TLS unless plain HTTP is allowed (`--plain-http`, or a loopback host).
/// Every request goes through `send`, which gives credentials only to the registry's `Origin`
/// (scheme, host and port): an upload `Location`, redirect or blob URL elsewhere gets none, and
/// redirects are followed by hand for that. A registry that cannot be reached, or answers 5xx,
/// is tried again for up to `patience` (see `retrying`).
public final class RegistryClient: Sendable {
    public let host: String
    let base: String
    /// The registry's origin: the only one that gets its credentials.
    let origin: Origin
    let credentials: Credentials?
    let http: HTTPClient
    /// How long a transfer keeps retrying a registry that went away before it gives up.
    let patience: Duration
    /// Blobs up to this size go up in one PUT; larger ones in PATCH chunks of this size (a
    /// chunk is what an upload can lose to a dropped connection).
    let chunkSize: Int
    /// Bearer tokens by scope, and whether the registry wants Basic.
    private let tokens = Mutex<[String: String]>([:])
    private let basic = Mutex(false)
    /// Whether the user asked for plain HTTP (not merely a loopback host).
    let plainHTTPAsked: Bool

    /// `plainHTTP` is the user's choice (`--plain-http`): the registry is reached over plain HTTP,
    /// and so may its token realm be, with the credentials. A loopback host is reached over plain
    /// HTTP without asking, as containerd does; its realm then gets credentials over plain HTTP
    /// only when it is on loopback too.
    public init(
        host: String, plainHTTP: Bool, credentials: Credentials?, patience: Duration = .seconds(60),
        chunkSize: Int = 16 << 20
    ) throws(RegistryError) {
        self.host = host
        self.patience = patience
        self.chunkSize = chunkSize
        plainHTTPAsked = plainHTTP
        base = (plainHTTP || ImageReference.isLoopback(host: host) ? "http://" : "https://") + host
        guard let origin = Origin(url: base + "/v2/") else {
            throw .invalidReference(host, "the registry is not HOST[:PORT]")
        }
        self.origin = origin
        self.credentials = credentials
        http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(300))))
    }

    public func shutdown() async throws { try await http.shutdown() }

    /// Runs `body` with the client, then shuts its connections down, whether `body` threw or not.
    public func use<T: Sendable>(_ body: (RegistryClient) async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do { result = .success(try await body(self)) } catch { result = .failure(error) }
        try await shutdown()
        return try result.get()
    }

    /// `GET /v2/`: the registry speaks the protocol and accepts the credentials.
    public func ping() async throws {
        let r = try await send(scope: nil) { HTTPClientRequest(url: self.base + "/v2/") }
        _ = try await Self.expect(r, [200], "GET", base + "/v2/")
    }

    /// Sends the request `make` builds, answering one auth challenge: for `scope`
    /// (`repository:NAME:pull,push`) a Bearer token is fetched; Basic sends the credentials.
    /// A request to another origin than the registry's goes without credentials and its
    /// challenge is not answered; a URL that is not `http` or `https` is refused.
    func send(scope: String?, _ make: @Sendable () throws -> HTTPClientRequest) async throws -> HTTPClientResponse {
        var request = try make()
        guard let target = Origin(url: request.url) else {
            throw RegistryError.protocolViolation("\(request.url): not an http or https URL; not followed")
        }
        guard target == origin else { return try await http.execute(request, timeout: .minutes(30)) }
        authorize(&request, scope: scope)
        let first = try await http.execute(request, timeout: .minutes(30))
        guard first.status == .unauthorized else { return first }
        _ = try? await first.body.collect(upTo: 1 << 16)
        guard let header = first.headers.first(name: "WWW-Authenticate"), let challenge = Challenge(header) else {
            throw RegistryError.unauthorized(host: host, "\(request.url) needs authentication and gives no challenge")
        }
        switch challenge.scheme.lowercased() {
        case "basic":
            guard credentials != nil else {
                throw RegistryError.unauthorized(host: host, "needs a user name and password (Basic auth)")
            }
            basic.withLock { $0 = true }
        case "bearer":
            let token = try await fetchToken(challenge, scope: scope ?? challenge.parameters["scope"])
            tokens.withLock { $0[scope ?? ""] = token }
        default:
            throw RegistryError.unauthorized(host: host, "unknown auth scheme \(challenge.scheme)")
        }
        var retry = try make()
        authorize(&retry, scope: scope)
        let second = try await http.execute(retry, timeout: .minutes(30))
        if second.status == .unauthorized {
            throw RegistryError.unauthorized(
                host: host,
                credentials == nil
                    ? "refused anonymous access to \(retry.url)" : "refused the credentials for \(retry.url)")
        }
        return second
    }

    private func authorize(_ request: inout HTTPClientRequest, scope: String?) {
        if let token = tokens.withLock({ $0[scope ?? ""] }) {
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer " + token)
        } else if basic.withLock({ $0 }), let credentials {
            request.headers.replaceOrAdd(name: "Authorization", value: credentials.basic)
        }
    }

    /// The distribution token flow: GET the realm with service and scope, with Basic
    /// credentials when there are some; the answer's `token` (or `access_token`).
    private func fetchToken(_ challenge: Challenge, scope: String?) async throws -> String {
        guard let realm = challenge.parameters["realm"], var url = URLComponents(string: realm) else {
            throw RegistryError.unauthorized(host: host, "Bearer challenge without a realm")
        }
        guard let realmOrigin = Origin(url: realm) else {
            throw RegistryError.unauthorized(host: host, "the token realm \(realm) is not an http or https URL")
        }
        var query = url.queryItems ?? []
        if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        for s in scope?.split(separator: " ") ?? [] { query.append(URLQueryItem(name: "scope", value: String(s))) }
        url.queryItems = query
        guard let tokenURL = url.string else { throw RegistryError.unauthorized(host: host, "bad realm \(realm)") }
        var request = HTTPClientRequest(url: tokenURL)
        if let credentials, Self.realmGetsCredentials(realmOrigin, registry: origin, plainHTTPAsked: plainHTTPAsked) {
            request.headers.add(name: "Authorization", value: credentials.basic)
        }
        let r = try await http.execute(request, timeout: .seconds(60))
        let body = try await r.body.collect(upTo: 1 << 20)
        guard r.status == .ok else {
            throw RegistryError.unauthorized(
                host: host,
                "the token service \(realm) refused \(credentials == nil ? "anonymous access" : "the credentials") "
                    + "(HTTP \(r.status.code))")
        }
        let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        guard let token = (json?["token"] ?? json?["access_token"]) as? String else {
            throw RegistryError.unauthorized(host: host, "the token service \(realm) sent no token")
        }
        return token
    }

    /// Whether the token realm may have the user's credentials: over TLS; over plain HTTP only
    /// when the user asked for plain HTTP (`--plain-http`), or when both the registry and the
    /// realm are on loopback (then nothing leaves the machine). Otherwise the token is asked for
    /// anonymously.
    static func realmGetsCredentials(_ realm: Origin, registry: Origin, plainHTTPAsked: Bool) -> Bool {
        realm.isTLS || (!registry.isTLS && (plainHTTPAsked || ImageReference.isLoopback(host: realm.host)))
    }

    /// Throws unless the response's status is one of `ok`; returns the response.
    static func expect(_ r: HTTPClientResponse, _ ok: [UInt], _ method: String, _ url: String) async throws
        -> HTTPClientResponse
    {
        guard ok.contains(r.status.code) else {
            let body = (try? await r.body.collect(upTo: 4096)).map { String(buffer: $0) } ?? ""
            throw RegistryError.status(method: method, url: url, status: Int(r.status.code), body: body)
        }
        return r
    }

    func url(_ repository: String, _ path: String) -> String { base + "/v2/" + repository + "/" + path }

    /// An absolute URL for a `Location` header of the answer to a request to `from`, resolved
    /// against it (registries send absolute or path-only ones). Whether it gets credentials is
    /// `send`'s decision, by its origin.
    func absolute(_ location: String, from: String) -> String {
        URL(string: location, relativeTo: URL(string: from))?.absoluteString ?? location
    }

    /// The token scope for `repository`; a mount also reads the repositories it mounts from
    /// (several scopes are separated by spaces and sent as several `scope` parameters).
    static func scope(_ repository: String, push: Bool, from sources: [String] = []) -> String {
        (["repository:\(repository):" + (push ? "pull,push" : "pull")] + sources.map { "repository:\($0):pull" })
            .joined(separator: " ")
    }
}
