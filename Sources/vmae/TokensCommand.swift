import ArgumentParser
import Benchmarks

struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Token count of a clip and attention pairs per layer: joint (N²), divided (Ns²·T + T²·Ns), spatial-only (Ns²·T).")

    @Option(help: "Frames per clip.") var frames = 16
    @Option(help: "Frame size (pixels, square).") var size = 224
    @Option(help: "Patch size (pixels).") var patch = 16
    @Option(help: "Tubelet size (frames per token).") var tubelet = 2
    @Flag(help: "One JSON line instead of the table.") var json = false

    func run() throws {
        try runTokens(frames: frames, size: size, patch: patch, tubelet: tubelet, json: json)
    }
}
