import Autodiff
import HDF5
import NN
import TensorCore
import XCTest

@testable import VideoMAE

/// VideoMAE V2's running-cell decoder mask and the model's dual-masking forward.
final class DecoderMaskingTests: XCTestCase {
    /// ratio 0.5 on a 4×4 grid, 2 temporal groups, pointer 0: the queue (1, 1, 0, 0) read from
    /// ptr + cell position, the pointer moved one step before each group (as V2's run_cell/get_cell).
    func testMapsAreV2s() {
        let g = RunningCellMask(ratio: 0.5, temporalGroups: 2, rows: 4, cols: 4)
        XCTAssertEqual(g.keptCount, 16)
        // group 0, ptr 1: cell (0,0)→q[1]=1, (0,1)→q[2]=0, (1,0)→q[3]=0, (1,1)→q[0]=1  (1 = dropped)
        // group 1, ptr 2: q[2]=0, q[3]=0, q[0]=1, q[1]=1
        let dropped0 = [1, 0, 1, 0,  0, 1, 0, 1,  1, 0, 1, 0,  0, 1, 0, 1,
                        0, 0, 0, 0,  1, 1, 1, 1,  0, 0, 0, 0,  1, 1, 1, 1]
        XCTAssertEqual(g.kept(pointer: 0).map { $0 ? 0 : 1 }, dropped0)
        // the cell runs: group g of pointer p is group g − 1 of pointer p + 1
        for p in 0..<3 {
            XCTAssertEqual(Array(g.kept(pointer: p)[16..<32]), Array(g.kept(pointer: p + 1)[0..<16]))
        }
        // every 2×2 cell of every group drops int(4·ratio) tokens
        for (ratio, m) in [(0.25, 1), (0.5, 2), (0.75, 3)] {
            let h = RunningCellMask(ratio: ratio, temporalGroups: 3, rows: 6, cols: 4)
            XCTAssertEqual(h.keptCount, 3 * 24 * (4 - m) / 4)
            for p in 0..<4 {
                let k = h.kept(pointer: p)
                for grp in 0..<3 { for cy in 0..<3 { for cx in 0..<2 {
                    var dropped = 0
                    for dy in 0..<2 { for dx in 0..<2 where !k[grp * 24 + (2 * cy + dy) * 4 + 2 * cx + dx] { dropped += 1 } }
                    XCTAssertEqual(dropped, m, "ratio \(ratio) pointer \(p) group \(grp) cell \(cy),\(cx)")
                } } }
            }
        }
    }

    func testImpossibleRatiosAndGridsRefused() {
        XCTAssertNotNil(RunningCellMask.problem(ratio: 0.2, rows: 4, cols: 4))   // int(0.8) = 0
        XCTAssertNotNil(RunningCellMask.problem(ratio: 1.0, rows: 4, cols: 4))
        XCTAssertNotNil(RunningCellMask.problem(ratio: -0.5, rows: 4, cols: 4))
        XCTAssertNotNil(RunningCellMask.problem(ratio: 0.5, rows: 7, cols: 7))   // 112 / 16
        XCTAssertNil(RunningCellMask.problem(ratio: 0.5, rows: 14, cols: 14))
    }

    /// The PyTorch fixture's decoder masks (Tools/parity/make_fixture.py's own running-cell code)
    /// are maps of this generator.
    func testFixtureMasksAreRunningCellMaps() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pretrain_dual.h5").path
        let f = try H5File.open(path)
        defer { try? f.close() }
        let d8 = try f.read("inputs/decoder_mask", as: UInt8.self)
        let g = RunningCellMask(ratio: 0.5, temporalGroups: 2, rows: 4, cols: 4)
        let maps = (0..<4).map { g.kept(pointer: $0) }
        for b in 0..<2 {
            let kept = (0..<32).map { d8[b * 32 + $0] == 0 }
            XCTAssertTrue(maps.contains(kept), "sample \(b)")
        }
    }

    /// With a decoder map the model predicts exactly the kept tokens and the loss is over them;
    /// with the map "the masked tokens" it is the plain model.
    func testDualMaskingForward() {
        var c = ModelConfig.preset("vit-tiny")!
        c.img_size = 32; c.num_frames = 4; c.patch_size = 8
        c.encoder_embed_dim = 32; c.encoder_depth = 1; c.encoder_num_heads = 2
        c.decoder_embed_dim = 16; c.decoder_depth = 1; c.decoder_num_heads = 2
        let model = PretrainModel(c)
        model.initialize(seed: 1)
        var rng = RNG(seed: 2)
        let x = Tensor(uninitialized: [2, 4, 3, 32, 32]); rng.fillNormal(x)
        let enc = MaskGenerator(.tube, ratio: 0.75, config: c).batch(count: 2, rng: &rng)
        let dual = RunningCellMask(ratio: 0.5, config: c).apply(to: enc, rng: &rng)
        XCTAssertEqual(dual.decodedCount, 16)
        let ctx = ForwardContext.inference()
        let pred = Tape.noGrad { model.predict(Variable(x), mask: dual, ctx) }
        XCTAssertEqual(pred.shape, [2, 16, c.tubeletPixels])
        // the decoder map equal to the encoder mask gives the plain model's loss, bit for bit
        let same = Mask(masked: enc.masked, decoded: enc.masked)
        let l0 = Tape.noGrad { model.loss(x, mask: enc, ctx) }.value[flat: 0]
        let l1 = Tape.noGrad { model.loss(x, mask: same, ctx) }.value[flat: 0]
        XCTAssertEqual(l0, l1)
        let l2 = Tape.noGrad { model.loss(x, mask: dual, ctx) }.value[flat: 0]
        XCTAssertNotEqual(l0, l2)
    }
}
