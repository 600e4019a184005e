import DataPipeline

// Interim: replaced when the video data pipeline and fine-tuning land.
func makeVideoDataset(_ cfg: TrainConfig, list: String, key: String, training: Bool) throws -> ClipDataset {
    throw UserError("\(key): video datasets are not available in this build yet")
}

struct FinetuneRunner {
    let trainer: Trainer
    func run() throws -> RunSummary { throw UserError("task: \"finetune\" is not available in this build yet") }
}
