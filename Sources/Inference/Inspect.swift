import Checkpoint
import ExitStatus
import Foundation
import RunConfig

/// `vmae inspect CK.h5`: a checkpoint's task, step, epoch, config summary, class names and tensors.
/// With `compare`: also the largest parameter difference to another checkpoint, relative to
/// each tensor's largest magnitude; status 1 (ExitCodeError) above `tolerance`.
public func runInspect(checkpoint: String, compare: String? = nil, tolerance: Float = 1e-4) throws {
    let ck = try readCheckpoint(checkpoint)
    print("checkpoint \(checkpoint)")
    print("  task \(ck.task)  step \(ck.step)  epoch \(ck.epoch)  created \(ck.created)")
    if let d = ck.config.data(using: .utf8), let c = try? JSONSerialization.jsonObject(with: d) as? [String: Any] {
        let m = c["model"] as? [String: Any] ?? [:], data = c["data"] as? [String: Any] ?? [:], o = c["optim"] as? [String: Any] ?? [:]
        func s(_ v: Any?) -> String { v.flatMap { $0 is NSNull ? nil : "\($0)" } ?? "-" }
        print("  model preset \(s(m["preset"]))  frames \(s(data["num_frames"]))  size \(s(data["input_size"]))  patch \(s(m["patch_size"]))  tubelet \(s(m["tubelet_size"]))")
        print("  optim batch \(s(o["batch_size"]))  lr \(s(o["lr"]))  max_steps \(s(o["max_steps"]))  epochs \(s(o["epochs"]))")
    }
    if let names = ck.strings["class_names"] { print("  classes \(names)") }
    let count = ck.model.reduce(0) { $0 + $1.1.count }
    print("  parameters \(count) in \(ck.model.count) tensors; optimizer moments: \(ck.expAvg.isEmpty ? "none" : "\(ck.expAvg.count) tensors")")
    for (n, t) in ck.model { print("    \(n) \(t.shape)") }
    if let compare {
        let other = try readCheckpoint(compare)
        let (name, rel) = ck.largestModelDifference(to: other)
        let same = rel <= tolerance
        print("compare \(compare): largest difference \(String(format: "%.2e", rel)) of its largest magnitude in \(name) " +
              "(tolerance \(tolerance)): \(same ? "same" : "DIFFERENT")")
        if !same { throw ExitCodeError(code: 1) }
    }
}
