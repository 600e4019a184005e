import ArgumentParser
import Interop

/// `vmae import SOURCE --out CK.h5 [--task pretrain|finetune] [--config JSON] [--num-classes K] [--config-out F]`
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import Hugging Face or original VideoMAE weights (safetensors) as a vmae checkpoint (step 0).",
        discussion: """
        SOURCE: a transformers model folder (config.json + model.safetensors, or shards with \
        model.safetensors.index.json) of VideoMAEForPreTraining, VideoMAEModel or VideoMAEForVideoClassification; \
        or one .safetensors file (e.g. from Tools/weights/pth_to_safetensors.py) with --config (a Hugging Face \
        config.json or a vmae config; default: FILE.json or config.json beside it). F32, F16 and BF16 tensors are read \
        as float32. The checkpoint works with checkpoint.init_from (task pretrain), --resume (continued pretraining \
        or fine-tuning) and vmae predict (task finetune). The report lists loaded, missing and unused tensors.
        """)

    @Argument(help: "A Hugging Face model folder or a .safetensors file.") var source: String
    @Option(help: "The checkpoint to write (.h5).") var out: String
    @Option(help: "pretrain or finetune (default: finetune for a classifier, else pretrain).") var task: String?
    @Option(help: "The model's config: Hugging Face config.json or a vmae config (default: beside the weights).") var config: String?
    @Option(name: .customLong("num-classes"), help: "Classes of a fine-tuning model whose source has no classifier head.") var numClasses: Int?
    @Option(name: .customLong("config-out"), help: "Also write a vmae config (task, model, data shape keys) for training from the checkpoint.") var configOut: String?
    @Option(help: "Seed of the initialization of what the source does not have.") var seed: Int = 0

    func run() throws {
        try runImport(source: source, out: out, task: task, config: config, numClasses: numClasses, configOut: configOut,
                      seed: seed)
    }
}
