import ArgumentParser
import Interop

/// `vmae export CK.h5 --out DIR`
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a vmae checkpoint as a Hugging Face transformers model folder.",
        discussion: """
        Writes DIR/config.json, DIR/model.safetensors (float32) and DIR/preprocessor_config.json. A pretraining \
        checkpoint loads with VideoMAEForPreTraining.from_pretrained(DIR), a fine-tuning one with \
        VideoMAEForVideoClassification.from_pretrained(DIR) (id2label from the checkpoint's class names).
        """)

    @Argument(help: "A vmae checkpoint (.h5).") var checkpoint: String
    @Option(help: "The folder to write.") var out: String

    func run() throws {
        try runExport(checkpoint: checkpoint, out: out)
    }
}
