import Foundation
import TensorCore

/// A rectangle of a decoded frame (pixels) and whether the clip is mirrored left ↔ right.
public struct CropBox: Equatable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int
    public var flip: Bool

    public init(x: Int, y: Int, width: Int, height: Int, flip: Bool = false) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.flip = flip
    }

    public var description: String { "\(width)×\(height)+\(x)+\(y)\(flip ? " flipped" : "")" }

    /// The box moved and shrunk to lie inside a `w` × `h` frame.
    func clamped(toWidth w: Int, height h: Int) -> CropBox {
        var b = self
        b.width = min(max(b.width, 1), w)
        b.height = min(max(b.height, 1), h)
        b.x = min(max(b.x, 0), w - b.width)
        b.y = min(max(b.y, 0), h - b.height)
        return b
    }
}

/// The spatial side of a clip: which box of the decoded frames to take (the same box for every
/// frame of a clip), then one pass that crops, resizes, mirrors and normalizes into the model's
/// `[T, C, H, W]` float32 layout.
public enum ClipTransform {
    /// The original's `GroupMultiScaleCrop(input_size, [1, .875, .75, .66])` with its defaults
    /// (max_distort 1, fix_crop, more_fix_crop): a crop side from the scales of the short side
    /// (snapped to `inputSize` when within 2 px), width and height at most one scale step apart,
    /// placed at one of 13 fixed offsets (corners, centre, edge centres, quarter points).
    public static let multiScaleScales: [Double] = [1, 0.875, 0.75, 0.66]

    public static func multiScaleCrop(width: Int, height: Int, inputSize: Int, rng: inout RNG,
                                      scales: [Double] = multiScaleScales) -> CropBox {
        let base = min(width, height)
        let sizes = scales.map { Int(Double(base) * $0) }
        let snapped = sizes.map { abs($0 - inputSize) < 3 ? inputSize : $0 }
        var pairs: [(w: Int, h: Int)] = []
        for (i, h) in snapped.enumerated() {
            for (j, w) in snapped.enumerated() where abs(i - j) <= 1 { pairs.append((w, h)) }
        }
        let pair = pairs[rng.int(below: pairs.count)]
        let cw = min(max(pair.w, 1), width), ch = min(max(pair.h, 1), height)
        let ws = (width - cw) / 4, hs = (height - ch) / 4
        let offsets: [(Int, Int)] = [
            (0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs),
            (0, 2 * hs), (4 * ws, 2 * hs), (2 * ws, 4 * hs), (2 * ws, 0),
            (ws, hs), (3 * ws, hs), (ws, 3 * hs), (3 * ws, 3 * hs),
        ]
        let o = offsets[rng.int(below: offsets.count)]
        return CropBox(x: o.0, y: o.1, width: cw, height: ch)
    }

