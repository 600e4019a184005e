import TensorCore

extension Checkpoint {
    /// The /model tensor that differs most from `other`'s, with its largest absolute difference
    /// relative to its own largest magnitude (infinity when the names or shapes disagree).
    public func largestModelDifference(to other: Checkpoint) -> (name: String, relative: Float) {
        let theirs = Dictionary(other.model, uniquingKeysWith: { x, _ in x })
        guard model.count == other.model.count else { return ("(the tensor lists)", .infinity) }
        var worst = (name: "", relative: Float(0))
        for (name, t) in model {
            guard let u = theirs[name], u.shape == t.shape else { return (name, .infinity) }
            var largest: Float = 0, diff: Float = 0
            for i in 0..<t.count {
                largest = max(largest, abs(t.data[i]))
                diff = max(diff, abs(t.data[i] - u.data[i]))
            }
            let rel = diff / max(largest, 1e-12)
            if !(rel <= worst.relative) { worst = (name, rel) }   // NaN counts as worst
        }
        return worst
    }
}
