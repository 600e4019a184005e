import DataPipeline

// Interim: replaced when fine-tuning lands (video datasets are in VideoDatasets.swift).
struct FinetuneRunner {
    let trainer: Trainer
    func run() throws -> RunSummary { throw UserError("task: \"finetune\" is not available in this build yet") }
}
