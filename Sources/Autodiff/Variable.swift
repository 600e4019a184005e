import TensorCore

/// A value in the computation graph: a tensor, and (once backward has reached it) its gradient.
/// Parameters are leaf variables with `requiresGrad`; op results record how to send their
/// gradient back to their inputs on the `Tape`.
public final class Variable {
    public var value: Tensor
    /// d loss / d value, allocated zero-filled the first time backward writes to it. After
    /// `zeroGrad()` it reads as zeros (they are written on the first read, not by `zeroGrad`).
    public var grad: Tensor? {
        if gradIsStale { storedGrad?.zero(); gradIsStale = false }
        return storedGrad
    }
    private var storedGrad: Tensor?
    /// `zeroGrad()` was called and nothing has read or written the buffer since: its bytes are
    /// the last step's gradient, to be overwritten by a kernel that writes it whole
    /// (`gradBufferToWrite`) or zeroed on first read.
    private var gradIsStale = false
    public let requiresGrad: Bool
    public var name: String

    public init(_ value: Tensor, requiresGrad: Bool = false, name: String = "") {
        self.value = value
        self.requiresGrad = requiresGrad
        self.name = name
    }

    public var shape: [Int] { value.shape }
    public var count: Int { value.count }

    /// The gradient buffer, allocated and zeroed on first use. Backward kernels accumulate (+=) into it.
    @inline(__always)
    public func gradBuffer() -> Tensor {
        if let g = grad { return g }
        let g = Tensor(zeros: value.shape)
        storedGrad = g
        return g
    }

    /// The gradient buffer for a backward kernel that writes every element of it: `fresh` when it
    /// was just created, or zeroed by `zeroGrad()` and not touched since, and holds garbage (the
    /// kernel must overwrite it, `=`), otherwise the existing buffer to accumulate into (`+=`).
    /// Saves zero-filling the activation gradients that a linear layer or attention produces
    /// first, and the weight gradients of linear layers (zeroed once per step, then written whole).
    @inline(__always)
    public func gradBufferToWrite() -> (buffer: Tensor, fresh: Bool) {
        if gradIsStale, let g = storedGrad { gradIsStale = false; return (g, true) }
        if let g = storedGrad { return (g, false) }
        let g = Tensor(uninitialized: value.shape)
        storedGrad = g
        return (g, true)
    }

    /// Zero the gradient (once per step, before backward). Lazily: the zeros are written when
    /// the gradient is next read, unless a kernel overwrites it whole first (`gradBufferToWrite`).
    public func zeroGrad() { if storedGrad != nil { gradIsStale = true } }

    /// Drop the gradient buffer entirely.
    public func clearGrad() { storedGrad = nil; gradIsStale = false }

    /// Replace the gradient (used by data-parallel averaging and tests).
    public func setGrad(_ g: Tensor?) {
        if let g { precondition(g.shape == value.shape, "grad \(g.shape) for value \(value.shape)") }
        storedGrad = g
        gradIsStale = false
    }

    /// Runs the tape backwards from this scalar (d self / d self = 1), then frees the graph.
    public func backward() {
        precondition(value.count == 1, "backward() needs a scalar, got \(value.shape); use backward(seed:)")
        backward(seed: Tensor(filled: 1, shape: value.shape))
    }

    /// Runs the tape backwards with `seed` as d loss / d self, then frees the graph.
    public func backward(seed: Tensor) {
        precondition(seed.shape == value.shape, "seed \(seed.shape) for \(value.shape)")
        gradBuffer().copy(from: seed)
        Tape.runBackward()
    }

    /// The value without its history.
    public func detached() -> Variable { Variable(value, requiresGrad: false, name: name) }
}

/// The Wengert list of one forward pass. Ops append their backward closures in execution
/// order, so walking the list in reverse is a valid topological order.
public enum Tape {
    struct Entry {
        let output: Variable
        let backward: (Variable) -> Void
        /// the op's row in `OpProfile` when a profile was running, else -1
        let profileRow: Int
    }
    nonisolated(unsafe) static var entries: [Entry] = []
    nonisolated(unsafe) static var recording = true

    /// Whether ops record their backward (false inside `noGrad`).
    public static var isRecording: Bool { recording }
    public static var count: Int { entries.count }

    /// Called by every op: wraps `value` as a Variable and, when any input needs a gradient and
    /// recording is on, appends `backward`, which receives the output (its `grad` set) and
    /// must accumulate into the inputs' `gradBuffer()`s. `file` names the op in a profile.
    @inline(__always)
    public static func record(_ value: Tensor, inputs: [Variable?], backward: @escaping (Variable) -> Void,
                              file: StaticString = #fileID) -> Variable {
        var row = -1
        if Profiler.isOn {  // the forward kernel just ran: charge it
            row = OpProfile.opRow(file)
            OpProfile.charge(row, backward: false)
        }
        guard recording, inputs.contains(where: { $0?.requiresGrad == true }) else {
            return Variable(value, requiresGrad: false)
        }
        let out = Variable(value, requiresGrad: true)
        entries.append(Entry(output: out, backward: backward, profileRow: row))
        return out
    }

    static func runBackward() {
        let list = entries
        entries = []
        for e in list.reversed() where e.output.grad != nil {
            e.backward(e.output)
            if e.output !== list.last?.output { e.output.clearGrad() }  // intermediate grads die here
            if e.profileRow >= 0 && Profiler.isOn { OpProfile.charge(e.profileRow, backward: true) }
        }
    }

    /// Forget the recorded graph (e.g. after an evaluation forward that was recorded by mistake).
    public static func clear() { entries = [] }

    /// Runs `body` without recording anything: inference mode.
    public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        let was = recording
        recording = false
        defer { recording = was }
        return try body()
    }
}
