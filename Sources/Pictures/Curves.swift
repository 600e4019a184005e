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
        public static let vsMean = RGBColor(44, 150, 44)
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
        // Loss over the mean predictor's loss (pretraining): below the line at 1 the model
        // predicts more than the visible mean colour. Capped at 2, so that the first steps of a
        // fresh model (often 10–20× the mean predictor's) do not flatten the part that matters.
        let vsMean = byX(train, x: "step", y: { $0["loss_vs_mean"].map { min($0, 2) } })
        if !vsMean.isEmpty {
            let xs = vsMean.map(\.x)
            panels.append(Panel(title: "Loss / mean predictor's loss (capped at 2)", xTitle: "step", yTitle: "loss_vs_mean",
                                series: [Series(name: "mean predictor", color: Palette.frame,
                                                points: [(xs.min()!, 1), (xs.max()!, 1)], thickness: 1),
                                         Series(name: "loss_vs_mean", color: Palette.vsMean, points: vsMean,
                                                markers: vsMean.count <= 3)]))
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
}
