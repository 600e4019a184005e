import ArgumentParser
import Benchmarks
import Foundation

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
        let c = try TokenCalculator.count(frames: frames, size: size, patch: patch, tubelet: tubelet)
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            print(String(data: try enc.encode(c), encoding: .utf8)!)
        } else {
            print(TokenCalculator.table(c))
        }
    }
}
