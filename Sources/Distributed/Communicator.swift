import CMPI
import Foundation

/// A failed MPI call (the MPI error string, and which call).
public struct MPIError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The processes of a data-parallel run: MPI's world communicator, or — for every run not
/// started by a launcher — a world of one process that never touches MPI.
///
/// `Communicator.world` is that process-wide world. `initializeIfLaunched()` looks at the
/// launcher's environment first (`OMPI_COMM_WORLD_SIZE`, `PMIX_RANK`): a plain run never calls
/// `MPI_Init`, so it starts no helper process and behaves exactly as a build without MPI.
/// Collectives are called from one thread (the training loop's); MPI is initialized with
/// `MPI_THREAD_FUNNELED` and errors return to the caller (`MPI_ERRORS_RETURN`) as `MPIError`s.
public final class Communicator: @unchecked Sendable {
    /// This process's rank, 0..<size. Rank 0 writes checkpoints, metrics and pictures.
    public let rank: Int
    /// Processes in the run.
    public let size: Int
    /// Rank among the processes on this machine, and how many there are.
    public let localRank: Int
    public let localSize: Int
    /// Whether MPI was initialized (false for a plain run).
    public let usesMPI: Bool

    nonisolated(unsafe) public private(set) static var world = Communicator()
    nonisolated(unsafe) private static var finalized = false

    private init() {
        rank = 0; size = 1; localRank = 0; localSize = 1; usesMPI = false
    }

    private init(rank: Int, size: Int, localRank: Int, localSize: Int) {
        self.rank = rank; self.size = size; self.localRank = localRank; self.localSize = localSize
        usesMPI = true
    }

    /// Rank 0: the one process that writes files and talks to the user.
    public var isWriter: Bool { rank == 0 }

    /// True when an MPI launcher (mpirun / mpiexec of Open MPI, or a PMIx launcher such as
    /// srun --mpi=pmix) started this process.
    public static func launchedByMPI(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    /// Initializes MPI when a launcher started this process, and makes `world` the MPI world;
    /// otherwise leaves `world` a single process. Idempotent.
    @discardableResult
    public static func initializeIfLaunched(env: [String: String] = ProcessInfo.processInfo.environment) throws -> Communicator {
        if world.usesMPI || !launchedByMPI(env) { return world }
        var provided: Int32 = 0
        let rc = MPI_Init_thread(nil, nil, vmae_mpi_thread_funneled(), &provided)
        guard rc == vmae_mpi_success() else { throw MPIError("MPI_Init_thread failed: \(errorString(rc))") }
        let comm = vmae_mpi_comm_world()
        MPI_Comm_set_errhandler(comm, vmae_mpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        try check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try check(MPI_Comm_size(comm, &s), "MPI_Comm_size")
        // the ranks that share this machine (they share its cores)
        var local: MPI_Comm? = nil
        var lr: Int32 = 0, ls: Int32 = 1
        if MPI_Comm_split_type(comm, vmae_mpi_comm_type_shared(), r, vmae_mpi_info_null(), &local) == vmae_mpi_success(),
           local != nil {
            MPI_Comm_rank(local, &lr)
            MPI_Comm_size(local, &ls)
            MPI_Comm_free(&local)
        } else {
            lr = Int32(env["OMPI_COMM_WORLD_LOCAL_RANK"].flatMap { Int32($0) } ?? 0)
            ls = Int32(env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int32($0) } ?? 1)
        }
        world = Communicator(rank: Int(r), size: Int(s), localRank: Int(lr), localSize: Int(ls))
        return world
    }

    // ---- collectives (no-ops for a world of one) -------------------------------------------

    public enum Op {
        case sum, max, min
        var handle: MPI_Op? {
            switch self {
            case .sum: return vmae_mpi_sum()
            case .max: return vmae_mpi_max()
            case .min: return vmae_mpi_min()
            }
        }
    }

    /// In-place allreduce of `count` floats: every rank ends with the elementwise `op` of all
    /// ranks' buffers. Very long buffers go in pieces of at most 2^30 elements (MPI counts are
    /// 32-bit); anything up to that is one call.
    public func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, op: Op = .sum) throws {
        try allreduceRaw(UnsafeMutableRawPointer(buffer), count: count, elementSize: 4, type: vmae_mpi_float(), op: op)
    }

