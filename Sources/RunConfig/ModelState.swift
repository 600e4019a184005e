import Autodiff
import Checkpoint
import ExitStatus
import NN
import Optim
import TensorCore

/// Copies between live parameters / optimizer moments and checkpoint tensors, checking names
/// and shapes; a mismatch is a `UserError` naming the tensor and both shapes.
public enum ModelState {
    public static func tensors(of module: Module) -> [(String, Tensor)] {
        module.namedParameters().map { ($0.0, $0.1.value) }
    }

    /// Loads every parameter of `module` from `ck.model` (all must be present and fit).
    public static func load(_ module: Module, from ck: Checkpoint, path: String) throws {
        let have = Dictionary(ck.model, uniquingKeysWith: { a, _ in a })
        for (name, p) in module.namedParameters() {
            guard let t = have[name] else {
                throw UserError("\(path): checkpoint has no tensor '\(name)' that this model needs (was it made with another config?)")
            }
            guard t.shape == p.shape else {
                throw UserError("\(path): tensor '\(name)' has shape \(t.shape) in the checkpoint but \(p.shape) in the model from the config")
            }
            p.value.copy(from: t)
        }
    }

    public static func moments(_ opt: AdamW) -> (m: [(String, Tensor)], v: [(String, Tensor)]) {
        (opt.slots.map { ($0.name, $0.expAvg) }, opt.slots.map { ($0.name, $0.expAvgSq) })
    }

    public static func loadMoments(_ opt: AdamW, from ck: Checkpoint, path: String) throws {
        let m = Dictionary(ck.expAvg, uniquingKeysWith: { a, _ in a })
        let v = Dictionary(ck.expAvgSq, uniquingKeysWith: { a, _ in a })
        for s in opt.slots {
            guard let a = m[s.name], let b = v[s.name], a.shape == s.expAvg.shape, b.shape == s.expAvgSq.shape else {
                throw UserError("\(path): optimizer state for '\(s.name)' is missing or has the wrong shape")
            }
            s.expAvg.copy(from: a)
            s.expAvgSq.copy(from: b)
        }
    }

    public static func allFinite(_ module: Module) -> Bool {
        module.namedParameters().allSatisfy { Kernels.allFinite($0.1.value.data, $0.1.count) }
    }
}