    /// torchvision's `RandomResizedCrop.get_params` (the original fine-tuning's
    /// `random_resized_crop`): up to 10 tries of an area fraction in `scale` and a log-uniform
    /// aspect ratio in `ratio`, else the centre crop with the ratio clamped. Then a horizontal
    /// flip with probability `flipProbability`.
    public static func randomResizedCrop(width: Int, height: Int, rng: inout RNG,
                                         scale: ClosedRange<Double> = 0.08...1.0,
                                         ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0),
                                         flipProbability: Double = 0.5) -> CropBox {
        let area = Double(width * height)
        let logLo = log(ratio.lowerBound), logHi = log(ratio.upperBound)
        var box: CropBox? = nil
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * rng.uniformDouble())
            let ar = exp(logLo + (logHi - logLo) * rng.uniformDouble())
            let w = Int((target * ar).squareRoot().rounded())
            let h = Int((target / ar).squareRoot().rounded())
            if w > 0 && w <= width && h > 0 && h <= height {
                let y = rng.int(below: height - h + 1), x = rng.int(below: width - w + 1)
                box = CropBox(x: x, y: y, width: w, height: h)
                break
            }
        }
        if box == nil {
            let inRatio = Double(width) / Double(height)
            var w = width, h = height
            if inRatio < ratio.lowerBound {
                h = max(1, Int((Double(w) / ratio.lowerBound).rounded()))
            } else if inRatio > ratio.upperBound {
                w = max(1, Int((Double(h) * ratio.upperBound).rounded()))
            }
            box = CropBox(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
        }
        box!.flip = rng.uniformDouble() < flipProbability
        return box!.clamped(toWidth: width, height: height)
    }

    /// Evaluation: a `size` × `size` square of a frame whose short side was already resized to
    /// `size`. With one crop it is the centre; crop `index` of `count` (the original's
    /// `test_num_crop`) slides along the long side: left / centre / right for landscape frames,
    /// top / centre / bottom for portrait ones.
    public static func evalCrop(width: Int, height: Int, size: Int, index: Int = 0, count: Int = 1) -> CropBox {
        let s = min(size, width, height)
        let roomX = width - s, roomY = height - s
        func offset(_ room: Int) -> Int {
            guard count > 1 else { return room / 2 }
            return Int(Double(min(max(index, 0), count - 1)) * Double(room) / Double(count - 1))
        }
        if height > width {
            return CropBox(x: roomX / 2, y: offset(roomY), width: s, height: s)
        }
        return CropBox(x: offset(roomX), y: roomY / 2, width: s, height: s)
    }

    /// Crops `box` out of each of `count` RGB24 frames (`width` × `height`, packed one after
    /// another), resizes it to `outWidth` × `outHeight` (PIL's bilinear: a triangle filter widened
    /// when shrinking, so no aliasing), mirrors it when `box.flip`, and normalizes
    /// `(v / 255 − mean[c]) / std[c]`. Result: `[count, 3, outHeight, outWidth]` float32.
    public static func render(rgb: UnsafePointer<UInt8>, count: Int, width: Int, height: Int, box inBox: CropBox,
                              outWidth: Int, outHeight: Int, mean: [Float], std: [Float]) -> Tensor {
        precondition(mean.count == 3 && std.count == 3, "mean and std need 3 values")
        let box = inBox.clamped(toWidth: width, height: height)
        let out = Tensor(uninitialized: [count, 3, outHeight, outWidth])
        let tx = ResampleTaps(length: box.width, outLength: outWidth, reverse: box.flip)
        let ty = ResampleTaps(length: box.height, outLength: outHeight, reverse: false)
        let a = (0..<3).map { 1 / (255 * std[$0]) }, b = (0..<3).map { -mean[$0] / std[$0] }
        let a0 = a[0], a1 = a[1], a2 = a[2], b0 = b[0], b1 = b[1], b2 = b[2]
        let rowOut = outWidth * 3
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: box.height * rowOut)
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: rowOut)
        defer {
            tmp.deallocate()
            acc.deallocate()
        }
        let plane = outWidth * outHeight
        let frameBytes = width * height * 3
        tx.withPointers { xs, xn, xw, xmax in
            ty.withPointers { ys, yn, yw, ymax in
                for t in 0..<count {
                    let src = rgb + t * frameBytes
                    // Horizontal pass over the crop's rows → tmp[row][ox][c].
                    for r in 0..<box.height {
                        let srow = src + ((box.y + r) * width + box.x) * 3
                        let trow = tmp + r * rowOut
                        for ox in 0..<outWidth {
                            let s0 = xs[ox], n = xn[ox]
                            let w = xw + ox * xmax
                            var c0: Float = 0, c1: Float = 0, c2: Float = 0
                            var p = srow + s0 * 3
                            for k in 0..<n {
                                let wk = w[k]
                                c0 += wk * Float(p[0])
                                c1 += wk * Float(p[1])
                                c2 += wk * Float(p[2])
                                p += 3
                            }
                            trow[ox * 3] = c0
                            trow[ox * 3 + 1] = c1
                            trow[ox * 3 + 2] = c2
                        }
                    }
                    // Vertical pass, then normalize into the three planes.
                    let o0 = out.data + t * 3 * plane, o1 = o0 + plane, o2 = o1 + plane
                    for oy in 0..<outHeight {
                        let s0 = ys[oy], n = yn[oy]
                        let w = yw + oy * ymax
                        acc.update(repeating: 0, count: rowOut)
                        for k in 0..<n {
                            let wk = w[k]
                            let trow = tmp + (s0 + k) * rowOut
                            for j in 0..<rowOut { acc[j] += wk * trow[j] }
                        }
                        let base = oy * outWidth
                        for ox in 0..<outWidth {
                            o0[base + ox] = acc[ox * 3] * a0 + b0
                            o1[base + ox] = acc[ox * 3 + 1] * a1 + b1
                            o2[base + ox] = acc[ox * 3 + 2] * a2 + b2
                        }
                    }
                }
            }
        }
        return out
    }
}

/// PIL's `precompute_coeffs` for the bilinear (triangle) filter over a source of `length`
/// pixels resized to `outLength`: output pixel i reads `n[i]` source pixels from `start[i]`
/// with weights `weights[i · maxTaps ..< i · maxTaps + n[i]]` summing to 1.
struct ResampleTaps {
    var start: [Int]
    var n: [Int]
    var weights: [Float]
    var maxTaps: Int

    init(length: Int, outLength: Int, reverse: Bool) {
        let scale = Double(length) / Double(outLength)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle's support is 1 before widening
        let ss = 1 / filterScale
        maxTaps = Int(support.rounded(.up)) * 2 + 1
        start = [Int](repeating: 0, count: outLength)
        n = [Int](repeating: 0, count: outLength)
        weights = [Float](repeating: 0, count: outLength * maxTaps)
        for i in 0..<outLength {
            let centre = (Double(i) + 0.5) * scale
            let lo = max(Int(centre - support + 0.5), 0)
            let hi = min(Int(centre + support + 0.5), length)
            var ws: [Double] = []
            for x in lo..<max(hi, lo) {
                ws.append(max(0, 1 - abs((Double(x) - centre + 0.5) * ss)))
            }
            var total = ws.reduce(0, +)
            if ws.isEmpty || total <= 0 {  // cannot happen for positive sizes; stay safe
                ws = [1]
                total = 1
            }
            let slot = reverse ? outLength - 1 - i : i
            start[slot] = min(lo, length - 1)
            n[slot] = min(ws.count, maxTaps)
            for k in 0..<n[slot] { weights[slot * maxTaps + k] = Float(ws[k] / total) }
        }
    }

    func withPointers<R>(_ body: (UnsafePointer<Int>, UnsafePointer<Int>, UnsafePointer<Float>, Int) -> R) -> R {
        start.withUnsafeBufferPointer { s in
            n.withUnsafeBufferPointer { c in
                weights.withUnsafeBufferPointer { w in body(s.baseAddress!, c.baseAddress!, w.baseAddress!, maxTaps) }
            }
        }
    }
}
