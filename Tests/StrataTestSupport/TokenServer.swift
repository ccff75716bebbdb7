import Foundation

/// A registry token service of distribution's token spec, for tests: a certificate made with
/// openssl signs RS256 JWTs (the certificate in `x5c`) granting pull and push on the scope asked
/// for, to the user `strata` with password `s3cret` only (Basic on the token request).
public final class TokenServer {
    public let server: LoopbackServer
    public let realm: String
    public let certificate: String

    public init(_ t: TempDirectory) async throws {
        let key = t.at("token-key.pem")
        certificate = t.at("token-cert.pem")
        try await Tool.check(
            "openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                "-subj", "/CN=strata-token-test",
            ])
        let port = try await LoopbackServer.freePort()
        realm = "http://127.0.0.1:\(port)/token"
        try Self.script.write(toFile: t.at("token-server.py"), atomically: true, encoding: .utf8)
        server = try await LoopbackServer(
            port: port, command: ["python3", t.at("token-server.py"), port, key, certificate])
    }

    /// The registry's `auth.token` section for this service.
    public func registryConfig(service: String) -> String {
        """

        auth:
          token:
            realm: \(realm)
            service: \(service)
            issuer: strata-test
            rootcertbundle: \(certificate)

        """
    }

    public static let script = #"""
        import base64, http.server, json, os, subprocess, sys, time, urllib.parse
        port, key, cert = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True, check=True).stdout
        def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"strata:s3cret").decode():
                    self.send_response(401); self.end_headers(); return
                access = []
                for scope in q.get("scope", []):
                    kind, name, actions = scope.split(":", 2) if scope.count(":") >= 2 else ("", "", "")
                    if kind == "repository":
                        access.append({"type": "repository", "name": name, "actions": actions.split(",")})
                now = int(time.time())
                header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
                claims = {"iss": "strata-test", "sub": "strata", "aud": q.get("service", [""])[0], "exp": now + 300,
                          "nbf": now - 10, "iat": now, "jti": b64(os.urandom(12)), "access": access}
                signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
                sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing.encode(),
                                     capture_output=True, check=True).stdout
                body = json.dumps({"token": signing + "." + b64(sig), "expires_in": 300}).encode()
                self.send_response(200); self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """#
}
