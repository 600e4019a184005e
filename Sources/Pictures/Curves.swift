import Foundation

/// Training curves from `output_dir/metrics.jsonl` as one PNG: training loss (raw and
/// smoothed) and learning rate against step; with validation lines (fine-tuning), also
/// train/val loss and val top-1/top-5 against epoch.
public enum Curves {
    /// One line of a plot.
    public struct Series {
        public var name: String
        public var color: RGBColor
        public var points: [(x: Double, y: Double)]
        public var thickness: Double
        /// Dots on the data points (drawn when there are few of them).
        public var markers: Bool

        public init(name: String, color: RGBColor, points: [(x: Double, y: Double)], thickness: Double = 2,
                    markers: Bool = false) {
            self.name = name
            self.color = color
            self.points = points
            self.thickness = thickness
            self.markers = markers
        }
    }

    /// One panel of the picture and where it landed: `plot` is the data area, and
    /// `pixel(x:y:)` maps a data point to image coordinates.
    public struct Panel {
        public var title: String
        public var xTitle: String
        public var yTitle: String
        public var series: [Series]
        public var xInteger: Bool
        /// Percent axis: kept within 0…100.
        public var percent: Bool
        public internal(set) var plot = PixelRect(x: 0, y: 0, width: 0, height: 0)
        public internal(set) var xRange: ClosedRange<Double> = 0 ... 1
        public internal(set) var yRange: ClosedRange<Double> = 0 ... 1

        public init(title: String, xTitle: String, yTitle: String, series: [Series], xInteger: Bool = true,
                    percent: Bool = false) {
            self.title = title
            self.xTitle = xTitle
            self.yTitle = yTitle
            self.series = series
            self.xInteger = xInteger
            self.percent = percent
        }

        public func pixel(x: Double, y: Double) -> (x: Double, y: Double) {
            let xs = xRange.upperBound - xRange.lowerBound, ys = yRange.upperBound - yRange.lowerBound
            let px = Double(plot.x) + (x - xRange.lowerBound) / xs * Double(plot.width - 1)
            let py = Double(plot.maxY - 1) - (y - yRange.lowerBound) / ys * Double(plot.height - 1)
            return (px, py)
        }
    }

    /// Colours of the lines.
    public enum Palette {
        public static let background = RGBColor.white
        public static let ink = RGBColor(34, 34, 34)
        public static let faint = RGBColor(110, 110, 110)
        public static let grid = RGBColor(230, 230, 230)
        public static let frame = RGBColor(150, 150, 150)
        public static let lossRaw = RGBColor(158, 202, 225)
        public static let lossSmooth = RGBColor(31, 100, 180)
        public static let lr = RGBColor(230, 120, 10)
        public static let trainLoss = RGBColor(31, 100, 180)
        public static let valLoss = RGBColor(214, 39, 40)
        public static let top1 = RGBColor(44, 150, 44)
        public static let top5 = RGBColor(148, 103, 189)
    }

    // MARK: entry point

    /// Reads `metricsPath` (one JSON object per line; malformed lines are skipped) and writes
    /// the curves to `out` as a PNG. With nothing to plot yet (no file, or no usable line)
    /// it still writes a picture that says so. Returns the panels drawn.
    @discardableResult
    public static func draw(metricsPath: String, out: String, width: Int = 1200, height: Int = 800) throws -> [Panel] {
        let text: String?
        if let data = FileManager.default.contents(atPath: metricsPath) {
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = nil
        }
        let records = parse(jsonl: text ?? "")
        let name = URL(fileURLWithPath: metricsPath).deletingLastPathComponent().lastPathComponent
        let title = name.isEmpty ? "vmae training curves" : "vmae training curves - \(name)"
        var (canvas, panels) = render(records: records, title: title, width: width, height: height)
        if panels.isEmpty {
            let why = text == nil ? "\(metricsPath) does not exist yet"
                : "\(metricsPath) has no metric lines yet"
            canvas = noData(width: width, height: height, title: title, detail: why)
        }
        try canvas.save(path: out)
        return panels
    }

    // MARK: reading

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

    // MARK: panels from records

    static let valKeys = ["val_loss", "val_top1", "val_top5"]

