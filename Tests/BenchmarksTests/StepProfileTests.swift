import Autodiff
import Foundation
import TensorCore
import XCTest

@testable import Benchmarks

/// `vmae bench --profile`: the rows cover the step and every op of a pretraining step shows up.
/// Not a timing assertion: the rows are checked against the step they divide up.
final class StepProfileTests: XCTestCase {
    func testProfileCoversTheStepAndEveryOp() throws {
        let (result, profile) = try StepBench.run(preset: "vit-tiny", frames: 4, size: 32, batch: 2, steps: 2,
                                                  warmup: 1, profile: true)
        let p = try XCTUnwrap(profile)
        XCTAssertFalse(Profiler.isOn, "the profile must switch itself off")
        // The rows divide up the measured step: only the few lines around the phases are uncounted.
        XCTAssertEqual(p.profiled_s, p.step_s_mean, accuracy: 0.05 * p.step_s_mean + 0.002,
                       p.table(title: "profile"))
        XCTAssertLessThanOrEqual(p.profiled_s, p.step_s_mean * 1.001 + 1e-4)
        let byName = Dictionary(uniqueKeysWithValues: p.rows.map { ($0.name, $0) })
        // every op of a pretraining step, with its forward and (where a gradient flows) backward
        for op in ["linear", "attention", "layerNorm", "gelu", "add", "concat", "concatTokens", "gatherTokens", "mseLoss"] {
            let r = try XCTUnwrap(byName[op], "\(op) missing from \(p.rows.map(\.name))")
            XCTAssertTrue(r.isOp)
            XCTAssertGreaterThan(r.forwardCalls, 0, op)
            XCTAssertGreaterThan(r.backwardCalls, 0, op)
        }
        XCTAssertGreaterThan(try XCTUnwrap(byName["patchify"]).forwardCalls, 0)  // pixels need no gradient
        for phase in ["mask", "zero grads", "pixel targets", "AdamW"] {
            XCTAssertFalse(try XCTUnwrap(byName[phase], phase).isOp)
        }
        // vit-tiny has 12 encoder + 4 decoder blocks with 4 linears each, plus embedding,
        // encoder_to_decoder and head: 67 linear calls per step
        XCTAssertEqual(byName["linear"]!.forwardCalls, 67 * p.steps)
        XCTAssertEqual(byName["attention"]!.forwardCalls, 16 * p.steps)
        // GEMM FLOPs are counted where BLAS is called: forward linears and attention close to the
        // bench's estimate (one third of a step), backward about twice the forward
        let fwd = p.rows.reduce(0) { $0 + $1.forwardFlops } / Double(p.steps)
        let bwd = p.rows.reduce(0) { $0 + $1.backwardFlops } / Double(p.steps)
        XCTAssertEqual(fwd + bwd, p.gemm_flop_per_step, accuracy: 1e-6 * p.gemm_flop_per_step)
        XCTAssertEqual(fwd, result.gflop_per_step * 1e9 / 3, accuracy: 0.02 * fwd)
        XCTAssertGreaterThan(bwd, 1.8 * fwd)
        XCTAssertGreaterThan(p.gemm_peak_gflop_per_s, 0)
        let table = p.table(title: "t")
        XCTAssertTrue(table.contains("attention") && table.contains("[AdamW]") && table.contains("GEMM peak"), table)
    }

    /// Profiling off: the tape charges nothing and the counters stay put.
    func testNoProfileNoCounting() {
        XCTAssertFalse(Profiler.isOn)
        let x = Variable(Tensor(filled: 1, shape: [4, 8]), requiresGrad: true)
        let w = Variable(Tensor(filled: 0.5, shape: [3, 8]), requiresGrad: true)
        let before = Profiler.flops
        let y = linear(x, w, nil)
        OpProfile.phase("ignored")
        mseLoss(y, Tensor(zeros: [4, 3])).backward()
        XCTAssertEqual(Profiler.flops, before)
        XCTAssertEqual(OpProfile.opName("Autodiff/LayerNorm.swift"), "layerNorm")
    }
}
