import ArgumentParser
import Inference

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a checkpoint: task, step, epoch, config summary, tensors.")

    @Argument(help: "A vmae checkpoint (.h5).") var checkpoint: String
    @Option(help: "Another checkpoint to compare the parameters with (status 1 when they differ).") var compare: String?
    @Option(help: "With --compare: largest difference allowed, relative to each tensor's largest magnitude.") var tolerance: Float = 1e-4

    func run() throws {
        try runInspect(checkpoint: checkpoint, compare: compare, tolerance: tolerance)
    }
}
