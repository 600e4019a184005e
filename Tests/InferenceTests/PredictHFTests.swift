import Autodiff
@testable import DataPipeline
import Foundation
import Interop
import NN
import TensorCore
import TestSupport
import XCTest

@testable import Inference

/// `vmae predict --model HF_FOLDER`: against transformers on the same frames
/// (Tests/Fixtures/hf/predict_k400*, made by Tools/weights/make_predict_fixture.py).
final class PredictHFTests: XCTestCase {
    let fixtures = TT.packageRoot + "/Tests/Fixtures/hf"
    var folder: String { fixtures + "/predict_k400" }
    var video: String { fixtures + "/predict_k400.mp4" }

    func expected(_ name: String) throws -> Tensor {
        try SafetensorsFile(path: fixtures + "/predict_k400.expected.safetensors").tensor(name)
    }

    func testPreprocessingAndLogitsMatchTransformersOnTheSameFrames() throws {
        let (ck, pre, _) = try HFModelFolder.load(folder)
        XCTAssertEqual(pre.resize, .shortestEdge(36))
        XCTAssertEqual(pre.crop?.height, 32)
        XCTAssertEqual(pre.crop?.width, 32)
        let p = try Predictor(checkpoint: ck, source: folder, huggingFace: pre)
        XCTAssertEqual(p.classNames.count, 400)
        XCTAssertEqual(p.classNames.first, "abseiling")
        XCTAssertEqual(p.classNames.last, "zumba")
        let reader = try p.open(video)
        XCTAssertEqual(reader.frameCount, 40)
        for w in [1, 2] {
            let wins = HFVideoPreprocessor.windowIndices(frameCount: reader.frameCount, count: 16, windows: w)
            let idx = try expected("indices_w\(w)")
            XCTAssertEqual(wins.flatMap { $0 }.map(Float.init), Array(UnsafeBufferPointer(start: idx.data, count: idx.count)), "indices, \(w) windows")
            let clips = try wins.enumerated().map { try p.clip(reader, indices: $0.element, crop: 0, crops: 1, window: $0.offset) }
            let pv = try expected("pixel_values_w\(w)")
            XCTAssertEqual(pv.shape, [w, 16, 3, 32, 32])
            var worst: Float = 0
            for (b, c) in clips.enumerated() {
                XCTAssertEqual(c.shape, [16, 3, 32, 32])
                for i in 0..<c.count { worst = max(worst, abs(c.data[i] - pv.data[b * c.count + i])) }
            }
            // Pillow's resize byte for byte: only float rounding of rescale/normalize remains
            XCTAssertLessThan(worst, 1e-5, "pixel values, \(w) windows")

            let batch = Tensor(uninitialized: pv.shape)
            for (b, c) in clips.enumerated() { (batch.data + b * c.count).update(from: c.data, count: c.count) }
            let z = Tape.noGrad { p.model.logits(Variable(batch), ForwardContext.inference()) }.value
            let want = try expected("logits_w\(w)")
            XCTAssertEqual(z.shape, want.shape)
            var maxAbs: Float = 0, diff: Float = 0
            for i in 0..<want.count { maxAbs = max(maxAbs, abs(want.data[i])); diff = max(diff, abs(z.data[i] - want.data[i])) }
            XCTAssertLessThanOrEqual(diff, 1e-4 * maxAbs, "logits, \(w) windows: max diff \(diff) of max |logit| \(maxAbs)")
            print("predict_k400, \(w) window(s): max |pixel difference| \(worst), max |logit difference| \(diff) of max |logit| \(maxAbs)")
        }
    }

