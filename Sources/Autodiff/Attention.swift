import Foundation
import TensorCore

// attention: fused multi-head scaled-dot-product attention, reading q, k, v in place from the
// output of the qkv linear and writing the heads merged back (ready for the proj linear).
//   qkv:   [B, N, 3D]    columns [0,D) q, [D,2D) k, [2D,3D) v; head h owns h·hd..<(h+1)·hd of each
//   out:   [B, N, D]     out[b, i, h·hd + t] = Σ_j P[b,h,i,j] · v[b, j, h·hd + t]
//   probs: [B, H, N, N]  P = softmax_j(q_i · k_j · hd^-0.5), saved for backward (dS overwrites it there)
// For one pair (b, h), Q, K, V are [N, hd] slices of qkv with leading dimension 3D, and O, dO are
// [N, hd] slices of out / its gradient with leading dimension D: no per-head copies.
//
// Work is split into items (pair, block of N/blocks query rows or key columns); the items run on
// all cores, each with BLAS at one thread, so small per-head GEMMs do not fight over threads and
// uneven B·H still balances.

/// The error in a qkv shape for `heads` heads, or nil when [B, N, 3D] with D divisible by heads.
public func attentionShapeError(_ shape: [Int], heads: Int) -> String? {
    if shape.count != 3 { return "attention: qkv must be [B, N, 3D], got \(shape)" }
    if heads < 1 { return "attention: heads must be ≥ 1, got \(heads)" }
    if shape[2] % 3 != 0 { return "attention: last axis of qkv \(shape) is not 3·D" }
    let d = shape[2] / 3
    if d == 0 || d % heads != 0 { return "attention: width D = \(d) of qkv \(shape) is not divisible by \(heads) heads" }
    return nil
}

/// Sizes of one attention call and its split into work items.
struct AttentionDims {
    let b: Int, n: Int, d: Int, heads: Int, hd: Int
    let scale: Float
    let rowsPerBlock: Int   // query rows per item (forward, dQ)
    let blocks: Int         // row blocks per (b, h) pair
    let colsPerBlock: Int   // key columns per item (dK, dV)
    let colBlocks: Int      // column blocks per (b, h) pair
    var pairs: Int { b * heads }
    var items: Int { pairs * blocks }
    var colItems: Int { pairs * colBlocks }
    var flops: Int { 4 * pairs * n * n * hd }   // the two N×N×hd GEMMs of the forward

    init(b: Int, n: Int, d: Int, heads: Int) {
        self.b = b; self.n = n; self.d = d; self.heads = heads
        hd = d / heads
        scale = 1 / Float(hd).squareRoot()
        // Blocks of ~256K floats of P: thin blocks make OpenBLAS repack K (or dO) for every block,
        // which costs more than P falling out of L2 (measured single-core on N = 1568, hd = 64:
        // 64K-float blocks 68, 256K 72, whole pairs 74 GFLOP/s; on two cores 256K was best).
        rowsPerBlock = Self.blockSize(preferred: max(32, 262_144 / max(n, 1)), atLeast: 8, n: n, pairs: b * heads)
        blocks = n == 0 ? 0 : (n + rowsPerBlock - 1) / rowsPerBlock
        // dVᵀ / dKᵀ blocks [hd, cols] with k = N: oneDNN ran 64×392…784 at 89 GFLOP/s single-core
        // (N = 1568) against 70–81 for whole 64×1568 pairs; split further only to feed the cores.
        colsPerBlock = Self.blockSize(preferred: 512, atLeast: 16, n: n, pairs: b * heads)
        colBlocks = n == 0 ? 0 : (n + colsPerBlock - 1) / colsPerBlock
    }

    /// `preferred` rows (or columns) per block, made smaller (down to `atLeast`) when the B·H
    /// pairs would otherwise give fewer than 4 items per core; within 1…n.
    static func blockSize(preferred: Int, atLeast: Int, n: Int, pairs: Int) -> Int {
        var size = max(1, preferred)
        let want = 4 * Threads.count
        if pairs > 0 && pairs * ((n + size - 1) / size) < want {
            let perPair = (want + pairs - 1) / pairs
            size = max(atLeast, (n + perPair - 1) / perPair)
        }
        return max(1, min(size, n))
    }

    /// (b, h, first row, row count) of an item
    @inline(__always)
    func item(_ i: Int) -> (bi: Int, h: Int, r0: Int, rows: Int) {
        let pair = i / blocks, blk = i % blocks
        let r0 = blk * rowsPerBlock
        return (pair / heads, pair % heads, r0, min(rowsPerBlock, n - r0))
    }

