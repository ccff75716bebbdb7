import Foundation

/// A user name and password for one registry: given on the command line, or found in
/// `~/.docker/config.json` (`auths.HOST.auth`, base64 of `user:password`). Never printed.
public struct Credentials: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The `Authorization: Basic` value.
    var basic: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }

    /// The credentials `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`) holds for `host`.
    public static func dockerConfig(for host: String) -> Credentials? {
        let env = ProcessInfo.processInfo.environment
        let dir = env["DOCKER_CONFIG"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.docker")
        guard let data = FileManager.default.contents(atPath: dir + "/config.json"),
            let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let auths = config["auths"] as? [String: Any]
        else { return nil }
        let entry = (auths[host] ?? auths["https://" + host] ?? auths["http://" + host]) as? [String: Any]
        guard let encoded = entry?["auth"] as? String, let decoded = Data(base64Encoded: encoded),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }
}
