import ArgumentParser
import ExitStatus
import Foundation
import Inference
import TensorCore

/// `vmae reconstruct --checkpoint CK.h5 VIDEO --out recon.png [--seed S] [--mask tube|random] [--ratio R]`
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Draw a pretraining checkpoint's masked reconstruction of a video clip as a PNG and print its masked-pixel MSE.",
        discussion: """
        One column per frame; rows: the original clip (centre clip, centre crop, as validation sees it), the masked \
        input (hidden tubelets grey), and the reconstruction (visible tubelets pasted back, hidden ones predicted). \
        Predicted normalized patches are un-normalized with the mean and standard deviation of the nearest visible \
        tubelets, never with the hidden tubelet's own.
        """)

    @Option(help: "A pretraining checkpoint (task \"pretrain\"), e.g. runs/pretrain/checkpoint-00001000.h5.") var checkpoint: String
    @Argument(help: "A video file.") var video: String
    @Option(help: "Where to write the PNG.") var out: String = "recon.png"
    @Option(help: "Seed of the mask.") var seed: Int = 0
    @Option(help: "Mask type: tube or random (default: the checkpoint's).") var mask: String?
    @Option(help: "Masking ratio in (0, 1) (default: the checkpoint's).") var ratio: Double?
    @Option(help: "Threads for OpenBLAS and vmae's kernels (default: all cores).") var threads: Int?

    func run() throws {
        if let t = threads {
            guard t > 0 else { throw UserError("--threads: must be positive, got \(t)") }
            Threads.configure(t)
        }
        try runReconstruct(checkpoint: checkpoint, video: video, out: out, seed: seed, mask: mask, ratio: ratio)
    }
}
