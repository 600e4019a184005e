import TensorCore

// patchify: tubelets of a clip as rows, so that rows · Wᵀ is the Conv3d with kernel = stride = (t, p, p)
//   pixels: [B, T, C, H, W]
//   rows:   [B, N, K],  N = (T/t)·(H/p)·(W/p),  K = C·t·p·p
//   token n = (i·(H/p) + y)·(W/p) + x   (time-major, then row, then column)
//   column k = ((c·t + dt)·p + dy)·p + dx   (the Conv3d weight [D, C, t, p, p] viewed as [D, K])
//   rows[b, n, k] = pixels[b, i·t + dt, c, y·p + dy, x·p + dx]

/// rows[B, N, K] ← pixels[B, T, C, H, W]; each (c, dt, dy) copies a contiguous run of p pixels.
@inline(__always)
func patchifyForward(_ rows: UnsafeMutablePointer<Float>, _ pixels: UnsafePointer<Float>,
                     b: Int, t: Int, c: Int, h: Int, w: Int, tubelet: Int, patch p: Int) {
    let gh = h / p, gw = w / p, n = (t / tubelet) * gh * gw, k = c * tubelet * p * p
    parallelFor(b * n, minChunk: max(1, 16384 / max(k, 1))) { r in
        for bn in r {
            let s = bn / n, tok = bn % n
            let i = tok / (gh * gw), y = (tok / gw) % gh, x = tok % gw
            var dst = rows + bn * k
            for ch in 0..<c {
                for dt in 0..<tubelet {
                    let frame = pixels + ((s * t + i * tubelet + dt) * c + ch) * h * w
                    for dy in 0..<p {
                        dst.update(from: frame + (y * p + dy) * w + x * p, count: p)
                        dst += p
                    }
                }
            }
        }
    }
}

/// dpixels[B, T, C, H, W] += inverse scatter of drows[B, N, K]. Each pixel belongs to exactly
/// one token, so the split over tokens never writes an element twice.
@inline(__always)
func patchifyBackward(_ dpixels: UnsafeMutablePointer<Float>, _ drows: UnsafePointer<Float>,
                      b: Int, t: Int, c: Int, h: Int, w: Int, tubelet: Int, patch p: Int) {
    let gh = h / p, gw = w / p, n = (t / tubelet) * gh * gw, k = c * tubelet * p * p
    parallelFor(b * n, minChunk: max(1, 16384 / max(k, 1))) { r in
        for bn in r {
            let s = bn / n, tok = bn % n
            let i = tok / (gh * gw), y = (tok / gw) % gh, x = tok % gw
            var src = drows + bn * k
            for ch in 0..<c {
                for dt in 0..<tubelet {
                    let frame = dpixels + ((s * t + i * tubelet + dt) * c + ch) * h * w
                    for dy in 0..<p {
                        let dst = frame + (y * p + dy) * w + x * p
                        for dx in 0..<p { dst[dx] += src[dx] }
                        src += p
                    }
                }
            }
        }
    }
}

/// Cuts pixels [B, T, C, H, W] into tubelets of t×p×p → [B, N, C·t·p·p] (see the layout above).
public func patchify(_ pixels: Variable, tubelet t: Int, patch p: Int) -> Variable {
    precondition(pixels.shape.count == 5, "patchify: pixels must be [B, T, C, H, W], got \(pixels.shape)")
    precondition(t > 0 && p > 0, "patchify: tubelet \(t) and patch \(p) must be positive")
    let b = pixels.shape[0], frames = pixels.shape[1], c = pixels.shape[2], h = pixels.shape[3], w = pixels.shape[4]
    precondition(frames % t == 0 && h % p == 0 && w % p == 0,
                 "patchify: \(pixels.shape) not divisible by tubelet \(t) and patch \(p)")
    let n = (frames / t) * (h / p) * (w / p), k = c * t * p * p
    let rows = Tensor(uninitialized: [b, n, k])
    patchifyForward(rows.data, pixels.value.data, b: b, t: frames, c: c, h: h, w: w, tubelet: t, patch: p)
    return Tape.record(rows, inputs: [pixels]) { o in
        patchifyBackward(pixels.gradBuffer().data, o.grad!.data, b: b, t: frames, c: c, h: h, w: w, tubelet: t, patch: p)
    }
}
