// Heap bytes of an object, for footprint tests and reports across modules (memory per idle
// connection is a headline figure; tests assert budgets on it).
import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// The usable size malloc reports for `object`'s allocation (its glibc chunk minus 8 bytes).
/// Any thread; the object must be alive.
public func mallocUsableSize(_ object: AnyObject) -> Int {
    malloc_usable_size(Unmanaged.passUnretained(object).toOpaque())
}
