import Foundation

/// A confusion matrix as a picture: row = true class, column = predicted class, each cell
/// shaded by the share of its row (white 0 → dark blue 1) with the count written in it when
/// the cell is large enough; class names on the left and class indices along the top (names
/// when there are few classes). Sized for TensorBoard: cells shrink as classes grow, to no
/// less than 2 pixels (400 classes: 800 pixels square).
public enum ConfusionPicture {
    public static let low = RGBColor.white
    public static let high = RGBColor(8, 48, 107)

    /// `confusion[true][predicted]` = videos; `classNames` label the rows (indices if short).
    public static func render(_ confusion: [[Int]], classNames: [String], title: String = "") -> Canvas {
        let k = max(confusion.count, 1)
        let cell = max(2, min(40, 800 / k))
        let margin = 10
        let names = (0..<k).map { $0 < classNames.count ? classNames[$0] : "\($0)" }
        let showNames = cell >= BitmapFont.cellHeight + 2
        let labelW = showNames ? min(240, (names.map { BitmapFont.textWidth($0) }.max() ?? 0) + 8) : 0
        let headerH = showNames ? BitmapFont.cellHeight + 6 : 0
        let titleH = title.isEmpty ? 0 : BitmapFont.cellHeight + 8
        let gridX = margin + labelW, gridY = margin + titleH + headerH
        let width = gridX + k * cell + margin
        let height = gridY + k * cell + margin
        var canvas = Canvas(width: max(width, BitmapFont.textWidth(title) + 2 * margin), height: height, background: .white)
        if !title.isEmpty { canvas.drawText(x: margin, y: margin, title, color: ReconstructionGrid.ink) }
        for (i, row) in confusion.enumerated() {
            let total = row.reduce(0, +)
            for (j, n) in row.enumerated() where j < k {
                let share = total > 0 ? Double(n) / Double(total) : 0
                let c = low.mixed(with: high, share)
                let r = PixelRect(x: gridX + j * cell, y: gridY + i * cell, width: cell, height: cell)
                canvas.fillRect(r, c)
                let text = "\(n)"
                if n > 0, BitmapFont.textWidth(text) + 2 <= cell, cell >= BitmapFont.cellHeight + 2 {
                    canvas.drawText(centeredAt: r.x + cell / 2, r.y + cell / 2, text, color: share > 0.5 ? .white : ReconstructionGrid.ink)
                }
            }
            if showNames {
                var name = names[i]
                while BitmapFont.textWidth(name) > labelW - 8, name.count > 1 { name.removeLast() }
                canvas.drawText(x: margin, y: gridY + i * cell + (cell - BitmapFont.capHeight) / 2, name, color: ReconstructionGrid.ink)
            }
        }
        if showNames {
            for j in 0..<k where BitmapFont.textWidth("\(j)") <= cell {
                canvas.drawText(centeredAt: gridX + j * cell + cell / 2, margin + titleH + headerH / 2, "\(j)", color: ReconstructionGrid.faint)
            }
        }
        canvas.strokeRect(PixelRect(x: gridX - 1, y: gridY - 1, width: k * cell + 2, height: k * cell + 2), ReconstructionGrid.faint)
        return canvas
    }
}