    public func allreduce(_ buffer: UnsafeMutablePointer<Double>, count: Int, op: Op = .sum) throws {
        try allreduceRaw(UnsafeMutableRawPointer(buffer), count: count, elementSize: 8, type: vmae_mpi_double(), op: op)
    }

    public func allreduce(_ buffer: UnsafeMutablePointer<UInt64>, count: Int, op: Op = .sum) throws {
        try allreduceRaw(UnsafeMutableRawPointer(buffer), count: count, elementSize: 8, type: vmae_mpi_uint64(), op: op)
    }

    /// Allreduce of a few values (array in, array out).
    public func allreduce(_ values: [Double], op: Op = .sum) throws -> [Double] {
        var v = values
        try v.withUnsafeMutableBufferPointer { try allreduce($0.baseAddress!, count: $0.count, op: op) }
        return v
    }

    public func allreduce(_ values: [UInt64], op: Op) throws -> [UInt64] {
        var v = values
        try v.withUnsafeMutableBufferPointer { try allreduce($0.baseAddress!, count: $0.count, op: op) }
        return v
    }

    private func allreduceRaw(_ p: UnsafeMutableRawPointer, count: Int, elementSize: Int, type: MPI_Datatype?, op: Op) throws {
        guard usesMPI, size > 1, count > 0 else { return }
        var done = 0
        while done < count {
            let n = min(count - done, 1 << 30)
            try Communicator.check(MPI_Allreduce(UnsafeRawPointer(vmae_mpi_in_place()), p + done * elementSize, Int32(n),
                                                 type, op.handle, vmae_mpi_comm_world()), "MPI_Allreduce")
            done += n
        }
    }

    /// Broadcast of `bytes` bytes from `root` to every rank.
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int = 0) throws {
        guard usesMPI, size > 1, bytes > 0 else { return }
        var done = 0
        while done < bytes {
            let n = min(bytes - done, 1 << 30)
            try Communicator.check(MPI_Bcast(buffer + done, Int32(n), vmae_mpi_byte(), Int32(root), vmae_mpi_comm_world()), "MPI_Bcast")
            done += n
        }
    }

    public func broadcast(_ values: [Int64], root: Int = 0) throws -> [Int64] {
        var v = values
        try v.withUnsafeMutableBytes { try broadcast($0.baseAddress!, bytes: $0.count, root: root) }
        return v
    }

    public func barrier() throws {
        guard usesMPI, size > 1 else { return }
        try Communicator.check(MPI_Barrier(vmae_mpi_comm_world()), "MPI_Barrier")
    }

    /// Ends every process of the run (MPI_Abort), with `code` as the exit status.
    public func abort(_ code: Int32) -> Never {
        if usesMPI && !Communicator.finalized { MPI_Abort(vmae_mpi_comm_world(), code) }
        exit(code)
    }

    /// The orderly end of a run: every rank calls it once (no-op for a plain run).
    public func finalize() {
        guard usesMPI, !Communicator.finalized else { return }
        Communicator.finalized = true
        MPI_Finalize()
    }

    // ---- errors ---------------------------------------------------------------------------

    static func check(_ rc: Int32, _ call: String) throws {
        if rc != vmae_mpi_success() { throw MPIError("\(call) failed: \(errorString(rc))") }
    }

    static func errorString(_ rc: Int32) -> String {
        var buf = [CChar](repeating: 0, count: Int(vmae_mpi_max_error_string()) + 1)
        var len: Int32 = 0
        MPI_Error_string(rc, &buf, &len)
        return String(cString: buf)
    }
}
