import Foundation
import StrataFS
import StrataOCI
import StrataRegistry
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

@testable import StrataRegistry

/// Where a registry's credentials may go (issue 23, defect 3): only to the registry's origin
/// (scheme, host and port), never to an upload `Location` or a redirect elsewhere; to a token
/// realm over TLS only unless the registry is plain HTTP; and loopback is an address, parsed.
@Suite struct RegistryCredentialTests {
    @Test(arguments: [
        ("localhost", true), ("localhost:5000", true), ("LOCALHOST:5000", true), ("127.0.0.1", true),
        ("127.0.0.1:5000", true), ("127.255.3.4:80", true), ("[::1]", true), ("[::1]:5000", true), ("::1", true),
        ("[::ffff:127.0.0.1]:5000", true), ("127.example.com", false), ("127.example.com:5000", false),
        ("127.0.0.1.example.com", false), ("localhost.example.com", false), ("128.0.0.1", false),
        ("127.0.0.1:", false), ("127.0.0.1:x", false), ("[::1]x", false), ("[::2]:5000", false),
        ("127.1", false), ("0127.0.0.1", false), ("registry.example.com", false), ("10.0.0.1:5000", false),
    ])
    func loopbackIsAnAddressNotAPrefix(host: String, loopback: Bool) {
        #expect(ImageReference.isLoopback(host: host) == loopback, "\(host)")
    }

    @Test func originsCompareSchemeHostAndPort() {
        let registry = Origin(url: "https://Registry.Example.com/v2/")
        #expect(registry != nil)
        #expect(registry == Origin(url: "https://registry.example.com:443/v2/x/blobs/uploads/1?state=y"))
        #expect(registry != Origin(url: "http://registry.example.com/v2/"))
        #expect(registry != Origin(url: "https://registry.example.com:5000/v2/"))
        #expect(registry != Origin(url: "https://storage.example.com/v2/"))
        #expect(Origin(url: "http://127.0.0.1/v2/") == Origin(url: "http://127.0.0.1:80/v2/"))
        for url in ["http+unix://%2Frun%2Fdocker.sock/v2/", "file:///etc/passwd", "/v2/x", "ftp://h/x"] {
            #expect(Origin(url: url) == nil, "\(url)")
        }
    }

    @Test func aTokenRealmGetsCredentialsOnlyOverTLSUnlessTheRegistryIsPlainHTTP() throws {
        let tls = try #require(Origin(url: "https://registry.example.com/v2/"))
        let plain = try #require(Origin(url: "http://127.0.0.1:5000/v2/"))
        let httpsRealm = try #require(Origin(url: "https://auth.example.com/token"))
        let httpRealm = try #require(Origin(url: "http://auth.example.com/token"))
        let loopbackRealm = try #require(Origin(url: "http://127.0.0.1:5001/token"))
        #expect(RegistryClient.realmGetsCredentials(httpsRealm, registry: tls, plainHTTPAsked: false))
        #expect(!RegistryClient.realmGetsCredentials(httpRealm, registry: tls, plainHTTPAsked: false))
        #expect(RegistryClient.realmGetsCredentials(httpRealm, registry: plain, plainHTTPAsked: true))
        // Plain HTTP only because the registry is on loopback: a remote plain realm gets nothing.
        #expect(!RegistryClient.realmGetsCredentials(httpRealm, registry: plain, plainHTTPAsked: false))
        #expect(RegistryClient.realmGetsCredentials(loopbackRealm, registry: plain, plainHTTPAsked: false))
    }

