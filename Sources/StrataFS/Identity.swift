import CStrata

/// Facts about the running process that decide what an operation may do.
public enum Identity {
    public static var effectiveUID: UInt32 { strata_geteuid() }

    /// Raises the open-file limit to its hard maximum; deep trees hold a descriptor per level.
    public static func raiseOpenFileLimit() { _ = strata_raise_nofile_limit() }

    /// Whether a descriptor is a terminal (progress is shown only there).
    public static func isTerminal(_ fd: Int32) -> Bool { strata_isatty(fd) == 1 }
}