    /// The panels a set of records asks for (empty when there is nothing to plot).
    public static func panels(records: [[String: Double]]) -> [Panel] {
        let val = records.filter { r in valKeys.contains { r[$0] != nil } }
        let train = records.filter { r in r["step"] != nil && !valKeys.contains { r[$0] != nil } }
        var panels: [Panel] = []

        // Loss against step, raw and smoothed.
        let loss = byX(train, x: "step", y: { $0["loss"] ?? $0["train_loss"] })
        if !loss.isEmpty {
            var series = [Series(name: "loss", color: Palette.lossRaw, points: loss, thickness: 1.2,
                                 markers: loss.count <= 3)]
            if loss.count >= 8 {
                series.append(Series(name: "smoothed", color: Palette.lossSmooth, points: smooth(loss), thickness: 2.2))
            } else {
                series[0].color = Palette.lossSmooth
                series[0].markers = true
                series[0].thickness = 2
            }
            panels.append(Panel(title: "Training loss", xTitle: "step", yTitle: "loss", series: series))
        }
        let lr = byX(train, x: "step", y: { $0["lr"] })
        if !lr.isEmpty {
            panels.append(Panel(title: "Learning rate", xTitle: "step", yTitle: "lr",
                                series: [Series(name: "lr", color: Palette.lr, points: lr, markers: lr.count <= 3)]))
        }

        if !val.isEmpty {
            let xKey = val.allSatisfy({ $0["epoch"] != nil }) ? "epoch" : "step"
            // Train loss per epoch: the validation line's own train_loss, else the mean of
            // the training lines of that epoch.
            var trainLoss = byX(val, x: xKey, y: { $0["train_loss"] })
            if trainLoss.isEmpty && xKey == "epoch" {
                var sums: [Double: (Double, Int)] = [:]
                for r in train {
                    guard let e = r["epoch"], let l = r["loss"] ?? r["train_loss"] else { continue }
                    let s = sums[e] ?? (0, 0)
                    sums[e] = (s.0 + l, s.1 + 1)
                }
                trainLoss = sums.keys.sorted().map { (x: $0, y: sums[$0]!.0 / Double(sums[$0]!.1)) }
            }
            let valLoss = byX(val, x: xKey, y: { $0["val_loss"] })
            if !trainLoss.isEmpty || !valLoss.isEmpty {
                var s: [Series] = []
                if !trainLoss.isEmpty {
                    s.append(Series(name: "train loss", color: Palette.trainLoss, points: trainLoss,
                                    markers: trainLoss.count <= 40))
                }
                if !valLoss.isEmpty {
                    s.append(Series(name: "val loss", color: Palette.valLoss, points: valLoss,
                                    markers: valLoss.count <= 40))
                }
                panels.append(Panel(title: "Loss per \(xKey)", xTitle: xKey, yTitle: "loss", series: s))
            }
            let top1 = byX(val, x: xKey, y: { $0["val_top1"] })
            let top5 = byX(val, x: xKey, y: { $0["val_top5"] })
            if !top1.isEmpty || !top5.isEmpty {
                var s: [Series] = []
                if !top1.isEmpty {
                    s.append(Series(name: "val top-1", color: Palette.top1, points: top1, markers: top1.count <= 40))
                }
                if !top5.isEmpty {
                    s.append(Series(name: "val top-5", color: Palette.top5, points: top5, markers: top5.count <= 40))
                }
                panels.append(Panel(title: "Validation accuracy", xTitle: xKey, yTitle: "accuracy (%)", series: s,
                                    percent: true))
            }
        }
        return panels
    }

    /// Points (x, y) sorted by x; for a repeated x (a resumed run logs steps again) the last
    /// line wins.
    static func byX(_ records: [[String: Double]], x: String, y: ([String: Double]) -> Double?) -> [(x: Double, y: Double)] {
        var latest: [Double: Double] = [:]
        for r in records {
            guard let xv = r[x], let yv = y(r) else { continue }
            latest[xv] = yv
        }
        return latest.keys.sorted().map { (x: $0, y: latest[$0]!) }
    }

    /// Exponential moving average with bias correction (as TensorBoard), its window about
    /// 1/50 of the points (~20 pixels of a 1000-pixel plot), so the lag stays small.
    public static func smooth(_ pts: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        let window = max(2.0, Double(pts.count) / 50)
        let w = 1 - 2 / (window + 1)
        var ema = 0.0, norm = 0.0
        return pts.map { p in
            ema = w * ema + (1 - w) * p.y
            norm = w * norm + (1 - w)
            return (p.x, ema / norm)
        }
    }

    // MARK: ticks

