import ArgumentParser
import ExitStatus
import Foundation
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
        if let t = task, t != "pretrain", t != "finetune" { throw UserError("--task: must be pretrain or finetune, got \"\(t)\"") }
        if let k = numClasses, k <= 0 { throw UserError("--num-classes: must be positive, got \(k)") }
        var o = ImportOptions(source: source, out: out)
        o.task = task
        o.config = config
        o.numClasses = numClasses
        o.configOut = configOut
        o.seed = seed
        let report = try WeightImport.run(o)
        for l in report.lines(out: out) { print(l) }
        if let configOut { print("wrote \(configOut): train from the checkpoint with vmae-train --config \(configOut) --resume \(out) (pretrain) or --set checkpoint.init_from=\(out)") }
    }
}
