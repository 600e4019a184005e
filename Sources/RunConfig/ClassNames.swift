import Checkpoint
import Foundation

/// `names` padded with `class_<i>` (or cut) to `classes` entries.
public func namesFor(_ names: [String], classes: Int) -> [String] {
    var out = Array(names.prefix(classes))
    while out.count < classes { out.append("class_\(out.count)") }
    return out
}

/// The class names a checkpoint stores in /state (`class_names`, a JSON list).
public func storedClassNames(_ ck: Checkpoint) -> [String]? {
    guard let s = ck.strings["class_names"], let d = s.data(using: .utf8),
          let names = try? JSONSerialization.jsonObject(with: d) as? [String] else { return nil }
    return names
}
