import Foundation

// Reading metrics.jsonl: one record of numeric fields per JSON-object line.
extension Curves {
    /// The numeric fields of each JSON-object line (non-numbers and nulls dropped; lines
    /// that are not JSON objects skipped).
    public static func parse(jsonl text: String) -> [[String: Double]] {
        var out: [[String: Double]] = []
        var text = text
        text.withUTF8 { all in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != 10 && all[end] != 13 { end += 1 }
                let line = UnsafeBufferPointer(rebasing: all[start ..< end])
                if let rec = flatRecord(line) ?? slowRecord(line), !rec.isEmpty { out.append(rec) }
                start = end + 1
            }
        }
        return out
    }

    /// Any JSON object line, through JSONSerialization.
    static func slowRecord(_ line: UnsafeBufferPointer<UInt8>) -> [String: Double]? {
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else { return nil }
        var rec: [String: Double] = [:]
        for (k, v) in obj {
            if v is NSNull || v is String { continue }
            // Booleans come as NSNumbers too; their objCType is "c".
            if let n = v as? NSNumber, String(cString: n.objCType) != "c" {
                let d = n.doubleValue
                if d.isFinite { rec[k] = d }
            }
        }
        return rec
    }

    /// The common case, fast: a flat object of plain keys and number/null/bool/simple-string
    /// values. Returns nil for anything else (escapes, nesting, malformed), which then goes
    /// through `slowRecord`.
    static func flatRecord(_ b: UnsafeBufferPointer<UInt8>) -> [String: Double]? {
        var i = 0
        let n = b.count
        func skipSpace() { while i < n && (b[i] == 32 || b[i] == 9) { i += 1 } }
        func string() -> String? {   // at the opening quote
            guard i < n, b[i] == 34 else { return nil }
            let s = i + 1
            var e = s
            while e < n && b[e] != 34 {
                if b[e] == 92 || b[e] < 32 { return nil }   // escapes or control characters
                e += 1
            }
            guard e < n else { return nil }
            i = e + 1
            return String(decoding: UnsafeBufferPointer(rebasing: b[s ..< e]), as: UTF8.self)
        }
        skipSpace()
        guard i < n, b[i] == 123 else { return nil }   // {
        i += 1
        var rec: [String: Double] = [:]
        skipSpace()
        if i < n && b[i] == 125 { i += 1 } else {
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard i < n, b[i] == 58 else { return nil }   // :
                i += 1
                skipSpace()
                guard i < n else { return nil }
                let c = b[i]
                if c == 34 {
                    guard string() != nil else { return nil }
                } else if c == 110 || c == 116 || c == 102 {   // null, true, false
                    let word: [UInt8] = c == 110 ? Array("null".utf8) : c == 116 ? Array("true".utf8) : Array("false".utf8)
                    guard i + word.count <= n, Array(b[i ..< i + word.count]) == word else { return nil }
                    i += word.count
                } else if c == 45 || (c >= 48 && c <= 57) {   // a number
                    let s = i
                    i += 1
                    while i < n, case let d = b[i], (d >= 48 && d <= 57) || d == 46 || d == 101 || d == 69
                            || d == 43 || d == 45 { i += 1 }
                    guard let v = Double(String(decoding: UnsafeBufferPointer(rebasing: b[s ..< i]), as: UTF8.self))
                    else { return nil }
                    if v.isFinite { rec[key] = v }
                } else {
                    return nil   // nested object or array: the slow path decides
                }
                skipSpace()
                guard i < n else { return nil }
                if b[i] == 44 { i += 1; continue }   // ,
                if b[i] == 125 { i += 1; break }     // }
                return nil
            }
        }
        skipSpace()
        return i == n ? rec : nil
    }
}
