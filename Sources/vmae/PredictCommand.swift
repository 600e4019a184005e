import ArgumentParser
import ExitStatus
import Foundation
import Inference
import TensorCore

/// `vmae predict (--checkpoint CK.h5 | --model HF_FOLDER) VIDEO… [--top-k 5] [--windows N]
/// [--timeline [--window-stride S]] [--json] [--save-frames DIR]`
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Name the actions in videos with a fine-tuned checkpoint or a Hugging Face VideoMAE classifier folder: top-k classes, or a timeline along a long video.")

    @Option(help: "A fine-tuning checkpoint (task \"finetune\"), e.g. runs/finetune/checkpoint-best.h5.") var checkpoint: String?
    @Option(help: "A Hugging Face save_pretrained folder of VideoMAEForVideoClassification (config.json with id2label, model.safetensors or shards, preprocessor_config.json), e.g. MCG-NJU/videomae-base-finetuned-kinetics downloaded.")
    var model: String?
    @Argument(help: "Video files.") var videos: [String] = []
    @Option(name: .customLong("top-k"), help: "Classes to list per video (default: 5, or all when there are fewer).") var topK: Int?
    @Option(help: "Windows averaged for each video's label: the video cut in N equal parts, num_frames frames spread over each (default: 1 with --model; a checkpoint's test_num_segment).")
    var windows: Int?
    @Flag(help: "Slide the clip window along each video and print what happens when.") var timeline = false
    @Option(name: .customLong("window-stride"), help: "Seconds between timeline windows (default: the window's length).")
    var windowStride: Double?
    @Flag(help: "One JSON object per video and line.") var json = false
    @Option(name: .customLong("save-frames"), help: "With --model: write each sampled frame, as decoded, to this folder (w<window>-f<frame>.png).")
    var saveFrames: String?
    @Option(help: "Threads for OpenBLAS and vmae's kernels (default: all cores).") var threads: Int?

    func run() throws {
        if let t = threads {
            guard t > 0 else { throw UserError("--threads: must be positive, got \(t)") }
            Threads.configure(t)
        }
        var r = PredictRequest()
        (r.checkpoint, r.model, r.videos, r.topK, r.windows) = (checkpoint, model, videos, topK, windows)
        (r.timeline, r.windowStride, r.json, r.saveFrames) = (timeline, windowStride, json, saveFrames)
        try runPredict(r)
    }
}
