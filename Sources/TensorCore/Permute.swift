/// General axis permutation of a contiguous tensor: out = x.permute(perm).contiguous().
/// out.shape[i] = x.shape[perm[i]]. The innermost run of untouched axes is copied as a block.
public func permute(_ x: Tensor, _ perm: [Int]) -> Tensor {
    let r = x.rank
    precondition(perm.count == r && Set(perm) == Set(0..<r), "bad permutation \(perm) for \(x.shape)")
    let outShape = perm.map { x.shape[$0] }
    let out = Tensor(uninitialized: outShape)
    permute(x.data, shape: x.shape, perm: perm, into: out.data)
    return out
}

/// Raw form of `permute`: src has `shape`; dst receives the permuted layout.
public func permute(_ src: UnsafePointer<Float>, shape: [Int], perm: [Int], into dst: UnsafeMutablePointer<Float>) {
    let r = shape.count
    let count = shape.reduce(1, *)
    if count == 0 { return }
    var inStrides = [Int](repeating: 1, count: r)
    var acc = 1
    for i in stride(from: r - 1, through: 0, by: -1) { inStrides[i] = acc; acc *= shape[i] }
    // Trailing axes that stay in place (perm[i] == i for the last k) form a contiguous block.
    var block = 1
    var k = r
    while k > 0 && perm[k - 1] == k - 1 { k -= 1; block *= shape[k] }
    let outShape = perm.prefix(k).map { shape[$0] }
    let srcStrides = perm.prefix(k).map { inStrides[$0] }
    let outer = outShape.reduce(1, *)
    parallelFor(outer, minChunk: max(1, 32768 / max(block, 1))) { range in
        var idx = [Int](repeating: 0, count: k)
        // decompose range.lowerBound
        var rem = range.lowerBound
        for i in stride(from: k - 1, through: 0, by: -1) { idx[i] = rem % outShape[i]; rem /= outShape[i] }
        var off = 0
        for i in 0..<k { off += idx[i] * srcStrides[i] }
        for o in range {
            let d = dst + o * block
            if block == 1 { d.pointee = src[off] } else { d.update(from: src + off, count: block) }
            // increment the multi-index
            var i = k - 1
            while i >= 0 {
                idx[i] += 1; off += srcStrides[i]
                if idx[i] < outShape[i] { break }
                off -= srcStrides[i] * outShape[i]; idx[i] = 0; i -= 1
            }
        }
    }
}