    /// (b, h, first key column, column count) of a column item
    @inline(__always)
    func colItem(_ i: Int) -> (bi: Int, h: Int, j0: Int, cols: Int) {
        let pair = i / colBlocks, blk = i % colBlocks
        let j0 = blk * colsPerBlock
        return (pair / heads, pair % heads, j0, min(colsPerBlock, n - j0))
    }
}

/// Runs body over disjoint ranges of the items, in parallel (each GEMM inside stays on its core) when the
/// work is worth it; each range gets its own scratch of `scratchCount` floats.
private func attentionRun(_ dm: AttentionDims, items: Int? = nil, scratchCount: Int,
                          _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
    let items = items ?? dm.items
    if items == 0 { return }
    if Threads.count > 1 && items > 1 && dm.flops >= 200_000 {
        parallelFor(items, minChunk: 1) { r in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(scratchCount, 1))
            body(r, scratch)
            scratch.deallocate()
        }
    } else {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(scratchCount, 1))
        body(0..<items, scratch)
        scratch.deallocate()
    }
}

/// Per item (b, h, query rows i0..<i0+R):
///   S[R, N] = Q[i0.., :] · Kᵀ · scale        Q, K: [N, hd] (ld 3D)
///   P[R, N] = softmax rows of S              into probs[b, h, i0.., :], or a scratch [R, N] when probs is nil
///   O[i0.., :] = P · V                       O: [N, hd] (ld D), V: [N, hd] (ld 3D)
/// out: [B, N, D], probs: [B, H, N, N] or nil, qkv: [B, N, 3D]
func attentionForward(_ out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>?,
                      _ qkv: UnsafePointer<Float>, _ dm: AttentionDims) {
    let n = dm.n, d = dm.d, d3 = 3 * dm.d, hd = dm.hd, scale = dm.scale
    attentionRun(dm, scratchCount: probs == nil ? dm.rowsPerBlock * n : 0) { range, scratch in
        for it in range {
            let (bi, h, r0, rows) = dm.item(it)
            let base = qkv + bi * n * d3 + h * hd
            let q = base + r0 * d3, k = base + d, v = base + 2 * d
            let s = probs.map { $0 + ((bi * dm.heads + h) * n + r0) * n } ?? scratch
            BLAS.gemmMixedOnThisThread(transB: true, m: rows, n: n, k: hd, alpha: scale, a: q, lda: d3, b: k, ldb: d3,
                      beta: 0, c: s, ldc: n)
            for i in 0..<rows { VecMath.softmaxRowInPlace(s + i * n, n) }
            BLAS.gemmMixedOnThisThread(m: rows, n: hd, k: n, a: s, lda: n, b: v, ldb: d3,
                      beta: 0, c: out + (bi * n + r0) * d + h * hd, ldc: d)
        }
    }
}

