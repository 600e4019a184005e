import Foundation
import TensorCore

/// What a Hugging Face `preprocessor_config.json` of VideoMAE asks for, done as transformers'
/// PIL image processor does it (transformers 4's `VideoMAEImageProcessor`, 5's
/// `VideoMAEImageProcessorPil`), frame by frame: resize (shortest edge to `size`, the long edge
/// `int(size · long / short)`, truncated, with Pillow's bilinear filter), centre crop
/// (offsets `(in − crop) // 2`), rescale (× 1/255), normalize ((x − mean) / std).
public struct HFVideoPreprocessor: Equatable {
    public enum Resize: Equatable {
        case shortestEdge(Int)
        case exact(height: Int, width: Int)
    }
    public var resize: Resize? = .shortestEdge(224)
    public var crop: (height: Int, width: Int)? = (224, 224)
    public var rescaleFactor: Double? = 1.0 / 255
    public var mean: [Double]? = [0.485, 0.456, 0.406]
    public var std: [Double]? = [0.229, 0.224, 0.225]

    public init() {}

    public static func == (a: HFVideoPreprocessor, b: HFVideoPreprocessor) -> Bool {
        a.resize == b.resize && a.crop?.height == b.crop?.height && a.crop?.width == b.crop?.width
            && a.rescaleFactor == b.rescaleFactor && a.mean == b.mean && a.std == b.std
    }

    /// The frame size after the resize step (width, height), as transformers'
    /// `get_resize_output_image_size(…, default_to_square=False)`.
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        switch resize {
        case nil: return (width, height)
        case .exact(let h, let w)?: return (w, h)
        case .shortestEdge(let s)?:
            if width <= height { return (s, Int(Double(s) * Double(height) / Double(width))) }
            return (Int(Double(s) * Double(width) / Double(height)), s)
        }
    }

    /// The model input size (width, height) of frames of this size.
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let r = resizedSize(width: width, height: height)
        return crop.map { ($0.width, $0.height) } ?? r
    }

    /// `count` frames of width × height RGB bytes, one after another → [T, C, H, W] floats.
    public func pixels(_ rgb: UnsafePointer<UInt8>, count: Int, width: Int, height: Int) -> Tensor {
        let (rw, rh) = resizedSize(width: width, height: height)
        let (ow, oh) = outputSize(width: width, height: height)
        let out = Tensor(uninitialized: [count, 3, oh, ow])
        let scale = Float(rescaleFactor ?? 1)
        let m = (mean ?? [0, 0, 0]).map(Float.init), s = (std ?? [1, 1, 1]).map(Float.init)
        for t in 0..<count {
            let frame = rgb + t * width * height * 3
            let resized = PILResize.bilinear(frame, width: width, height: height, outWidth: rw, outHeight: rh)
            // transformers' center_crop: top = (h − ch) // 2, left = (w − cw) // 2; a crop larger
            // than the frame pads with zeros around it
            let top = (rh - oh) >= 0 ? (rh - oh) / 2 : -((oh - rh + 1) / 2)
            let left = (rw - ow) >= 0 ? (rw - ow) / 2 : -((ow - rw + 1) / 2)
            let base = out.data + t * 3 * oh * ow
            for c in 0..<3 {
                let plane = base + c * oh * ow
                for y in 0..<oh {
                    let sy = y + top
                    for x in 0..<ow {
                        let sx = x + left
                        var v: Float = 0
                        if sy >= 0, sy < rh, sx >= 0, sx < rw { v = Float(resized[(sy * rw + sx) * 3 + c]) * scale }
                        plane[y * ow + x] = (v - m[c]) / s[c]
                    }
                }
            }
        }
        return out
    }

    /// `count` frame indices spread evenly over frames `start ..< start + length`, first and last
    /// included: `start + ⌊k · (length − 1) / (count − 1)⌋` (the seed's "16 frames uniformly").
    public static func uniformIndices(start: Int, length: Int, count: Int) -> [Int] {
        guard count > 1 else { return [start + max(length - 1, 0) / 2] }
        let span = max(length, 1) - 1
        return (0..<count).map { start + $0 * span / (count - 1) }
    }

    /// The `windows` segments of a video of `frameCount` frames (equal parts, the last taking
    /// the remainder), `count` frames spread over each.
    public static func windowIndices(frameCount: Int, count: Int, windows: Int) -> [[Int]] {
        let n = max(frameCount, 1), w = max(1, min(windows, n))
        return (0..<w).map { i in
            let a = i * n / w, b = (i + 1) * n / w
            return uniformIndices(start: a, length: b - a, count: count)
        }
    }
}
