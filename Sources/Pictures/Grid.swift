import Foundation

/// A grid of video frames as one PNG: one row per version of the clip ("original",
/// "masked", "reconstruction", …) with its label on the left, one column per frame with the
/// frame's index on top. Every frame is shown: small frames are enlarged and, when the grid
/// would be wider than `maxWidth`, every cell shrinks alike (nearest neighbour). Only when a
/// cell would be narrower than `minCell` pixels (a clip of 70+ frames in 2000 pixels) are
/// columns dropped evenly, first and last frame kept; the column headers name the frames shown.
public enum ReconstructionGrid {
    /// Where things landed.
    public struct Layout: Equatable {
        /// Source frame index shown in each column.
        public var columns: [Int]
        /// Rectangle of each cell, `cells[row][column]`.
        public var cells: [[PixelRect]]
        public var width: Int
        public var height: Int
    }

    public static let background = RGBColor.white
    public static let ink = RGBColor(34, 34, 34)
    public static let faint = RGBColor(110, 110, 110)
    public static let empty = RGBColor(235, 235, 235)
    /// The narrowest cell before columns are dropped.
    public static let minCell = 16

    /// Draws the grid and writes it to `out` as a PNG; its width never exceeds `maxWidth`
    /// (taken as at least 64). Missing frames (a shorter row) show as empty grey cells.
    @discardableResult
    public static func draw(rows: [[RGBFrame]], labels: [String], out: String, maxWidth: Int = 2000) throws -> Layout {
        let (canvas, layout) = render(rows: rows, labels: labels, maxWidth: maxWidth)
        try canvas.save(path: out)
        return layout
    }

    /// `k` indices spread evenly over `0 ..< n`, first and last included.
    public static func evenlySpaced(count n: Int, keep k: Int) -> [Int] {
        guard n > 0 else { return [] }
        let k = min(max(k, 1), n)
        if k == 1 { return [0] }
        return (0 ..< k).map { j in Int((Double(j) * Double(n - 1) / Double(k - 1)).rounded()) }
    }

    public static func render(rows: [[RGBFrame]], labels: [String], maxWidth: Int = 2000) -> (Canvas, Layout) {
        let maxWidth = max(64, maxWidth)
        let nCols = rows.map { $0.count }.max() ?? 0
        let frames = rows.flatMap { $0 }.filter(usable)
        let fw = frames.map { $0.width }.max() ?? 64, fh = frames.map { $0.height }.max() ?? 64
        let labels = (0 ..< rows.count).map { $0 < labels.count ? labels[$0] : "" }

        // Text: scale 2 unless the labels would crowd out the frames.
        var s = 2
        func labelWidth(_ s: Int) -> Int {
            let w = labels.map { BitmapFont.textWidth($0, scale: s) }.max() ?? 0
            return w == 0 ? 0 : w + 10 * s
        }
        let margin = 10, spacing = 4
        if labelWidth(2) > maxWidth / 3 { s = 1 }
        var labelW = labelWidth(s)
        if labelW > maxWidth / 2 { labelW = 0 }   // no room: drop the labels
        let avail = maxWidth - 2 * margin - labelW

        // Cell size: enlarge small frames up to ~112 px tall while every column fits;
        // otherwise shrink every cell until all columns fit; only below `minCell` drop columns
        // (and if not even one fits, shrink the one cell).
        var cellW = fw, cellH = fh
        var keep = max(nCols, 1)
        func fits(_ cw: Int, _ k: Int) -> Bool { k * cw + (k - 1) * spacing <= avail }
        let maxUp = max(1, 112 / max(fh, 1))
        let floorW = min(fw, minCell)
        if let f = stride(from: maxUp, through: 1, by: -1).first(where: { fits(fw * $0, keep) }) {
            cellW = fw * f
            cellH = fh * f
        } else if (avail - (keep - 1) * spacing) / keep >= floorW {
            cellW = (avail - (keep - 1) * spacing) / keep
            cellH = max(1, fh * cellW / max(fw, 1))
        } else {
            keep = max(1, (avail + spacing) / (floorW + spacing))
            cellW = fits(floorW, keep) ? floorW : max(1, avail)
            cellH = max(1, fh * cellW / max(fw, 1))
        }
        let columns = evenlySpaced(count: nCols, keep: keep)

        // Column headers: "frame i" when it fits, else just "i".
        let headerS = cellW >= 6 * BitmapFont.advance * s ? s : 1
        let headerH = nCols > 0 ? BitmapFont.cellHeight * headerS + 6 : 0
        let k = columns.count
        let width = max(1, min(maxWidth, 2 * margin + labelW + max(1, k) * cellW + max(0, k - 1) * spacing))
        let height = 2 * margin + headerH + rows.count * cellH + max(0, rows.count - 1) * spacing
        var canvas = Canvas(width: width, height: max(1, height), background: background)

        let x0 = margin + labelW, y0 = margin + headerH
        for (j, src) in columns.enumerated() {
            let cx = x0 + j * (cellW + spacing)
            var text = "frame \(src)"
            if BitmapFont.textWidth(text, scale: headerS) > cellW { text = "\(src)" }
            if BitmapFont.textWidth(text, scale: headerS) <= cellW + spacing {
                canvas.drawText(x: cx + (cellW - BitmapFont.textWidth(text, scale: headerS)) / 2, y: margin,
                                text, color: faint, scale: headerS)
            }
        }
        var cells: [[PixelRect]] = []
        for (i, row) in rows.enumerated() {
            let cy = y0 + i * (cellH + spacing)
            if labelW > 0 {
                canvas.drawText(x: margin, y: cy + cellH / 2 - BitmapFont.capHeight * s / 2, labels[i], color: ink,
                                scale: s)
            }
            var rowCells: [PixelRect] = []
            for (j, src) in columns.enumerated() {
                let cell = PixelRect(x: x0 + j * (cellW + spacing), y: cy, width: cellW, height: cellH)
                rowCells.append(cell)
                guard src < row.count, usable(row[src]) else {
                    canvas.fillRect(cell, empty)
                    continue
                }
                canvas.blit(row[src], into: fitted(row[src], in: cell))
            }
            cells.append(rowCells)
        }
        return (canvas, Layout(columns: columns, cells: cells, width: canvas.width, height: canvas.height))
    }

