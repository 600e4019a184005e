// swift-tools-version:5.10
// vmae — a self-supervised VideoMAE trainer. Layers (dependencies point down only):
//   vmae / vmae-train → Training → {VideoMAE, Optim, Checkpoint, DataPipeline}
//   VideoMAE → NN → Autodiff → TensorCore → CBLAS
//   Checkpoint → HDF5 → CHDF5;  DataPipeline → VideoIO → {CFFmpeg, CPNG};  Training → Distributed → CMPI
import PackageDescription

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
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),

        // Arrays → autodiff → layers → model.
        .target(name: "TensorCore", dependencies: ["CBLAS"], swiftSettings: fast),
        .target(name: "Autodiff", dependencies: ["TensorCore"], swiftSettings: fast),
        .target(name: "NN", dependencies: ["Autodiff", "TensorCore"], swiftSettings: fast),
        .target(name: "VideoMAE", dependencies: ["NN", "Autodiff", "TensorCore"], swiftSettings: fast),
        .target(name: "Optim", dependencies: ["NN", "Autodiff", "TensorCore"], swiftSettings: fast),

        // Files.
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Checkpoint", dependencies: ["HDF5", "TensorCore"]),
        .target(name: "VideoIO", dependencies: ["CFFmpeg", "CPNG"], swiftSettings: fast),
        .target(name: "DataPipeline", dependencies: ["VideoIO", "TensorCore"], swiftSettings: fast),
        // Data-parallel runs over MPI (mpirun); a plain run never initializes it.
        .target(name: "Distributed", dependencies: ["CMPI"]),

        // The loops and the commands.
        .target(name: "Training", dependencies: [
            "VideoMAE", "Optim", "Checkpoint", "DataPipeline", "NN", "Autodiff", "TensorCore", "HDF5", "VideoIO", "Distributed",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),
        .executableTarget(name: "vmae", dependencies: [
            "Training", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),
        .executableTarget(name: "vmae-train", dependencies: [
            "Training", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),

        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "TensorCore"]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(name: "VideoIOTests", dependencies: ["VideoIO"]),
        .testTarget(name: "VideoMAETests", dependencies: ["VideoMAE", "NN", "Autodiff", "TensorCore", "Checkpoint", "HDF5", "Training"]),
        .testTarget(name: "DataPipelineTests", dependencies: ["DataPipeline", "VideoIO", "TensorCore", "Training"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "VideoMAE", "Optim", "Checkpoint", "DataPipeline", "HDF5", "VideoIO", "NN", "Autodiff", "TensorCore", "Distributed"]),
    ]
)
