import ArgumentParser
import Inference

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a checkpoint: task, step, epoch, config summary, tensors.")

    @Argument(help: "A vmae checkpoint (.h5).") var checkpoint: String

    func run() throws {
        try runInspect(checkpoint: checkpoint)
    }
}
