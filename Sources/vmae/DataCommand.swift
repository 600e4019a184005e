import ArgumentParser
import Benchmarks
import DataPipeline
import ExitStatus
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Datasets: generate the synthetic motion dataset.",
        subcommands: [SynthCommand.self])
}

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write the synthetic motion-class dataset: mp4 clips per class plus train.csv, val.csv, classes.txt.")

    @Option(help: "Output folder.") var out = "data/synthetic"
    @Option(help: "Number of classes (1...\(SyntheticVideos.classNames.count)).") var classes = 8
    @Option(name: .customLong("clips-per-class"), help: "Clips per class (train + val).") var clipsPerClass = 40
    @Option(help: "Frame size in pixels (even).") var size = 112
    @Option(help: "Frames per clip.") var frames = 32
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("val-per-class"), help: "Clips per class for val.csv (default: 20%).") var valPerClass: Int?
    @Option(help: "How actors are painted: textured (stripes, checker or blocky noise; the seed case's) or two-tone (the same two colours split once; the quick start's).")
    var actors = "textured"

    func run() throws {
        guard let paint = SyntheticVideos.Actors(rawValue: actors) else {
            throw UserError("--actors: expected textured or two-tone, got \"\(actors)\"")
        }
        do {
            let bar = ProgressBar(total: classes * clipsPerClass, label: "synth: clips")
            let s = try SyntheticVideos.generate(out: out, classes: classes, clipsPerClass: clipsPerClass, size: size,
                                                 frames: frames, seed: seed, valPerClass: valPerClass, actors: paint,
                                                 progress: { done, _ in bar.update(done) })
            bar.finish()
            print(s.description)
        } catch let e as SyntheticVideos.Failure {
            throw UserError(e.message)
        }
    }
}

struct DataBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Decoded clips/s of the data pipeline through the trainer's loader; one JSON line.")

    @Option(help: "A list file or class-per-folder directory (default: a temporary synthetic set).") var list: String?
    @Option(help: "Folder the list's paths are relative to (default: the list's folder).") var root: String?
    @Option(help: "Decoding threads (data.num_workers).") var workers = 2
    @Option(help: "Frames per clip.") var frames = 16
    @Option(help: "Crop size in pixels.") var size = 112
    @Option(name: .customLong("sampling-rate"), help: "Frames between sampled frames.") var samplingRate = 4
    @Option(help: "dense or uniform.") var sampling = "dense"
    @Option(help: "pretrain, finetune or eval.") var mode = "pretrain"
    @Option(help: "Clips to load (in batches of --batch).") var clips = 96
    @Option(help: "Clips per batch.") var batch = 8
    @Option(name: .customLong("decode-scale"), help: "Training decodes with the short side at most size × this (default 320/224).")
    var decodeScale: Double?

    func validate() throws {
        guard workers >= 0 else { throw ValidationError("--workers must not be negative") }
        guard frames > 0, size > 0, samplingRate > 0, clips > 0, batch > 0 else {
            throw ValidationError("--frames, --size, --sampling-rate, --clips and --batch must be positive")
        }
    }

    func run() throws {
        try runDataBench(list: list, root: root, frames: frames, size: size, samplingRate: samplingRate, workers: workers,
                         clips: clips, batch: batch, mode: mode, sampling: sampling, decodeScale: decodeScale)
    }
}
