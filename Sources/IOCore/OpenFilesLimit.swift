// Process file-descriptor limit: every connection is one descriptor.
import CLibUV

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft limit now in force
/// (-1 when it cannot be read). Call once at start-up, before opening sockets; the hard limit
/// itself cannot be raised without privileges (20,000 on the project's machines).
@discardableResult
public func raiseOpenFilesLimit() -> Int {
    Int(instaverse_raise_nofile_limit())
}
