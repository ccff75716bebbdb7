/// A `WWW-Authenticate` challenge: its scheme (`Basic`, `Bearer`) and parameters (`realm`,
/// `service`, `scope`), as registries send them (RFC 7235 auth-params, values quoted or not).
struct Challenge: Equatable {
    var scheme: String
    var parameters: [String: String]

    init?(_ header: String) {
        let trimmed = header.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " ") else {
            guard !trimmed.isEmpty else { return nil }
            scheme = String(trimmed)
            parameters = [:]
            return
        }
        scheme = String(trimmed[..<space])
        parameters = [:]
        var rest = trimmed[space...].drop { $0 == " " }
        while !rest.isEmpty {
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmingCharacters(in: " ,").lowercased()
            rest = rest[rest.index(after: eq)...]
            var value = ""
            if rest.first == "\"" {
                rest.removeFirst()
                while let c = rest.first, c != "\"" {
                    rest.removeFirst()
                    if c == "\\", let next = rest.first {
                        value.append(next)
                        rest.removeFirst()
                    } else {
                        value.append(c)
                    }
                }
                rest = rest.dropFirst()
            } else {
                let v = rest.prefix { $0 != "," }
                value = v.trimmingCharacters(in: " ")
                rest = rest[v.endIndex...]
            }
            parameters[key] = value
            rest = rest.drop { $0 == "," || $0 == " " }
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(self.drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
