import Autodiff
import ExitStatus
import Foundation
import HDF5
import NN
import Optim
import TensorCore
import VideoMAE

/// `vmae parity FIXTURE.h5`: replays a reference state written by PyTorch (llm.c's way) and
/// compares tensor by tensor, with the design's tolerances:
///   loss and logits within 1e-4 relative; each gradient within 1e-3 of its largest magnitude;
///   the AdamW loss sequence within 1e-4 relative.
/// In bf16 mixed precision (`precision: .bf16`, the GEMMs of the linear layers and attention on bf16 operands) the
/// fixture is still the fp32 PyTorch reference, so the tolerances widen to what rounding every
/// GEMM operand to 8 significant bits allows (`Tolerances.bf16`).
public enum Parity {
    /// How close the Swift model must come to the fixture.
    public struct Tolerances: Sendable {
        public let loss: Double, logits: Double, grads: Double, adamw: Double
        /// The design's, for fp32.
        public static let fp32 = Tolerances(loss: 1e-4, logits: 1e-4, grads: 1e-3, adamw: 1e-4)
        /// bf16 operands carry a relative rounding error up to u = 2⁻⁸ ≈ 3.9e-3 each, so one product
        /// up to 2u ≈ 7.8e-3; in a K-long fp32-accumulated sum the independent errors mostly cancel
        /// (≈ 2u/√K relative to Σ|a·b|). The loss, a mean over thousands of squared errors after
        /// ~10 GEMMs, gets 1e-2 relative; logits likewise. A gradient passes through the backward
        /// GEMMs of every layer above it, each adding its own rounding: 5e-2 of its largest
        /// magnitude. The AdamW trajectory (loss after each step of the same batch) gets 2e-2.
        public static let bf16 = Tolerances(loss: 1e-2, logits: 1e-2, grads: 5e-2, adamw: 2e-2)
        public static func of(_ p: Precision) -> Tolerances { p == .bf16 ? bf16 : fp32 }
    }

    public struct Comparison {
        public let what: String
        public let error: Double
        public let tolerance: Double
        public var ok: Bool { error <= tolerance }
    }

