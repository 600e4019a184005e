#if canImport(Glibc)
import Glibc
#endif

/// After each checkpoint (its file, its pictures, the curves redrawn from the whole of
/// metrics.jsonl): the free pages of the C heap go back to the system (glibc's `malloc_trim`).
/// What is in use stays flat over a long run, but glibc keeps the pages of freed blocks, and the
/// transient buffers of each checkpoint differ in size (the curves parse a file that grows), so
/// without this the resident memory creeps up over hours (the soak: README, "Soak"). Takes a
/// few milliseconds per checkpoint.
enum HeapTrim {
    /// glibc's malloc_trim, looked up at run time (malloc.h is not part of Swift's Glibc module);
    /// nil on other C libraries.
    static let trim: (@convention(c) (Int) -> Int32)? = {
#if canImport(Glibc)
        guard let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(f, to: (@convention(c) (Int) -> Int32).self)
#else
        return nil
#endif
    }()

    static func release() { _ = trim?(0) }
}
