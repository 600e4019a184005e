// swift-tools-version:5.10
// vmae — a self-supervised VideoMAE trainer. A target depends on targets of lower layers only:
// scripts/check-layers.sh holds this table and checks it, every import and every dependency
// list below against it; docs/ARCHITECTURE.md says what each target owns.
// layers:begin
//   9  vmae vmae-train                    executables: parse arguments, call one function
//   8  Benchmarks Inference              vmae bench, vmae tokens; a checkpoint or a Hugging Face classifier at work
//   7  Training Interop                   the loops; the PyTorch world (safetensors, HF names, import)
//   6  RunConfig                          the JSON config and the datasets and model state it names
//   5  Pictures                           canvas, font, curves, reconstruction pictures
//   4  VideoMAE Optim                     the model, masking, targets; AdamW and schedules
//   3  NN Checkpoint DataPipeline         layers; the checkpoint file; clips from videos
//   2  Autodiff HDF5 VideoIO Distributed TensorBoard  differentiable ops; HDF5; FFmpeg and PNG; MPI; event files
//   1  TensorCore ExitStatus ChildProcess  arrays, kernels, BLAS; UserError and exit statuses; a child process with a deadline
//   0  CBLAS CDNNL CKernels CHDF5 CFFmpeg CPNG CMPI ArgumentParser SwiftProtobuf   system libraries, vmae's C kernels and the two packages
// layers:end
import PackageDescription
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Release builds of the numeric targets: no overflow/bounds traps in kernels, and AVX2+FMA
// (every x86-64 server since 2013; the machines this project runs on have AVX-512) so the
// loop vectorizer turns exp/erf/layernorm loops into SIMD.
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release))]

