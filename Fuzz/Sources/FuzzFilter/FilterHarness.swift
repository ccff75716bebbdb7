import FuzzSupport

/// The fields of the object every filter is matched against, as containerd's List calls see them.
/// `long` gives a backtracking `~=` pattern such as `(a+)+$` something to take exponential time on.
private let labels = [
    "containerd.io/gc.root": "2024-01-01", "app": "web", "a.b": "dotted",
    "long": String(repeating: "a", count: 48) + "!",
]

private func field(_ path: ArraySlice<String>) -> (String, Bool) {
    switch path.first {
    case "name": return ("docker.io/library/busybox:latest", true)
    case "kind": return ("committed", true)
    case "labels": return Filter.label(path, labels)
    default: return ("", false)
    }
}

/// containerd's filter syntax as StrataService parses it: the input's lines are the filters of
/// one request; a parsed filter is matched against a fixed object. Errors are rejected filters; a
/// trap, a sanitizer report or a timeout (libFuzzer's `-timeout`: a pattern that takes seconds
/// is a denial of service) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if Plant.reached(data, size) { Plant.crash("FuzzFilter") }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let filters = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let filter = try? Filter(filters) else { return 0 }
    _ = filter.matches(field)
    return 0
}

/// `LLVMFuzzerInitialize`: the seed mode, filters as containerd's own documentation writes them.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    Seeds.handle("FuzzFilter") { dir in
        let examples = [
            "name==docker.io/library/busybox:latest", #"labels."containerd.io/gc.root""#,
            "labels.app==web,kind!=active", "name~=busybox\nlabels.app", #"name~=/^docker\.io/,labels.a.b==dotted"#,
            #"labels."a.b"=="quoted \"v\"""#, "name~=|bu+sy|", "labels.long~=^a+!$",
        ]
        for (i, e) in examples.enumerated() { Seeds.save(Array(e.utf8), dir, "filter-\(i)") }
    }
    return 0
}
