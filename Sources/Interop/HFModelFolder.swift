import Checkpoint
import DataPipeline
import ExitStatus
import Foundation

/// A Hugging Face `save_pretrained` folder of `VideoMAEForVideoClassification` as `vmae
/// predict --model` takes it: the weights through `WeightImport` (the one safetensors reader and
/// HF name table, nothing written), class names from config.json's id2label, and the
/// preprocessing of preprocessor_config.json.
public enum HFModelFolder {
    /// The classifier as an in-memory fine-tuning checkpoint, and its preprocessing. A folder
    /// that is not a video classifier, or a preprocessor config vmae cannot follow, is a `UserError`.
    public static func load(_ folder: String) throws -> (checkpoint: Checkpoint, preprocessing: HFVideoPreprocessor, report: ImportReport) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw UserError("--model \(folder): not a folder (a Hugging Face save_pretrained folder: config.json, model.safetensors, preprocessor_config.json)")
        }
        let configPath = folder + "/config.json"
        if let d = FileManager.default.contents(atPath: configPath),
           let tree = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any],
           let hf = try? HFVideoMAEConfig(json: tree, source: configPath), !hf.isClassifier {
            throw UserError("--model \(folder): not a trained video classifier (config.json's architectures: " +
                            "\(hf.architectures.isEmpty ? "none" : hf.architectures.joined(separator: ", ")); vmae predict needs VideoMAEForVideoClassification)")
        }
        var o = ImportOptions(source: folder)
        o.task = "finetune"
        let (ck, report) = try WeightImport.load(o)
        if !report.missing.isEmpty {
            throw UserError("--model \(folder): not a trained video classifier: \(NameList.compact(report.missing, limit: 4)) missing from its weights")
        }
        let pre = try preprocessing(folder + "/preprocessor_config.json")
        return (ck, pre, report)
    }

    /// preprocessor_config.json → the steps of transformers' VideoMAE image processor. A
    /// missing file means transformers' defaults (shortest edge 224, crop 224, ImageNet mean/std).
    public static func preprocessing(_ path: String) throws -> HFVideoPreprocessor {
        var p = HFVideoPreprocessor()
        guard let d = FileManager.default.contents(atPath: path) else { return p }
        guard let t = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] else {
            throw UserError("\(path): not a JSON object")
        }
        func bad(_ key: String, _ why: String) -> UserError { UserError("\(path): \(key): \(why)") }
        func int(_ v: Any?) -> Int? { (v as? NSNumber).flatMap { n in Double(n.intValue) == n.doubleValue ? n.intValue : nil } }
        func flag(_ key: String) throws -> Bool {
            guard let v = t[key] else { return true }
            guard let b = v as? Bool else { throw bad(key, "must be true or false") }
            return b
        }
        func triple(_ key: String) throws -> [Double]? {
            guard let v = t[key] else { return nil }
            if let x = (v as? NSNumber)?.doubleValue { return [x, x, x] }
            guard let a = (v as? [NSNumber])?.map(\.doubleValue), a.count == 3 else { throw bad(key, "must be 3 numbers (RGB)") }
            return a
        }
        if let r = t["resample"], int(r) != 2 {
            throw bad("resample", "\(r) is not supported (vmae resizes as PIL's BILINEAR, resample 2)")
        }
        if try flag("do_resize") {
            if let s = t["size"] as? [String: Any] {
                if let e = int(s["shortest_edge"]), e > 0 { p.resize = .shortestEdge(e) }
                else if let h = int(s["height"]), let w = int(s["width"]), h > 0, w > 0 { p.resize = .exact(height: h, width: w) }
                else { throw bad("size", "needs shortest_edge or height and width (positive integers)") }
            } else if let e = int(t["size"]), e > 0 {
                p.resize = .shortestEdge(e)
            } else if t["size"] != nil {
                throw bad("size", "needs shortest_edge or height and width")
            }
        } else { p.resize = nil }
        if try flag("do_center_crop") {
            if let c = t["crop_size"] as? [String: Any] {
                guard let h = int(c["height"]), let w = int(c["width"]), h > 0, w > 0 else {
                    throw bad("crop_size", "needs height and width (positive integers)")
                }
                p.crop = (h, w)
            } else if let e = int(t["crop_size"]), e > 0 {
                p.crop = (e, e)
            } else if t["crop_size"] != nil {
                throw bad("crop_size", "needs height and width")
            }
        } else { p.crop = nil }
        if try flag("do_rescale") {
            if let f = t["rescale_factor"] {
                guard let x = (f as? NSNumber)?.doubleValue, x > 0 else { throw bad("rescale_factor", "must be a positive number") }
                p.rescaleFactor = x
            }
        } else { p.rescaleFactor = nil }
        if try flag("do_normalize") {
            if let m = try triple("image_mean") { p.mean = m }
            if let s = try triple("image_std") {
                guard s.allSatisfy({ $0 > 0 }) else { throw bad("image_std", "must be positive") }
                p.std = s
            }
        } else { p.mean = nil; p.std = nil }
        return p
    }
}
