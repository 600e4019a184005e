import Foundation

// Drawing the curves: the picture of all panels, one panel with its axes, and the no-data picture.
extension Curves {
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
        if let r = last?["loss_vs_mean"] { parts.append("vs mean \(short(r))") }
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