let package = Package(
    name: "vmae",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vmae", targets: ["vmae"]),
        .executable(name: "vmae-train", targets: ["vmae-train"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries (C). Each shim.h wraps the macros Swift cannot import.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg",
                       pkgConfig: "libavformat libavcodec libswscale libavutil",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // oneDNN for the bf16 GEMM (mixed precision); libdnnl has no pkg-config file in Debian.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),

        // vmae's own C kernels (the AVX512-BF16 GEMM), each function compiled for its instructions.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"], .when(configuration: .release))]),

        // Arrays → autodiff → layers → model.
        .target(name: "TensorCore", dependencies: ["CBLAS", "CDNNL", "CKernels"], swiftSettings: fast),
        .target(name: "Autodiff", dependencies: ["TensorCore"], swiftSettings: fast),
        .target(name: "NN", dependencies: ["Autodiff", "TensorCore"], swiftSettings: fast),
        .target(name: "VideoMAE", dependencies: ["NN", "Autodiff", "TensorCore"], swiftSettings: fast),
        .target(name: "Optim", dependencies: ["Autodiff", "TensorCore"], swiftSettings: fast),

        // Files.
        .target(name: "HDF5", dependencies: ["CHDF5", "ChildProcess"]),
        // A copy of this executable (or another program) run as a child with a deadline.
        .target(name: "ChildProcess", dependencies: []),
        .target(name: "Checkpoint", dependencies: ["HDF5", "TensorCore"]),
        .target(name: "VideoIO", dependencies: ["CFFmpeg", "CPNG"], swiftSettings: fast),
        .target(name: "DataPipeline", dependencies: ["VideoIO", "TensorCore"], swiftSettings: fast),
        // TensorBoard event files (TFRecord framing around tensorflow.Event protobufs). The
        // .pb.swift under Generated/ are committed; proto/generate.sh says how they were made.
        .target(name: "TensorBoard", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["proto"]),
        // Data-parallel runs over MPI (mpirun); a plain run never initializes it.
        .target(name: "Distributed", dependencies: ["CMPI"]),

        // How the tools end: UserError (status 2, one line), ExitCodeError, runCommandLine.
        .target(name: "ExitStatus", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The run's JSON config and what it names: datasets, checkpoint ↔ model copies, class names.
        .target(name: "RunConfig", dependencies: [
            "ExitStatus", "VideoMAE", "Optim", "Checkpoint", "DataPipeline", "NN", "Autodiff", "TensorCore",
        ], swiftSettings: fast),
        // Drawing: canvas, bitmap font, curves, reconstruction grids and pictures.
        .target(name: "Pictures", dependencies: ["VideoMAE", "NN", "Autodiff", "TensorCore", "VideoIO"], swiftSettings: fast),
        // The pretraining and fine-tuning loops and everything they need around them.
        .target(name: "Training", dependencies: [
            "RunConfig", "Pictures", "ExitStatus", "VideoMAE", "Optim", "Checkpoint", "DataPipeline", "Distributed",
            "NN", "Autodiff", "TensorCore", "TensorBoard", "VideoIO",
        ], swiftSettings: fast),
        // A trained checkpoint at work: predict, reconstruct.
        .target(name: "Inference", dependencies: [
            "Interop", "RunConfig", "Pictures", "ExitStatus", "VideoMAE", "Checkpoint", "DataPipeline", "VideoIO", "NN", "Autodiff", "TensorCore",
        ], swiftSettings: fast),
        // The PyTorch world: safetensors, Hugging Face names, weight import/export, parity fixtures.
        .target(name: "Interop", dependencies: [
            "RunConfig", "ExitStatus", "VideoMAE", "Optim", "Checkpoint", "DataPipeline", "HDF5", "NN", "Autodiff", "TensorCore",
        ], swiftSettings: fast),
        // vmae bench (step, ops, data, attention) and vmae tokens.
        .target(name: "Benchmarks", dependencies: [
            "Training", "RunConfig", "Pictures", "ExitStatus", "VideoMAE", "Optim", "DataPipeline", "NN", "Autodiff", "TensorCore",
        ], swiftSettings: fast),

        .executableTarget(name: "vmae", dependencies: [
            "Benchmarks", "Inference", "Interop", "ExitStatus", "DataPipeline", "Checkpoint", "HDF5", "TensorCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),
        .executableTarget(name: "vmae-train", dependencies: ["Training", "ExitStatus", "Checkpoint", "HDF5", "TensorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")], swiftSettings: fast),

        // Tests: one target per source target; TestSupport holds what several of them share.
        .target(name: "TestSupport", dependencies: ["RunConfig", "VideoMAE", "Checkpoint", "NN", "VideoIO", "TensorCore", "CFFmpeg"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "TensorCore"]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "CHDF5", "ChildProcess"]),
        .testTarget(name: "ChildProcessTests", dependencies: ["ChildProcess"]),
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard"]),
        .testTarget(name: "VideoIOTests", dependencies: ["VideoIO", "TestSupport"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "Autodiff", "TensorCore"]),
        .testTarget(name: "VideoMAETests", dependencies: ["VideoMAE", "NN", "Autodiff", "HDF5", "TensorCore"]),
        .testTarget(name: "DataPipelineTests", dependencies: ["DataPipeline", "VideoIO", "TensorCore", "TestSupport"]),
        .testTarget(name: "PicturesTests", dependencies: ["Pictures", "VideoIO", "TestSupport"]),
        .testTarget(name: "RunConfigTests", dependencies: [
            "RunConfig", "Checkpoint", "DataPipeline", "ExitStatus", "TensorCore", "TestSupport",
        ]),
        .testTarget(name: "TrainingTests", dependencies: [
            "Training", "RunConfig", "Optim", "VideoMAE", "Checkpoint", "DataPipeline", "NN", "Autodiff",
            "Distributed", "HDF5", "VideoIO", "ExitStatus", "TensorCore", "TensorBoard", "TestSupport",
        ]),
        .testTarget(name: "InferenceTests", dependencies: [
            "Inference", "Interop", "Training", "RunConfig", "Pictures", "VideoMAE", "Checkpoint", "DataPipeline", "NN",
            "Autodiff", "VideoIO", "ExitStatus", "TensorCore", "TestSupport",
        ]),
        .testTarget(name: "InteropTests", dependencies: [
            "Interop", "Training", "RunConfig", "ExitStatus", "Optim", "VideoMAE", "Checkpoint", "NN", "Autodiff", "HDF5",
            "TensorCore", "TestSupport",
        ]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Pictures", "Autodiff", "TensorCore"]),
    ]
)

// libFuzzer harnesses (Fuzz/NAME/Harness.swift), declared only when VMAE_FUZZ=1 so the release
// build and the test suite never see them. scripts/fuzz.sh sets it and builds each harness with
// -sanitize=fuzzer,address (Fuzz/Driver/Driver.swift says how a harness starts libFuzzer).
if getenv("VMAE_FUZZ") != nil {
    let harnesses: [(String, [Target.Dependency])] = [
        ("config", ["RunConfig", "ExitStatus"]),
        ("safetensors", ["Interop"]),
        ("checkpoint", ["Checkpoint", "HDF5"]),
        ("listfile", ["DataPipeline"]),
        ("fixture", ["Interop", "ExitStatus", "HDF5"]),
    ]
    package.targets.append(.target(name: "FuzzDriver", path: "Fuzz/Driver"))
    for (name, deps) in harnesses {
        package.targets.append(.executableTarget(name: "fuzz-\(name)", dependencies: deps + ["FuzzDriver"], path: "Fuzz/\(name)",
                                                 swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
        package.products.append(.executable(name: "fuzz-\(name)", targets: ["fuzz-\(name)"]))
    }
}