    /// The 1, 2 or 5 × 10^k step nearest `raw` (on a log scale).
    public static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let e = (log10(raw)).rounded(.down)
        let p = pow(10, e)
        let f = raw / p
        let m: Double = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        return m * p
    }

    /// Ticks at multiples of a nice step within `lo…hi`, about `count` of them (at least 2 when
    /// the range allows). `integer` keeps the step ≥ 1.
    public static func niceTicks(lo: Double, hi: Double, count: Int, integer: Bool = false) -> (ticks: [Double], step: Double) {
        var step = niceStep((hi - lo) / Double(max(1, count)))
        if integer { step = max(step, 1) }
        let first = (lo / step - 1e-9).rounded(.up)
        var ticks: [Double] = []
        var k = first
        while k * step <= hi + step * 1e-9 && ticks.count < 1000 {
            let v = k * step
            ticks.append(abs(v) < step * 1e-9 ? 0 : v)
            k += 1
        }
        return (ticks, step)
    }

    /// Tick labels for ticks `step` apart: fixed-point with as many decimals as the step
    /// needs, or `3e-4`-style when the values are tiny (< 0.01) or huge (≥ 10^6).
    public static func tickLabels(_ ticks: [Double], step: Double) -> [String] {
        let maxAbs = ticks.map { abs($0) }.max() ?? 0
        let scientific = maxAbs > 0 && (maxAbs < 1e-2 || maxAbs >= 1e6)
        let stepExp = Int((log10(step) + 1e-9).rounded(.down))
        return ticks.map { v in
            if v == 0 { return "0" }
            if !v.isFinite { return "" }
            if scientific {
                var e = Int((log10(abs(v)) + 1e-9).rounded(.down))
                var digits = max(0, e - stepExp)
                var m = v / pow(10, Double(e))
                if abs((m * pow(10, Double(digits))).rounded()) >= 10 * pow(10, Double(digits)) {
                    e += 1
                    m /= 10
                    digits = max(0, e - stepExp)
                }
                var ms = String(format: "%.\(digits)f", m)
                if ms.contains(".") {
                    while ms.hasSuffix("0") { ms.removeLast() }
                    if ms.hasSuffix(".") { ms.removeLast() }
                }
                return "\(ms)e\(e)"
            }
            let decimals = max(0, -stepExp)
            return String(format: "%.\(decimals)f", v)
        }
    }

    /// A count (step, epoch) as an integer when it is one of reasonable size.
    static func whole(_ v: Double) -> String {
        abs(v) < 1e15 && v == v.rounded() ? String(Int(v)) : String(format: "%g", v)
    }

    /// A short number for the header line.
    static func short(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) < 1e-2 || abs(v) >= 1e6 { return String(format: "%.2e", v) }
        if abs(v) >= 100 { return String(format: "%.1f", v) }
        return String(format: "%.4f", v)
    }

    // MARK: drawing

    /// Draws the panels `records` ask for; returns an empty panel list (and a blank canvas)
    /// when there is nothing to plot.
    public static func render(records: [[String: Double]], title: String, width: Int = 1200,
                              height: Int = 800) -> (Canvas, [Panel]) {
        let width = min(max(width, 320), 2000), height = min(max(height, 240), 2000)
        var canvas = Canvas(width: width, height: height, background: Palette.background)
        var panels = panels(records: records)
        guard !panels.isEmpty else { return (canvas, []) }
        let s = width >= 900 && height >= 600 ? 2 : 1

        // Header: title on the left, the latest numbers on the right.
        let headerH = (BitmapFont.cellHeight + 8) * s
        canvas.drawText(x: 10 * s, y: 5 * s, title, color: Palette.ink, scale: s)
        // The latest numbers, as many as fit beside the title (most useful first).
        var parts = summaryParts(records)
        let room = width - 20 * s - BitmapFont.textWidth(title, scale: s) - 30 * s
        while !parts.isEmpty && BitmapFont.textWidth(parts.joined(separator: "  "), scale: s) > room {
            parts.removeLast()
        }
        let summary = parts.joined(separator: "  ")
        let sw = BitmapFont.textWidth(summary, scale: s)
        canvas.drawText(x: width - 10 * s - sw, y: 5 * s, summary, color: Palette.faint, scale: s)
        canvas.fillRect(PixelRect(x: 0, y: headerH - 1, width: width, height: 1), Palette.grid)

        // Up to two panels stacked; more go two by two.
        let cols = panels.count <= 2 ? 1 : 2
        let rows = (panels.count + cols - 1) / cols
        let cellW = width / cols, cellH = (height - headerH) / rows
        let allAxes = panels.map { axes($0, cellHeight: cellH, scale: s) }
        for (i, a) in allAxes.enumerated() {
            guard let a else { continue }
            let column = allAxes.enumerated().filter { $0.offset % cols == i % cols }
            let labelW = column.compactMap { $0.element?.yLabelWidth }.max() ?? a.yLabelWidth
            let cell = PixelRect(x: (i % cols) * cellW, y: headerH + (i / cols) * cellH, width: cellW, height: cellH)
            drawPanel(&panels[i], axes: a, labelWidth: labelW, in: cell, on: &canvas, scale: s)
        }
        return (canvas, panels)
    }

    /// The latest numbers for the header, most useful first.
    static func summaryParts(_ records: [[String: Double]]) -> [String] {
        var parts: [String] = []
        let last = records.last(where: { r in r["step"] != nil && !valKeys.contains { r[$0] != nil } })
        if let st = last?["step"] { parts.append("step \(whole(st))") }
        if let l = last?["loss"] ?? last?["train_loss"] { parts.append("loss \(short(l))") }
        if let v = records.last(where: { $0["val_top1"] != nil }), let t1 = v["val_top1"] {
            parts.append(String(format: "val top-1 %.1f%%", t1))
        }
        if let lr = last?["lr"] { parts.append("lr \(String(format: "%.2e", lr))") }
        if let e = last?["epoch"] { parts.append("epoch \(whole(e))") }
        return parts
    }

    /// A pixel coordinate as an Int that cannot trap (far-off values are clamped, NaN is 0).
    static func pixelInt(_ v: Double) -> Int { v.isNaN ? 0 : Int(min(max(v, -1e7), 1e7).rounded()) }

    /// A panel's data ranges and its y ticks (labels and their width included).
    public struct Axes {
        public var xlo, xhi, ylo, yhi: Double
        public var yTicks: [Double]
        public var yLabels: [String]
        public var yLabelWidth: Int
    }

    public static func axes(_ panel: Panel, cellHeight: Int, scale s: Int) -> Axes? {
        let all = panel.series.flatMap { $0.points }
        guard !all.isEmpty else { return nil }
        var xlo = all.map { $0.x }.min()!, xhi = all.map { $0.x }.max()!
        var ylo = all.map { $0.y }.min()!, yhi = all.map { $0.y }.max()!
        // Absurd magnitudes: keep the axes within ±1e306 so that widening them cannot overflow.
        (ylo, yhi) = (min(max(ylo, -1e306), 1e306), max(min(yhi, 1e306), -1e306))
        (xlo, xhi) = (min(max(xlo, -1e306), 1e306), max(min(xhi, 1e306), -1e306))
        // Steps counted from 1 (or a little later) read better from 0.
        if panel.xInteger && xlo > 0 && xlo <= 0.1 * (xhi - xlo) { xlo = 0 }
        if xhi - xlo < 1e-12 {
            // One x value: centre it in a small range.
            let d = max(panel.xInteger ? 1 : 1e-9, abs(xlo) * 0.1)
            xlo -= d
            xhi += d
        }
        if yhi - ylo < max(abs(yhi), abs(ylo)) * 1e-9 || yhi - ylo < 1e-300 {
            let d = abs(ylo) > 1e-300 ? abs(ylo) * 0.1 : 1
            ylo -= d
            yhi += d
        }
        let pad = (yhi - ylo) * 0.04
        ylo -= pad
        yhi += pad
        if panel.percent {
            ylo = max(ylo, 0)
            yhi = min(yhi, 100)
        }
        // Nonnegative data (loss, lr) need no axis below zero.
        if all.allSatisfy({ $0.y >= 0 }) { ylo = max(ylo, 0) }

        // The y axis is first widened to whole steps, then labelled.
        let yCount = max(3, min(8, (cellHeight - 40 * s) / (32 * s)))
        var yt = niceTicks(lo: ylo, hi: yhi, count: yCount)
        ylo = (ylo / yt.step).rounded(.down) * yt.step
        yhi = (yhi / yt.step).rounded(.up) * yt.step
        if panel.percent { ylo = max(ylo, 0); yhi = min(max(yhi, ylo + yt.step), 100) }
        yt = niceTicks(lo: ylo, hi: yhi, count: yCount)
        let yLabels = tickLabels(yt.ticks, step: yt.step)
        let yLabelW = yLabels.map { BitmapFont.textWidth($0, scale: s) }.max() ?? 0
        return Axes(xlo: xlo, xhi: xhi, ylo: ylo, yhi: yhi, yTicks: yt.ticks, yLabels: yLabels, yLabelWidth: yLabelW)
    }

    /// Draws a panel in `cell`, leaving `labelWidth` pixels for the y tick labels (the
    /// widest of the column, so that plots stacked in a column line up).
    public static func drawPanel(_ panel: inout Panel, axes: Axes, labelWidth yLabelW: Int, in cell: PixelRect,
                          on canvas: inout Canvas, scale s: Int) {
        let (xlo, xhi, ylo, yhi) = (axes.xlo, axes.xhi, axes.ylo, axes.yhi)
        let yLabels = axes.yLabels

        let tick = 4 * s, gap = 4 * s
        let textH = BitmapFont.cellHeight * s
        let left = cell.x + 8 * s + textH + 3 * gap + yLabelW + gap + tick
        let right = cell.maxX - 14 * s
        let top = cell.y + 8 * s + textH + 6 * s
        let bottom = cell.maxY - (tick + gap + textH + gap + textH + 6 * s)
        let plot = PixelRect(x: left, y: top, width: max(10, right - left), height: max(10, bottom - top))

        // x ticks: as many as fit beside their labels.
        // x ticks: as many as leave room between their labels.
        var xCount = 10
        var xt = niceTicks(lo: xlo, hi: xhi, count: xCount, integer: panel.xInteger)
        var xLabels = tickLabels(xt.ticks, step: xt.step)
        while xCount > 2 {
            let widest = xLabels.map { BitmapFont.textWidth($0, scale: s) }.max() ?? 0
            let spacing = xt.step / (xhi - xlo) * Double(plot.width)
            if Double(widest + 12 * s) <= spacing { break }
            xCount -= 1
            xt = niceTicks(lo: xlo, hi: xhi, count: xCount, integer: panel.xInteger)
            xLabels = tickLabels(xt.ticks, step: xt.step)
        }

        panel.plot = plot
        panel.xRange = xlo ... xhi
        panel.yRange = ylo ... yhi

        // Grid, frame, ticks and their labels.
        for v in axes.yTicks {
            let py = pixelInt(panel.pixel(x: xlo, y: v).y)
            canvas.fillRect(PixelRect(x: plot.x, y: py, width: plot.width, height: 1), Palette.grid)
        }
        for v in xt.ticks {
            let px = pixelInt(panel.pixel(x: v, y: ylo).x)
            canvas.fillRect(PixelRect(x: px, y: plot.y, width: 1, height: plot.height), Palette.grid)
        }
        canvas.strokeRect(PixelRect(x: plot.x - 1, y: plot.y - 1, width: plot.width + 2, height: plot.height + 2),
                          Palette.frame)
        for (v, label) in zip(axes.yTicks, yLabels) {
            let py = pixelInt(panel.pixel(x: xlo, y: v).y)
            canvas.fillRect(PixelRect(x: plot.x - 1 - tick, y: py, width: tick, height: max(1, s / 2 + 0)), Palette.ink)
            let w = BitmapFont.textWidth(label, scale: s)
            canvas.drawText(x: plot.x - 1 - tick - gap - w, y: py - BitmapFont.capHeight * s / 2, label,
                            color: Palette.ink, scale: s)
        }
        var lastLabelEnd = Int.min
        for (v, label) in zip(xt.ticks, xLabels) {
            let px = pixelInt(panel.pixel(x: v, y: ylo).x)
            canvas.fillRect(PixelRect(x: px, y: plot.maxY + 1, width: max(1, s / 2), height: tick), Palette.ink)
            let w = BitmapFont.textWidth(label, scale: s)
            let lx = min(max(px - w / 2, cell.x + 2), cell.maxX - 2 - w)
            if lx > lastLabelEnd + 6 * s {
                canvas.drawText(x: lx, y: plot.maxY + 1 + tick + gap, label, color: Palette.ink, scale: s)
                lastLabelEnd = lx + w
            }
        }

        // Titles: panel title above the plot, axis titles below and to the left.
        canvas.drawText(x: plot.x, y: cell.y + 8 * s, panel.title, color: Palette.ink, scale: s)
        canvas.drawText(centeredAt: plot.x + plot.width / 2, plot.maxY + 1 + tick + gap + textH + gap + textH / 2,
                        panel.xTitle, color: Palette.faint, scale: s)
        canvas.drawText(centeredAt: cell.x + 8 * s + textH / 2, plot.y + plot.height / 2, panel.yTitle,
                        color: Palette.faint, scale: s, vertical: true)

        // The data, clipped to the plot.
        let saved = canvas.clip
        canvas.clip = plot
        for series in panel.series {
            let pts = series.points.map { panel.pixel(x: $0.x, y: $0.y) }
            canvas.polyline(pts, series.color, thickness: series.thickness * Double(s) / 1.5 + 0.3)
            if series.markers {
                for p in pts { canvas.fillCircle(cx: p.x, cy: p.y, radius: 2.2 * Double(s), series.color) }
            }
        }
        canvas.clip = saved

        // Legend: a short stroke and the name per series, right-aligned on the title line
        // when it fits there, else in a box in the plot corner the data leave most free.
        let stroke = 18 * s, sep = 4 * s, between = 14 * s
        let names = panel.series.map { ($0, BitmapFont.textWidth($0.name, scale: s)) }
        let inline = names.reduce(0) { $0 + stroke + sep + $1.1 } + between * max(0, names.count - 1)
        func entry(_ series: Series, x: Int, y: Int) {
            let my = Double(y + BitmapFont.capHeight * s / 2)
            canvas.smoothLine(x0: Double(x), y0: my, x1: Double(x + stroke), y1: my, series.color,
                              thickness: max(2, series.thickness) * Double(s) / 1.5)
            canvas.drawText(x: x + stroke + sep, y: y, series.name, color: Palette.ink, scale: s)
        }
        if BitmapFont.textWidth(panel.title, scale: s) + 20 * s + inline <= plot.width {
            var lx = plot.maxX - inline
            for (series, w) in names {
                entry(series, x: lx, y: cell.y + 8 * s)
                lx += stroke + sep + w + between
            }
        } else {
            let pad = 6 * s
            let bw = stroke + sep + (names.map { $0.1 }.max() ?? 0) + 2 * pad
            let bh = names.count * BitmapFont.lineHeight * s - (BitmapFont.lineHeight - BitmapFont.capHeight) * s + 2 * pad
            let m = 6 * s
            let corners = [PixelRect(x: plot.maxX - m - bw, y: plot.y + m, width: bw, height: bh),
                           PixelRect(x: plot.maxX - m - bw, y: plot.maxY - m - bh, width: bw, height: bh),
                           PixelRect(x: plot.x + m, y: plot.y + m, width: bw, height: bh),
                           PixelRect(x: plot.x + m, y: plot.maxY - m - bh, width: bw, height: bh)]
            // Data points (and points between them) that each corner would hide.
            func hidden(_ r: PixelRect) -> Int {
                var n = 0
                for series in panel.series {
                    let pts = series.points.map { panel.pixel(x: $0.x, y: $0.y) }
                    guard let lastPoint = pts.last else { continue }
                    for (a, b) in zip(pts, pts.dropFirst() + [lastPoint]) {
                        for t in stride(from: 0.0, to: 1.0, by: 0.25) {
                            let x = pixelInt(a.x + (b.x - a.x) * t), y = pixelInt(a.y + (b.y - a.y) * t)
                            if r.inset(by: -2 * s).contains(x: x, y: y) { n += 1 }
                        }
                    }
                }
                return n
            }
            let cost = corners.map(hidden)
            let box = corners[cost.firstIndex(of: cost.min()!)!]
            canvas.fillRect(box, Palette.background)
            canvas.strokeRect(box, Palette.frame)
            for (k, (series, _)) in names.enumerated() {
                entry(series, x: box.x + pad, y: box.y + pad + k * BitmapFont.lineHeight * s)
            }
        }
    }

    /// A picture that says there is nothing to plot yet.
    static func noData(width: Int, height: Int, title: String, detail: String) -> Canvas {
        let width = min(max(width, 320), 2000), height = min(max(height, 240), 2000)
        var canvas = Canvas(width: width, height: height, background: Palette.background)
        let big = max(2, min(6, width / 200))
        let small = max(1, big / 3)
        canvas.drawText(x: 10 * small, y: 5 * small, title, color: Palette.ink, scale: small)
        canvas.drawText(centeredAt: width / 2, height / 2 - 10 * small, "no data yet", color: Palette.faint, scale: big)
        var d = detail
        let maxChars = (width - 20) / (BitmapFont.advance * small)
        if d.count > maxChars, maxChars > 4 { d = "..." + d.suffix(maxChars - 3) }
        canvas.drawText(centeredAt: width / 2, height / 2 + BitmapFont.cellHeight * big + 10 * small, d,
                        color: Palette.faint, scale: small)
        return canvas
    }
}
