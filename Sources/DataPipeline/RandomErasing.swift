import Foundation
import TensorCore

/// timm's `RandomErasing` as the original VideoMAE fine-tuning applies it (`--reprob 0.25
/// --remode pixel --recount 1`): after normalization the clip is handed over as [T, C, H, W],
/// so timm treats the frames as a batch and each frame, on its own, is erased with probability
/// `probability`: one rectangle of 2%–1/3 of the frame's area, aspect ratio log-uniform in
/// [0.3, 1/0.3] (up to 10 tries to fit), filled with standard-normal noise per pixel and channel
/// (the normalized scale's "random pixel").
public enum RandomErasing {
    public static let minArea = 0.02, maxArea = 1.0 / 3
    public static let minAspect = 0.3

    /// The rectangle erased in one frame (rows `top..<top+height`, columns `left..<left+width`),
    /// or nil when the frame is left alone. The draws, in timm's order: the probability, then per
    /// try the area, the aspect ratio, and for the fitting try the top and the left.
    public static func box(height: Int, width: Int, probability: Double, rng: inout RNG)
        -> (top: Int, left: Int, height: Int, width: Int)?
    {
        guard rng.uniformDouble() < probability else { return nil }
        let area = Double(height * width)
        let logLo = log(minAspect), logHi = log(1 / minAspect)
        for _ in 0..<10 {
            let target = (minArea + (maxArea - minArea) * rng.uniformDouble()) * area
            let aspect = exp(logLo + (logHi - logLo) * rng.uniformDouble())
            let h = Int((target * aspect).squareRoot().rounded()), w = Int((target / aspect).squareRoot().rounded())
            if w < width && h < height {
                let top = rng.int(below: height - h + 1), left = rng.int(below: width - w + 1)
                return (top, left, h, w)
            }
        }
        return nil
    }

    /// Erases, frame by frame, a normalized clip `clip` [T, C, H, W] in place.
    public static func apply(_ clip: Tensor, probability: Double, rng: inout RNG) {
        precondition(clip.shape.count == 4, "a clip is [T, C, H, W]")
        let (T, C, H, W) = (clip.shape[0], clip.shape[1], clip.shape[2], clip.shape[3])
        let p = clip.data
        for t in 0..<T {
            guard let b = box(height: H, width: W, probability: probability, rng: &rng) else { continue }
            for c in 0..<C {
                let plane = p + (t * C + c) * H * W
                for y in b.top..<(b.top + b.height) {
                    for x in b.left..<(b.left + b.width) { plane[y * W + x] = rng.normal() }
                }
            }
        }
    }
}
