import Foundation

/// `v` (a JSON-compatible value) as JSON text with sorted keys.
public func jsonString(_ v: Any) -> String {
    String(data: try! JSONSerialization.data(withJSONObject: v, options: [.sortedKeys]), encoding: .utf8)!
}