/// With P saved by the forward and dO = d loss / d out, for each pair (b, h):
///   A. per key block j0..:   Tᵀ[hd, C] = dOᵀ · P[:, j0..]          dV[j0.., :] += T     dV: [N, hd] (ld 3D)
///   B. per query block i0..: dP[R, N] = dO[i0.., :] · Vᵀ                          (scratch)
///                            dS = P ⊙ (dP − rowsum(dP ⊙ P))                       (overwrites P)
///                            dQ[i0.., :] += dS · K · scale                         dQ: [N, hd] (ld 3D)
///   C. per key block j0..:   Tᵀ[hd, C] = Qᵀ · dS[:, j0..] · scale   dK[j0.., :] += T     dK: [N, hd] (ld 3D)
/// A and C compute the transpose of the block (short and wide: hd rows, k = N) in a scratch and
/// add it back transposed: oneDNN runs that 1.3–1.7× faster than the tall Pᵀ·dO (N×hd, k = N).
/// Each phase writes disjoint slices of dqkv, so the items of a phase run in parallel.
/// `fresh`: dqkv holds garbage and every element is written (=) instead of accumulated (+=).
/// dout: [B, N, D], probs: [B, H, N, N] (destroyed), qkv, dqkv: [B, N, 3D]
func attentionBackward(dout: UnsafePointer<Float>, probs: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                       dqkv: UnsafeMutablePointer<Float>, _ dm: AttentionDims, fresh: Bool = false) {
    let n = dm.n, d = dm.d, d3 = 3 * dm.d, hd = dm.hd, scale = dm.scale, heads = dm.heads
    // A: dV
    attentionRun(dm, items: dm.colItems, scratchCount: hd * dm.colsPerBlock) { range, t in
        for it in range {
            let (bi, h, j0, cols) = dm.colItem(it)
            let p = probs + (bi * heads + h) * n * n
            BLAS.gemmMixedOnThisThread(transA: true, m: hd, n: cols, k: n, a: dout + bi * n * d + h * hd, lda: d,
                      b: p + j0, ldb: n, beta: 0, c: t, ldc: cols, oneDNNWithTransposedA: true)
            addTransposed(t, rows: hd, cols: cols, into: dqkv + (bi * n + j0) * d3 + 2 * d + h * hd, ld: d3, store: fresh)
        }
    }
    // B: dS (in place of P) and dQ
    attentionRun(dm, scratchCount: dm.rowsPerBlock * n) { range, dp in
        for it in range {
            let (bi, h, r0, rows) = dm.item(it)
            let base = qkv + bi * n * d3 + h * hd
            let ps = probs + ((bi * heads + h) * n + r0) * n
            BLAS.gemmMixedOnThisThread(transB: true, m: rows, n: n, k: hd, a: dout + (bi * n + r0) * d + h * hd, lda: d,
                      b: base + 2 * d, ldb: d3, beta: 0, c: dp, ldc: n)
            for i in 0..<rows { VecMath.softmaxBackwardRow(y: ps + i * n, dy: dp + i * n, out: ps + i * n, n) }
            BLAS.gemmMixedOnThisThread(m: rows, n: hd, k: n, alpha: scale, a: ps, lda: n, b: base + d, ldb: d3,
                      beta: fresh ? 0 : 1, c: dqkv + (bi * n + r0) * d3 + h * hd, ldc: d3)
        }
    }
    // C: dK
    attentionRun(dm, items: dm.colItems, scratchCount: hd * dm.colsPerBlock) { range, t in
        for it in range {
            let (bi, h, j0, cols) = dm.colItem(it)
            let ds = probs + (bi * heads + h) * n * n
            BLAS.gemmMixedOnThisThread(transA: true, m: hd, n: cols, k: n, alpha: scale, a: qkv + bi * n * d3 + h * hd, lda: d3,
                      b: ds + j0, ldb: n, beta: 0, c: t, ldc: cols, oneDNNWithTransposedA: true)
            addTransposed(t, rows: hd, cols: cols, into: dqkv + (bi * n + j0) * d3 + d + h * hd, ld: d3, store: fresh)
        }
    }
}

/// dst[j, u] += t[u, j] (or = when `store`) for u in 0..<rows, j in 0..<cols
/// t: [rows, cols] packed, dst: [cols, rows] (ld)
@inline(__always)
private func addTransposed(_ t: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>, ld: Int,
                           store: Bool) {
    for j in 0..<cols {
        let row = dst + j * ld
        if store { for u in 0..<rows { row[u] = t[u * cols + j] } }
        else { for u in 0..<rows { row[u] += t[u * cols + j] } }
    }
}

/// Multi-head scaled-dot-product attention (scale hd^-0.5) over the fused qkv projection
/// [B, N, 3D]; returns [B, N, D] with the heads merged back in order.
public func attention(_ qkv: Variable, heads: Int) -> Variable {
    if let e = attentionShapeError(qkv.shape, heads: heads) { preconditionFailure(e) }
    let dm = AttentionDims(b: qkv.shape[0], n: qkv.shape[1], d: qkv.shape[2] / 3, heads: heads)
    let out = Tensor(uninitialized: [dm.b, dm.n, dm.d])
    let keep = Tape.isRecording && qkv.requiresGrad
    let probs = keep ? Tensor(uninitialized: [dm.b, heads, dm.n, dm.n]) : nil
    attentionForward(out.data, probs: probs?.data, qkv.value.data, dm)
    return Tape.record(out, inputs: [qkv]) { o in
        let (dqkv, fresh) = qkv.gradBufferToWrite()   // every element of dqkv is written: no zero-fill when fresh
        attentionBackward(dout: o.grad!.data, probs: probs!.data, qkv: qkv.value.data,
                          dqkv: dqkv.data, dm, fresh: fresh)
    }
}

// MARK: - naive reference