    func testTheCommandPrintsActionNamesWithTransformersProbabilities() throws {
        let root = TT.scratch("predict-hf", self)
        let r = try TT.run("vmae", ["predict", "--model", folder, video, "--windows", "2", "--top-k", "3", "--json", "--threads", "1"], scratch: root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let top = try XCTUnwrap(o["top_k"] as? [[String: Any]])
        XCTAssertEqual(top.count, 3)
        XCTAssertEqual(o["views"] as? Int, 2)
        // transformers' softmax averaged over the two windows
        let z = try expected("logits_w2")
        var avg = [Double](repeating: 0, count: 400)
        for b in 0..<2 {
            let row = (0..<400).map { Double(z.data[b * 400 + $0]) }
            let m = row.max()!, e = row.map { Foundation.exp($0 - m) }, s = e.reduce(0, +)
            for j in 0..<400 { avg[j] += e[j] / s / 2 }
        }
        let best = avg.indices.max { avg[$0] < avg[$1] }!
        let labels = try String(contentsOfFile: TT.packageRoot + "/Tools/weights/kinetics400_labels.txt").split(separator: "\n").map(String.init)
        XCTAssertEqual(top[0]["label"] as? String, labels[best])
        XCTAssertEqual(top[0]["class_index"] as? Int, best)
        XCTAssertEqual(try XCTUnwrap(top[0]["probability"] as? Double), avg[best], accuracy: 1e-5)
        for t in top { XCTAssertTrue(labels.contains(t["label"] as? String ?? ""), "\(t)") }

        // text output names the action, not an index
        let t = try TT.run("vmae", ["predict", "--model", folder, video, "--top-k", "1", "--threads", "1"], scratch: root)
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(labels.contains { t.stdout.contains("%  " + $0) }, t.stdout)
    }

    func testResizeSizeIsTransformersTruncatedLongEdge() {
        var p = HFVideoPreprocessor()
        p.resize = .shortestEdge(224)
        XCTAssertTrue(p.resizedSize(width: 320, height: 240) == (298, 224))   // int(224·320/240) = 298
        XCTAssertTrue(p.resizedSize(width: 240, height: 426) == (224, 397))
        XCTAssertTrue(p.resizedSize(width: 224, height: 224) == (224, 224))
        XCTAssertEqual(HFVideoPreprocessor.uniformIndices(start: 0, length: 40, count: 16),
                       [0, 2, 5, 7, 10, 13, 15, 18, 20, 23, 26, 28, 31, 33, 36, 39])
        XCTAssertEqual(HFVideoPreprocessor.windowIndices(frameCount: 40, count: 4, windows: 2), [[0, 6, 12, 19], [20, 26, 32, 39]])
    }

    func testPillowBilinearCoefficientsOfAHalvingByHand() {
        // 4 → 2: support 2 (the filter widened by the scale); output 0 centred at 1.0 reads
        // inputs 0…2 with triangle weights 0.75, 0.75, 0.25, output 1 centred at 3.0 reads 1…3
        // with 0.25, 0.75, 0.75 (each set normalized to sum 1)
        let c = PILResize.coefficients(inSize: 4, outSize: 2)
        XCTAssertEqual(c.start, [0, 1])
        XCTAssertEqual(c.count, [3, 3])
        let one = Int(1 << PILResize.precisionBits)
        XCTAssertEqual(Int(c.weights[0]) + Int(c.weights[1]) + Int(c.weights[2]), one, accuracy: 2)
        let row: [UInt8] = [0, 0, 0, 100, 100, 100, 200, 200, 200, 250, 250, 250]
        let out = row.withUnsafeBufferPointer { PILResize.bilinear($0.baseAddress!, width: 4, height: 1, outWidth: 2, outHeight: 1) }
        // (0·.75 + 100·.75 + 200·.25)/1.75 = 71.4 → 71; (100·.25 + 200·.75 + 250·.75)/1.75 = 207.1 → 207
        XCTAssertEqual(out, [71, 71, 71, 207, 207, 207])
    }

    func testBadModelFoldersAreOneLineAndStatus2() throws {
        let root = TT.scratch("predict-hf-bad", self)
        for (args, words) in [(["--model", root + "/nope", video], "not a folder"),
                              (["--model", fixtures + "/pretrain", video], "not a trained video classifier"),
                              (["--model", folder, "--checkpoint", "x.h5", video], "give one of them"),
                              (["--model", folder, video, "--windows", "0"], "--windows"),
                              (["--model", folder], "no video")] {
            let r = try TT.run("vmae", ["predict"] + args, scratch: root)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
    }
}