    /// A registry asking for Basic auth answers an upload with a `Location`, and a blob GET with
    /// a redirect, on a second server of the same host but another port: the push and the pull
    /// succeed and the second server never sees an `Authorization` header.
    @Test func credentialsStayWithTheRegistrysOrigin() async throws {
        guard
            TestEnvironment.requirementsMet(tools: ["python3"], fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let t = TempDirectory("registry-origin")
        defer { withExtendedLifetime(t) {} }
        let log = t.at("requests.log")
        try Self.script.write(toFile: t.at("origin-server.py"), atomically: true, encoding: .utf8)
        let registryPort = try await LoopbackServer.freePort()
        var storagePort = try await LoopbackServer.freePort()
        while storagePort == registryPort { storagePort = try await LoopbackServer.freePort() }
        let registry = try await LoopbackServer(
            port: registryPort,
            command: ["python3", t.at("origin-server.py"), registryPort, "registry", storagePort, log])
        let storage = try await LoopbackServer(
            port: storagePort,
            command: ["python3", t.at("origin-server.py"), storagePort, "storage", registryPort, log])
        defer { withExtendedLifetime((registry, storage)) {} }

        let blob = Array("strata-blob\n".utf8)
        let d = Descriptor(mediaType: MediaType.layer, digest: Digest.sha256(blob), size: Int64(blob.count))
        try Data(blob).write(to: URL(fileURLWithPath: t.at("blob")))
        let client = try RegistryClient(
            host: "127.0.0.1:\(registryPort)", plainHTTP: true,
            credentials: Credentials(username: "strata", password: "s3cret"))
        let content = try StateRoot(path: t.at("root")).content
        try await client.use { client in
            let upload = try await client.upload("private/x", d, from: try Handle.openFile(path: t.at("blob")))
            guard case .uploaded = upload else { throw RegistryError.protocolViolation("not uploaded: \(upload)") }
            let writer = try content.writer(ref: "pull-test", total: d.size)
            defer { writer.close() }
            try await client.download("private/x", d, into: writer)
        }
        #expect(try content.open(d.digest).readToEnd(limit: 1 << 10) == blob)

        let requests = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let toStorage = requests.filter { $0["role"] as? String == "storage" }
        let authorized = requests.filter { $0["role"] as? String == "registry" && $0["authorization"] is String }
        #expect(toStorage.map { $0["method"] as? String ?? "" }.sorted() == ["GET", "PUT"], "\(requests)")
        #expect(!authorized.isEmpty, "the registry never got the credentials: \(requests)")
        #expect(
            toStorage.allSatisfy { !($0["authorization"] is String) },
            "credentials went to another origin: \(toStorage)")
    }

    /// `registry` asks for Basic auth (`strata:s3cret`), then sends uploads and blob GETs to the
    /// `storage` server on the other port; both log each request and its `Authorization` header.
    static let script = #"""
        import base64, http.server, json, sys
        port, role, other, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
        AUTH = "Basic " + base64.b64encode(b"strata:s3cret").decode()
        BLOB = b"strata-blob\n"
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def answer(self, status, headers=(), body=b""):
                self.send_response(status)
                for k, v in headers: self.send_header(k, v)
                self.send_header("Content-Length", str(len(body))); self.end_headers()
                if self.command != "HEAD": self.wfile.write(body)
            def serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n: self.rfile.read(n)
                with open(log, "a") as f:
                    f.write(json.dumps({"role": role, "method": self.command, "path": self.path,
                                        "authorization": self.headers.get("Authorization")}) + "\n")
                if role == "registry":
                    if self.headers.get("Authorization") != AUTH:
                        return self.answer(401, [("WWW-Authenticate", 'Basic realm="strata-test"')])
                    if self.command == "POST":
                        return self.answer(202, [("Location", "http://127.0.0.1:%s/upload/1?state=s" % other)])
                    if self.command == "GET" and "/blobs/" in self.path:
                        return self.answer(307, [("Location", "http://127.0.0.1:%s/blob" % other)])
                    return self.answer(404)
                if self.command == "PUT": return self.answer(201)
                if self.command == "GET": return self.answer(200, [("Content-Type", "application/octet-stream")], BLOB)
                return self.answer(404)
            do_GET = do_POST = do_PUT = do_PATCH = do_HEAD = serve
        http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """#
}