    public struct Report {
        public let path: String
        public let kind: String
        public var comparisons: [Comparison] = []
        public var ok: Bool { comparisons.allSatisfy(\.ok) }
    }

    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-12) }

    /// More AdamW steps than any fixture records: a file claiming more is damaged.
    static let maxAdamWSteps = 1000

    /// Refuses a fixture whose config would build a model larger than the file could hold
    /// (every parameter is stored in it; 1032:1 is deflate's best ratio) or whose attention
    /// would need more than 4 GB, before anything is allocated.
    static func checkSize(_ mc: ModelConfig, pixels: [Int], path: String) throws {
        func block(_ d: Int) -> Double { let h = (Double(d) * mc.mlp_ratio).rounded(.down); return 4 * Double(d * d) + 2 * h * Double(d) }
        let params = Double(mc.encoder_depth) * block(mc.encoder_embed_dim) + Double(mc.decoder_depth) * block(mc.decoder_embed_dim)
            + Double(mc.tubeletPixels) * Double(mc.encoder_embed_dim + mc.decoder_embed_dim)
            + Double(mc.num_classes) * Double(mc.encoder_embed_dim)
        let fileBytes = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        guard 4 * params <= 1032 * fileBytes + 1e6 else {
            throw UserError("\(path): config describes a model of about \(Int(params)) parameters, more than the \(Int(fileBytes))-byte file can hold")
        }
        let heads = Double(max(mc.encoder_num_heads, mc.decoder_num_heads))
        let attention = Double(pixels[0]) * heads * Double(mc.tokens) * Double(mc.tokens) * 4
        guard attention <= 4e9 else {
            throw UserError("\(path): \(pixels[0]) clips of \(mc.tokens) tokens need \(Int(attention / 1e9)) GB of attention scores; not a fixture")
        }
    }

    /// Replays the fixture with the GEMMs (linear layers and attention) in `precision` (restored afterwards).
    public static func run(_ path: String, precision: Precision) throws -> Report {
        let was = BLAS.precision
        if let why = BLAS.setPrecision(precision) { throw UserError("--precision \(precision.rawValue): \(why)") }
        defer { _ = BLAS.setPrecision(was) }
        return try run(path, tolerances: .of(precision))
    }

    public static func run(_ path: String) throws -> Report { try run(path, tolerances: .fp32) }

    /// The fixture reader as the child process of `HDF5Isolation` runs it: the whole replay
    /// (fixtures are small), so that every read of the fixture happens there first, in the same
    /// order and interleaved with the same work as here (`vmae parity` names it in main).
    public static let isolatedReader = IsolatedReader(name: "fixture") { _ = try Parity.run($0) }

    static func run(_ path: String, tolerances tol: Tolerances) throws -> Report {
        let f: H5File
        do { f = try H5File.open(path, checkedAs: Parity.isolatedReader.name) } catch let e as HDF5Error where e.kind == .damaged {
            throw UserError("\(path): \(e.message)")
        } catch let e as HDF5Error where e.kind == .refused {
            throw UserError(e.message)  // the child's Parity.run threw this UserError
        } catch { throw UserError("\(path): not a readable HDF5 file (\(error))") }
        defer { try? f.close() }
        guard f.hasAttribute("format"), (try? f.stringAttribute("format")) == "vmae-parity-fixture" else {
            throw UserError("\(path): not a vmae parity fixture (no format=\"vmae-parity-fixture\" attribute)")
        }
        do {
            let kind = try f.stringAttribute("kind")
            let cfgJSON = try f.stringAttribute("config")
            var mc = try JSONDecoder().decode(ModelConfig.self, from: Data(cfgJSON.utf8))
            mc.drop_path_rate = 0
            if mc.num_classes <= 0 { mc.num_classes = 1 }  // unused by the pretraining model
            let pshape = try f.shape(of: "inputs/pixel_values")
            guard pshape.count == 5, pshape.allSatisfy({ $0 > 0 }), pshape[3] == pshape[4] else {
                throw UserError("\(path): inputs/pixel_values has shape \(pshape), expected [B, T, C, H, W] with H = W")
            }
            mc.num_frames = pshape[1]
            mc.img_size = pshape[3]
            if let problem = mc.problems(prefix: "config.").first { throw UserError("\(path): \(problem)") }
            guard pshape[2] == mc.in_chans else {
                throw UserError("\(path): inputs/pixel_values has \(pshape[2]) channels, config.in_chans is \(mc.in_chans)")
            }
            try checkSize(mc, pixels: pshape, path: path)
            let pixels = Tensor(shape: pshape, values: try f.read("inputs/pixel_values", as: Float.self))
            var report = Report(path: path, kind: kind)

            let module: Module
            let lossFn: () -> Variable
            var logitsFn: (() -> Variable)? = nil
            let ctx = ForwardContext.inference()
            switch kind {
            case "pretrain":
                let model = PretrainModel(mc)
                let m8 = try f.read("inputs/mask", as: UInt8.self)
                let n = mc.tokens
                guard m8.count == pshape[0] * n else {
                    throw UserError("\(path): inputs/mask has \(m8.count) values, expected B·N = \(pshape[0])·\(n)")
                }
                // VideoMAE V2 dual masking: decoder_mask is V2's decode_masked_pos (1 = not reconstructed)
                var decoded: [[Bool]]? = nil
                if f.exists("inputs/decoder_mask") {
                    let d8 = try f.read("inputs/decoder_mask", as: UInt8.self)
                    guard d8.count == pshape[0] * n else {
                        throw UserError("\(path): inputs/decoder_mask has \(d8.count) values, expected B·N = \(pshape[0])·\(n)")
                    }
                    decoded = (0..<pshape[0]).map { b in (0..<n).map { d8[b * n + $0] == 0 } }
                }
                let masked = (0..<pshape[0]).map { b in (0..<n).map { m8[b * n + $0] != 0 } }
                // Mask demands equal counts per sample (and a decoder map that decodes something)
                guard Set(masked.map { $0.filter { $0 }.count }).count == 1 else {
                    throw UserError("\(path): inputs/mask hides a different number of tokens in different samples")
                }
                if let decoded {
                    let counts = Set(decoded.map { $0.filter { $0 }.count })
                    guard counts.count == 1, counts.first! > 0 else {
                        throw UserError("\(path): inputs/decoder_mask keeps a different number of tokens per sample, or none")
                    }
                }
                let mask = Mask(masked: masked, decoded: decoded)
                module = model
                lossFn = { model.loss(pixels, mask: mask, ctx) }
            case "classify":
                let model = Classifier(mc)
                let labels64 = try f.read("inputs/labels", as: Int64.self)
                guard labels64.count == pshape[0], labels64.allSatisfy({ $0 >= 0 && $0 < mc.num_classes }) else {
                    throw UserError("\(path): inputs/labels must be \(pshape[0]) labels in 0..<\(mc.num_classes)")
                }
                let labels = labels64.map(Int.init)
                let smoothing = try f.attribute("label_smoothing", of: "expected/logits", as: Double.self, converting: true)
                module = model
                lossFn = { model.loss(pixels, labels: labels, smoothing: Float(smoothing), ctx).loss }
                logitsFn = { model.logits(Variable(pixels), ctx) }
            default:
                throw UserError("\(path): unknown fixture kind \"\(kind)\"")
            }
            let params = module.namedParameters()
            for (name, p) in params {
                guard f.exists("params/\(name)") else { throw UserError("\(path): fixture lacks params/\(name)") }
                let shape = try f.shape(of: "params/\(name)")
                guard shape == p.shape else {
                    throw UserError("\(path): params/\(name) has shape \(shape), the model expects \(p.shape)")
                }
                try f.read("params/\(name)", into: p.value.data, count: p.count)
            }

            // loss, gradients
            module.zeroGrad()
            let loss = lossFn()
            let expectedLoss = Double(try f.readScalar("expected/loss", as: Float.self))
            report.comparisons.append(Comparison(what: "loss", error: relative(Double(loss.value[flat: 0]), expectedLoss), tolerance: tol.loss))
            loss.backward()
            if let logitsFn {
                let z = Tape.noGrad { logitsFn() }
                let e = try f.read("expected/logits", as: Float.self)
                guard e.count == z.value.count else {
                    throw UserError("\(path): expected/logits has \(e.count) values, the model gives \(z.value.count)")
                }
                var worst = 0.0
                for i in 0..<e.count { worst = max(worst, relative(Double(z.value[flat: i]), Double(e[i]))) }
                let scale = e.map { abs(Double($0)) }.max() ?? 1
                var absWorst = 0.0
                for i in 0..<e.count { absWorst = max(absWorst, abs(Double(z.value[flat: i]) - Double(e[i]))) }
                // relative to each logit, floored by the largest logit (a logit near 0 has no relative scale)
                report.comparisons.append(Comparison(what: "logits", error: min(worst, absWorst / max(scale, 1e-12)), tolerance: tol.logits))
            }
            for (name, p) in params {
                let key = "expected/grads/\(name)"
                guard f.exists(key) else {
                    report.comparisons.append(Comparison(what: "grad \(name) (missing from fixture)", error: .infinity, tolerance: tol.grads))
                    continue
                }
                let e = try f.read(key, as: Float.self)
                guard e.count == p.count else {
                    throw UserError("\(path): \(key) has \(e.count) values, the parameter \(p.count)")
                }
                let largest = e.map { abs(Double($0)) }.max() ?? 0
                var worst = 0.0
                let g = p.grad
                for i in 0..<e.count { worst = max(worst, abs(Double(g?.data[i] ?? 0) - Double(e[i]))) }
                report.comparisons.append(Comparison(what: "grad \(name)", error: worst / max(largest, 1e-12), tolerance: tol.grads))
            }

            // AdamW on the same batch
            if f.exists("expected/adamw/losses") {
                let expected = try f.read("expected/adamw/losses", as: Float.self).map(Double.init)
                guard (1...Parity.maxAdamWSteps + 1).contains(expected.count) else {
                    throw UserError("\(path): expected/adamw/losses has \(expected.count) values, expected 1 to \(Parity.maxAdamWSteps + 1)")
                }
                func attr(_ a: String) throws -> Double { try f.attribute(a, of: "expected/adamw/losses", as: Double.self, converting: true) }
                let opt = AdamW(params, beta1: Float(try attr("beta1")), beta2: Float(try attr("beta2")), eps: Float(try attr("eps")))
                let lr = try attr("lr"), wd = try attr("weight_decay")
                var got: [Double] = []
                for s in 0..<expected.count {
                    module.zeroGrad()
                    let l = lossFn()
                    got.append(Double(l.value[flat: 0]))
                    if s < expected.count - 1 {
                        l.backward()
                        opt.step(lr: lr, weightDecay: wd)
                    } else {
                        Tape.clear()
                    }
                }
                let worst = zip(got, expected).map { relative($0, $1) }.max() ?? 0
                report.comparisons.append(Comparison(what: "adamw losses (\(expected.count - 1) steps)", error: worst, tolerance: tol.adamw))
            }
            return report
        } catch let e as UserError { throw e } catch {
            throw UserError("\(path): damaged fixture (\(error))")
        }
    }
}
