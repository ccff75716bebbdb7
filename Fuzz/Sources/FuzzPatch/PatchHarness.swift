import Foundation
import FuzzSupport
import StrataFS
import StrataPatch

#if canImport(Glibc)
    import Glibc
#endif

/// Made on the first input: enters the sandbox with ROOT on a tmpfs of its own, so a patch stages
/// inside ROOT (`.strata-patch`) and the sentinel tree around it stays strictly unchanged.
private let sentinel = Sentinel(harness: "FuzzPatch", rootMount: true)

/// The patch reader and applier, onto ROOT holding `PatchSeeds.base`. An input that starts with `{`
/// is a journal: it is planted as `ROOT/.strata-patch/journal.json` (with empty `staged` and
/// `trash`) and `recover` runs, as `strata patch recover ROOT` would after a container wrote it.
/// Anything else is a patch file: `PatchReader` reads it, `PatchApplier.apply` applies it. Errors
/// are rejected input; a change outside ROOT, a trap or a sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    sentinel.run(data, size) {
        let input = bytes(data, size)
        try PatchSeeds.makeBase(TreeBuilder(root: Handle.openDirectory(path: Sentinel.root)))
        if input.first == UInt8(ascii: "{") {
            let staging = Sentinel.root + "/.strata-patch"
            mkdir(staging, 0o700)
            mkdir(staging + "/staged", 0o700)
            mkdir(staging + "/trash", 0o700)
            try Data(input).write(to: URL(fileURLWithPath: staging + "/journal.json"))
            _ = try PatchApplier(root: Sentinel.root).recover()
        } else {
            let path = Sentinel.scratch + "/input.patch"
            try Data(input).write(to: URL(fileURLWithPath: path))
            try PatchApplier(root: Sentinel.root).apply(PatchReader(path: path))
        }
    }
}

/// `LLVMFuzzerInitialize`: the seed mode, patches `PatchCreator` writes, and journals of their
/// operations as `JSONEncoder` writes them.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    Seeds.handle("FuzzPatch") { dir in try PatchSeeds.write(to: dir) }
    return 0
}