    /// A frame with pixels whose byte count matches its size (others show as empty cells).
    static func usable(_ f: RGBFrame) -> Bool {
        f.width > 0 && f.height > 0 && f.rgb.count == f.width * f.height * 3
    }

    /// The largest rectangle with the frame's aspect ratio, centred in `cell`.
    static func fitted(_ f: RGBFrame, in cell: PixelRect) -> PixelRect {
        if f.width * cell.height == f.height * cell.width { return cell }
        if f.width * cell.height > f.height * cell.width {
            let h = max(1, f.height * cell.width / f.width)
            return PixelRect(x: cell.x, y: cell.y + (cell.height - h) / 2, width: cell.width, height: h)
        }
        let w = max(1, f.width * cell.height / f.height)
        return PixelRect(x: cell.x + (cell.width - w) / 2, y: cell.y, width: w, height: cell.height)
    }

    // MARK: masks

    /// Greys out, on each frame listed in `frameIndices`, the `patchSize × patchSize` squares
    /// at spatial token positions `positions` (`y · (W/p) + x`, W the frame width). Positions
    /// or frame indices out of range are ignored. `strength` 1 paints solid grey.
    public static func greyOutTubelets(_ frames: [RGBFrame], patchSize p: Int, frameIndices: [Int], positions: [Int],
                                       strength: Double = 1, grey: RGBColor = .maskGrey) -> [RGBFrame] {
        guard p > 0 else { return frames }
        var out = frames
        for fi in Set(frameIndices) where fi >= 0 && fi < out.count {
            let f = out[fi]
            let gw = f.width / p, gh = f.height / p
            guard gw > 0, gh > 0 else { continue }
            var c = Canvas(frame: f)
            for pos in Set(positions) where pos >= 0 && pos < gw * gh {
                c.greyOut(PixelRect(x: (pos % gw) * p, y: (pos / gw) * p, width: p, height: p), grey: grey,
                          strength: strength)
            }
            out[fi] = c.frame
        }
        return out
    }

    /// Greys out the masked tubelets of a clip given the model's token mask: token
    /// `n = i · Ns + y · (W/p) + x` (Ns = (H/p)(W/p)) covers frames `i·t ..< (i+1)·t`.
    /// Mask entries beyond the clip are ignored.
    public static func greyOutMasked(_ frames: [RGBFrame], patchSize p: Int, tubeletSize t: Int, mask: [Bool],
                                     strength: Double = 1, grey: RGBColor = .maskGrey) -> [RGBFrame] {
        guard p > 0, t > 0, let first = frames.first else { return frames }
        let ns = (first.width / p) * (first.height / p)
        guard ns > 0 else { return frames }
        var out = frames
        for i in 0 ..< (mask.count + ns - 1) / ns {
            let positions = (0 ..< ns).filter { i * ns + $0 < mask.count && mask[i * ns + $0] }
            guard !positions.isEmpty else { continue }
            out = greyOutTubelets(out, patchSize: p, frameIndices: Array(i * t ..< (i + 1) * t), positions: positions,
                                  strength: strength, grey: grey)
        }
        return out
    }
}
