import ArgumentParser
import ExitStatus
import Foundation
import Inference
import TensorCore

/// `vmae predict --checkpoint CK.h5 VIDEO… [--top-k 5] [--timeline [--window-stride S]] [--json]`
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Name the actions in videos with a fine-tuned checkpoint: top-k classes, or a timeline along a long video.")

    @Option(help: "A fine-tuning checkpoint (task \"finetune\"), e.g. runs/finetune/checkpoint-best.h5.") var checkpoint: String
    @Argument(help: "Video files.") var videos: [String] = []
    @Option(name: .customLong("top-k"), help: "Classes to list per video (default: 5, or all when there are fewer).") var topK: Int?
    @Flag(help: "Slide the clip window along each video and print what happens when.") var timeline = false
    @Option(name: .customLong("window-stride"), help: "Seconds between timeline windows (default: the window's length).")
    var windowStride: Double?
    @Flag(help: "One JSON object per video and line.") var json = false
    @Option(help: "Threads for OpenBLAS and vmae's kernels (default: all cores).") var threads: Int?

    func run() throws {
        if let t = threads {
            guard t > 0 else { throw UserError("--threads: must be positive, got \(t)") }
            Threads.configure(t)
        }
        try runPredict(checkpoint: checkpoint, videos: videos, topK: topK, timeline: timeline, windowStride: windowStride, json: json)
    }
}
