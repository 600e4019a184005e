import HDF5

/// Scales the expected loss of a fixture copy by 1.01, so parity must report a failure.
func corruptLoss(_ path: String) throws {
    let f = try H5File.open(path, writable: true)
    let v = try f.readScalar("expected/loss", as: Float.self)
    try f.write("expected/loss", scalar: v * 1.01)
    try f.close()
}