/// out[b, i, h·hd + t] = Σ_j softmax_j(Σ_u q[i,u]·k[j,u]·scale) · v[j, t], plain loops in double.
/// qkv: [B, N, 3D], out: [B, N, D]
func attentionNaiveForward(_ out: UnsafeMutablePointer<Float>, _ qkv: UnsafePointer<Float>, b: Int, n: Int, d: Int, heads: Int) {
    let hd = d / heads, d3 = 3 * d
    let scale = 1 / Double(hd).squareRoot()
    var p = [Double](repeating: 0, count: n)
    for bi in 0..<b {
        for h in 0..<heads {
            let q = qkv + bi * n * d3 + h * hd, k = q + d, v = q + 2 * d
            for i in 0..<n {
                var m = -Double.infinity
                for j in 0..<n {
                    var s = 0.0
                    for u in 0..<hd { s += Double(q[i * d3 + u]) * Double(k[j * d3 + u]) }
                    p[j] = s * scale
                    m = max(m, p[j])
                }
                var z = 0.0
                for j in 0..<n { p[j] = Foundation.exp(p[j] - m); z += p[j] }
                for t in 0..<hd {
                    var o = 0.0
                    for j in 0..<n { o += p[j] / z * Double(v[j * d3 + t]) }
                    out[(bi * n + i) * d + h * hd + t] = Float(o)
                }
            }
        }
    }
}

/// The backward of `attentionNaiveForward` from first principles, plain loops in double:
/// P recomputed, dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = dS·K·scale, dK = dSᵀ·Q·scale.
/// dout: [B, N, D], qkv, dqkv: [B, N, 3D] (accumulated)
func attentionNaiveBackward(dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, dqkv: UnsafeMutablePointer<Float>,
                            b: Int, n: Int, d: Int, heads: Int) {
    let hd = d / heads, d3 = 3 * d
    let scale = 1 / Double(hd).squareRoot()
    var p = [Double](repeating: 0, count: n * n), ds = [Double](repeating: 0, count: n * n)
    for bi in 0..<b {
        for h in 0..<heads {
            let off = bi * n * d3 + h * hd
            let q = qkv + off, k = q + d, v = q + 2 * d
            let dq = dqkv + off, dk = dq + d, dv = dq + 2 * d
            let dO = dout + bi * n * d + h * hd
            for i in 0..<n {
                var m = -Double.infinity
                for j in 0..<n {
                    var s = 0.0
                    for u in 0..<hd { s += Double(q[i * d3 + u]) * Double(k[j * d3 + u]) }
                    p[i * n + j] = s * scale
                    m = max(m, p[i * n + j])
                }
                var z = 0.0
                for j in 0..<n { p[i * n + j] = Foundation.exp(p[i * n + j] - m); z += p[i * n + j] }
                for j in 0..<n { p[i * n + j] /= z }
            }
            for i in 0..<n {
                var dp = [Double](repeating: 0, count: n)
                var c = 0.0
                for j in 0..<n {
                    var s = 0.0
                    for t in 0..<hd { s += Double(dO[i * d + t]) * Double(v[j * d3 + t]) }
                    dp[j] = s
                    c += s * p[i * n + j]
                }
                for j in 0..<n { ds[i * n + j] = p[i * n + j] * (dp[j] - c) }
            }
            for j in 0..<n {
                for t in 0..<hd {
                    var sv = 0.0, sk = 0.0
                    for i in 0..<n {
                        sv += p[i * n + j] * Double(dO[i * d + t])
                        sk += ds[i * n + j] * Double(q[i * d3 + t])
                    }
                    dv[j * d3 + t] += Float(sv)
                    dk[j * d3 + t] += Float(sk * scale)
                }
            }
            for i in 0..<n {
                for t in 0..<hd {
                    var s = 0.0
                    for j in 0..<n { s += ds[i * n + j] * Double(k[j * d3 + t]) }
                    dq[i * d3 + t] += Float(s * scale)
                }
            }
        }
    }
}

/// The naive reference of `attention` (same contract, plain double loops, differentiable):
/// the validator the tests compare the fast kernels against.
public func attentionNaive(_ qkv: Variable, heads: Int) -> Variable {
    if let e = attentionShapeError(qkv.shape, heads: heads) { preconditionFailure(e) }
    let b = qkv.shape[0], n = qkv.shape[1], d = qkv.shape[2] / 3
    let out = Tensor(uninitialized: [b, n, d])
    attentionNaiveForward(out.data, qkv.value.data, b: b, n: n, d: d, heads: heads)
    return Tape.record(out, inputs: [qkv]) { o in
        attentionNaiveBackward(dout: o.grad!.data, qkv: qkv.value.data, dqkv: qkv.gradBuffer().data,
                               b: b, n: n, d: d, heads: heads)
    }
}
