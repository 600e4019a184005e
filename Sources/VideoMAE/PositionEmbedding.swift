import Foundation
import TensorCore

/// The fixed sinusoid table of the original VideoMAE over the flat token index n (not a
/// parameter, never saved):  PE[n, j] = sin(n / 10000^(2⌊j/2⌋/D)) for even j, cos(…) for odd j.
public func sinusoidTable(tokens n: Int, dim d: Int) -> Tensor {
    let t = Tensor(uninitialized: [n, d])
    let p = t.data
    for j in 0..<d {
        let denom = pow(10000.0, Double(2 * (j / 2)) / Double(d))
        for i in 0..<n {
            let a = Double(i) / denom
            p[i * d + j] = Float(j % 2 == 0 ? sin(a) : cos(a))
        }
    }
    return t
}

/// Rows of `table` [N, D] picked by `index` (B × n) → [B, n, D]: the position embeddings of
/// the visible (or masked) tokens of each sample.
public func gatherRows(_ table: Tensor, _ index: [[Int]]) -> Tensor {
    let d = table.shape[1]
    let b = index.count, n = index.first?.count ?? 0
    let out = Tensor(uninitialized: [b, n, d])
    for s in 0..<b {
        for (i, tok) in index[s].enumerated() {
            (out.data + (s * n + i) * d).update(from: table.data + tok * d, count: d)
        }
    }
    return out
}
