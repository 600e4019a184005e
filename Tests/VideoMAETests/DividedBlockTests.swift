import XCTest
import Autodiff
import Foundation
import HDF5
import NN
import TensorCore
@testable import VideoMAE

/// The divided space-time block: against the PyTorch reference of the seed's
/// DividedSpaceTimeBlock (Tests/Fixtures/blocks/divided_block.h5, made by
/// Tools/parity/make_divided_fixture.py), by finite differences, and by its structure.
final class DividedBlockTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/blocks/divided_block.h5").path

    struct BlockConfig: Decodable {
        let dim: Int, heads: Int, mlp_ratio: Double, qkv_bias: Bool, layer_norm_eps: Double
        let groups: Int, spatial: Int, batch: Int
    }

    /// max |a − e| / max |e|
    static func relativeToLargest(_ a: UnsafePointer<Float>, _ e: [Float]) -> Double {
        var worst = 0.0, largest = 0.0
        for i in 0..<e.count {
            worst = max(worst, abs(Double(a[i]) - Double(e[i])))
            largest = max(largest, abs(Double(e[i])))
        }
        return worst / max(largest, 1e-30)
    }

    /// Output within 1e-4 (relative to its largest entry), loss within 1e-4 relative, every
    /// parameter gradient and the input gradient within 1e-3 of their largest magnitude.
    func testMatchesPyTorchReference() throws {
        let f = try H5File.open(Self.fixture)
        defer { try? f.close() }
        XCTAssertEqual(try f.stringAttribute("format"), "vmae-parity-fixture")
        XCTAssertEqual(try f.stringAttribute("kind"), "divided_block")
        let c = try JSONDecoder().decode(BlockConfig.self, from: Data(try f.stringAttribute("config").utf8))
        let block = DividedBlock(dim: c.dim, heads: c.heads, mlpRatio: c.mlp_ratio, qkvBias: c.qkv_bias,
                                 eps: Float(c.layer_norm_eps), groups: c.groups)
        let params = block.namedParameters()
        // every fixture parameter is used, and every block parameter is in the fixture
        XCTAssertEqual(Set(try f.members(of: "params")), Set(params.map(\.0)))
        for (name, p) in params {
            XCTAssertEqual(try f.shape(of: "params/\(name)"), p.shape, name)
            try f.read("params/\(name)", into: p.value.data, count: p.count)
        }
        let (xv, xs) = try f.readWithShape("inputs/x", as: Float.self)
        XCTAssertEqual(xs, [c.batch, c.groups * c.spatial, c.dim])
        let x = Variable(Tensor(shape: xs, values: xv), requiresGrad: true)
        let r = Variable(Tensor(shape: xs, values: try f.read("inputs/r", as: Float.self)))

        let out = block(x, .inference())
        XCTAssertEqual(out.shape, xs)
        let eOut = try f.read("expected/out", as: Float.self)
        XCTAssertLessThanOrEqual(Self.relativeToLargest(out.value.data, eOut), 1e-4, "out")
        // loss = Σ out·R, and its backward (seed R on out)
        let loss = Kernels.dot(out.value.data, r.value.data, out.count)
        let eLoss = Double(try f.readScalar("expected/loss", as: Float.self))
        XCTAssertLessThanOrEqual(abs(loss - eLoss) / abs(eLoss), 1e-4, "loss")
        out.backward(seed: r.value)
        for (name, p) in params {
            let e = try f.read("expected/grads/\(name)", as: Float.self)
            XCTAssertLessThanOrEqual(Self.relativeToLargest(p.grad!.data, e), 1e-3, "grad \(name)")
        }
        let eDx = try f.read("expected/grads_input/x", as: Float.self)
        XCTAssertLessThanOrEqual(Self.relativeToLargest(x.grad!.data, eDx), 1e-3, "grad x")
    }

    /// A small block with random (non-trivial) parameters.
    static func randomBlock(dim: Int = 8, heads: Int = 2, groups: Int, seed: UInt64) -> DividedBlock {
        let b = DividedBlock(dim: dim, heads: heads, mlpRatio: 2, qkvBias: true, eps: 1e-6, groups: groups)
        var rng = RNG(seed: seed)
        for (name, p) in b.namedParameters() {
            if name.hasSuffix("norm1.weight") || name.hasSuffix("norm2.weight") {
                rng.fillUniform(p.value, low: 0.8, high: 1.2)
            } else if p.shape.count == 1 {
                rng.fillUniform(p.value, low: -0.2, high: 0.2)
            } else {
                let a = Float(1 / Double(p.shape[1]).squareRoot())
                rng.fillUniform(p.value, low: -a, high: a)
            }
        }
        return b
    }

    /// Finite differences on the input and on every parameter (the design's check for every op,
    /// here on the composite).
    func testGradientsByFiniteDifferences() {
        for (g, s, seed) in [(3, 4, UInt64(1)), (2, 1, 2), (1, 5, 3)] {
            let block = Self.randomBlock(groups: g, seed: seed)
            var rng = RNG(seed: seed + 10)
            let x = Variable(Tensor(uninitialized: [2, g * s, 8]), requiresGrad: true)
            rng.fillUniform(x.value, low: -1, high: 1)
            let params = block.namedParameters()
            let report = GradCheck.run([x] + params.map(\.1), h: 1e-2, samples: 24) { v in block(v[0], .inference()) }
            for (i, e) in report.errors.enumerated() {
                XCTAssertLessThan(e, 1e-2, "G \(g) S \(s): \(i == 0 ? "x" : params[i - 1].0): \(report)")
            }
            XCTAssertEqual(Tape.count, 0)
        }
    }

    /// With temporal_fc at zero the temporal branch adds nothing, and the block is a joint block
    /// run on each temporal group alone: spatial attention stays within the group.
    func testZeroTemporalFCIsJointBlockPerGroup() {
        let (b, g, s, d) = (2, 3, 5, 8)
        let div = Self.randomBlock(dim: d, groups: g, seed: 5)
        div.temporalFC.weight.value.zero()
        div.temporalFC.bias!.value.zero()
        let joint = Block(dim: d, heads: 2, mlpRatio: 2, qkvBias: true, eps: 1e-6)
        let src = div.parameterDictionary()
        for (name, p) in joint.namedParameters() { p.value.copy(from: src[name]!.value) }
        var rng = RNG(seed: 6)
        let x = Variable(Tensor(uninitialized: [b, g * s, d]))
        rng.fillUniform(x.value, low: -1, high: 1)
        let y = Tape.noGrad { div(x, .inference()) }
        let ref = Tape.noGrad { joint(Variable(x.value.reshaped([b * g, s, d])), .inference()) }
        for i in 0..<y.count { XCTAssertEqual(y.value.data[i], ref.value.data[i], accuracy: 1e-5) }
    }

    /// Changing one token moves, through the temporal step, only tokens at the same spatial
    /// position; a block of temporal attention alone shows it (spatial/mlp branches are off
    /// when their output projections are zero).
    func testTemporalStepMixesOnlyTheSamePosition() {
        let (b, g, s, d) = (1, 4, 3, 8)
        let div = Self.randomBlock(dim: d, groups: g, seed: 7)
        for p in [div.attn.proj.weight, div.attn.proj.bias!, div.mlp.fc2.weight, div.mlp.fc2.bias!] { p.value.zero() }
        var rng = RNG(seed: 8)
        let x = Tensor(uninitialized: [b, g * s, d])
        rng.fillUniform(x, low: -1, high: 1)
        let y0 = Tape.noGrad { div(Variable(x), .inference()) }.value.copy()
        let x1 = x.copy()
        let moved = 1 * s + 2          // group 1, position 2
        for j in 0..<d { x1.data[moved * d + j] += Float(j % 3) * 0.5 }   // not a constant: layernorm would cancel it
        let y1 = Tape.noGrad { div(Variable(x1), .inference()) }.value
        for n in 0..<g * s {
            var diff: Float = 0
            for j in 0..<d { diff = max(diff, abs(y1.data[n * d + j] - y0.data[n * d + j])) }
            if n % s == 2 { XCTAssertGreaterThan(diff, 1e-4, "token \(n) shares the position and must change") }
            else { XCTAssertEqual(diff, 0, "token \(n) is at another position") }
        }
    }

    func testParameterNamesFollowTimeSformer() {
        let names = Self.randomBlock(groups: 2, seed: 1).namedParameters().map(\.0)
        XCTAssertEqual(names, [
            "temporal_norm1.weight", "temporal_norm1.bias",
            "temporal_attn.qkv.weight", "temporal_attn.q_bias", "temporal_attn.v_bias",
            "temporal_attn.proj.weight", "temporal_attn.proj.bias",
            "temporal_fc.weight", "temporal_fc.bias",
            "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.q_bias", "attn.v_bias",
            "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
            "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
        ])
    }

    /// Drop path in training draws per sample on every residual; at rate 0 training equals inference.
    func testDropPathZeroTrainingEqualsInference() {
        let block = Self.randomBlock(groups: 2, seed: 9)
        var rng = RNG(seed: 10)
        let x = Variable(Tensor(uninitialized: [2, 6, 8]))
        rng.fillUniform(x.value, low: -1, high: 1)
        let a = Tape.noGrad { block(x, .inference()) }.value.array
        let b = Tape.noGrad { block(x, ForwardContext(training: true)) }.value.array
        XCTAssertEqual(a, b)
    }
}
