import ExitStatus
import Foundation

/// `vmae import SOURCE --out CK.h5 …`: checks the options, imports, prints the report (and how
/// to train from the checkpoint when a config was written).
public func runImport(source: String, out: String, task: String?, config: String?, numClasses: Int?, configOut: String?,
                      seed: Int) throws {
    if let t = task, t != "pretrain", t != "finetune" { throw UserError("--task: must be pretrain or finetune, got \"\(t)\"") }
    if let k = numClasses, k <= 0 { throw UserError("--num-classes: must be positive, got \(k)") }
    var o = ImportOptions(source: source, out: out)
    o.task = task
    o.config = config
    o.numClasses = numClasses
    o.configOut = configOut
    o.seed = seed
    var bar: ProgressBar?
    o.progress = { done, total in
        if bar == nil { bar = ProgressBar(total: total, label: "import: tensors") }
        bar!.update(done)
    }
    let report = try WeightImport.run(o)
    bar?.finish()
    for l in report.lines(out: out) { print(l) }
    if let configOut { print("wrote \(configOut): train from the checkpoint with vmae-train --config \(configOut) --resume \(out) (pretrain) or --set checkpoint.init_from=\(out)") }
}
