import Foundation

/// A built-in 5×7 bitmap font (capitals and digits 7 pixels tall; g j p q y , _ reach two
/// pixels below the baseline), so pictures need no font files. Each glyph sits in a 6×9 cell
/// (one column of spacing); characters it does not know are drawn as a hollow box.
public enum BitmapFont {
    /// Ink columns of a glyph.
    public static let glyphWidth = 5
    /// Horizontal advance per character, spacing included.
    public static let advance = 6
    /// Rows from the top of a capital to the baseline.
    public static let capHeight = 7
    /// Rows of a cell: capital height plus two rows of descender.
    public static let cellHeight = 9
    /// Distance between the tops of two lines of text.
    public static let lineHeight = 11

    /// The size in pixels of the box `drawText` fills for `text` at `scale`: the widest line
    /// (without the trailing spacing column) by the lines' cells.
    public static func textSize(_ text: String, scale: Int = 1) -> (width: Int, height: Int) {
        let s = max(1, scale)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let widest = lines.map { $0.count }.max() ?? 0
        let w = widest == 0 ? 0 : (widest * advance - 1) * s
        let h = ((lines.count - 1) * lineHeight + cellHeight) * s
        return (w, h)
    }

    public static func textWidth(_ text: String, scale: Int = 1) -> Int { textSize(text, scale: scale).width }

    /// Whether `c` has a glyph of its own (else it is drawn as a box).
    public static func hasGlyph(_ c: Character) -> Bool { glyphs[c] != nil }

    /// Rows of a glyph as bit masks (bit 4 = leftmost column), `cellHeight` rows.
    static func rows(_ c: Character) -> [UInt8] { glyphs[c] ?? box }

    static let box: [UInt8] = parse("##### #...# #...# #...# #...# #...# #####")

    static func parse(_ s: String) -> [UInt8] {
        var rows = s.split(separator: " ").map { row -> UInt8 in
            var bits: UInt8 = 0
            for ch in row { bits = (bits << 1) | (ch == "#" ? 1 : 0) }
            return bits << UInt8(max(0, 5 - row.count))
        }
        while rows.count < cellHeight { rows.append(0) }
        return Array(rows.prefix(cellHeight))
    }

    static let glyphs: [Character: [UInt8]] = {
        var g: [Character: [UInt8]] = [:]
        for (c, s) in table { g[c] = parse(s) }
        return g
    }()

    // Seven rows (cap height) and, for descenders, up to two more; '#' is ink.
    static let table: [(Character, String)] = [
        (" ", "....."),
        ("0", ".###. #...# #..## #.#.# ##..# #...# .###."),
        ("1", "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
        ("2", ".###. #...# ....# ...#. ..#.. .#... #####"),
        ("3", "##### ...#. ..#.. ...#. ....# #...# .###."),
        ("4", "...#. ..##. .#.#. #..#. ##### ...#. ...#."),
        ("5", "##### #.... ####. ....# ....# #...# .###."),
        ("6", "..##. .#... #.... ####. #...# #...# .###."),
        ("7", "##### ....# ...#. ..#.. .#... .#... .#..."),
        ("8", ".###. #...# #...# .###. #...# #...# .###."),
        ("9", ".###. #...# #...# .#### ....# ...#. .##.."),
        ("A", ".###. #...# #...# ##### #...# #...# #...#"),
        ("B", "####. #...# #...# ####. #...# #...# ####."),
        ("C", ".###. #...# #.... #.... #.... #...# .###."),
        ("D", "###.. #..#. #...# #...# #...# #..#. ###.."),
        ("E", "##### #.... #.... ####. #.... #.... #####"),
        ("F", "##### #.... #.... ####. #.... #.... #...."),
        ("G", ".###. #...# #.... #.### #...# #...# .####"),
        ("H", "#...# #...# #...# ##### #...# #...# #...#"),
        ("I", ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
        ("J", "..### ...#. ...#. ...#. ...#. #..#. .##.."),
        ("K", "#...# #..#. #.#.. ##... #.#.. #..#. #...#"),
        ("L", "#.... #.... #.... #.... #.... #.... #####"),
        ("M", "#...# ##.## #.#.# #.#.# #...# #...# #...#"),
        ("N", "#...# #...# ##..# #.#.# #..## #...# #...#"),
        ("O", ".###. #...# #...# #...# #...# #...# .###."),
        ("P", "####. #...# #...# ####. #.... #.... #...."),
        ("Q", ".###. #...# #...# #...# #.#.# #..#. .##.#"),
        ("R", "####. #...# #...# ####. #.#.. #..#. #...#"),
        ("S", ".#### #.... #.... .###. ....# ....# ####."),
        ("T", "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
        ("U", "#...# #...# #...# #...# #...# #...# .###."),
        ("V", "#...# #...# #...# #...# #...# .#.#. ..#.."),
        ("W", "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."),
        ("X", "#...# #...# .#.#. ..#.. .#.#. #...# #...#"),
        ("Y", "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."),
        ("Z", "##### ....# ...#. ..#.. .#... #.... #####"),
        ("a", "..... ..... .###. ....# .#### #...# .####"),
        ("b", "#.... #.... #.##. ##..# #...# #...# ####."),
        ("c", "..... ..... .###. #.... #.... #...# .###."),
        ("d", "....# ....# .##.# #..## #...# #...# .####"),
        ("e", "..... ..... .###. #...# ##### #.... .###."),
        ("f", "..##. .#..# .#... ###.. .#... .#... .#..."),
        ("g", "..... ..... .#### #...# #...# #...# .#### ....# .###."),
        ("h", "#.... #.... #.##. ##..# #...# #...# #...#"),
        ("i", "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."),
        ("j", "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##.."),
        ("k", "#.... #.... #..#. #.#.. ##... #.#.. #..#."),
        ("l", ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
        ("m", "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#"),
        ("n", "..... ..... #.##. ##..# #...# #...# #...#"),
        ("o", "..... ..... .###. #...# #...# #...# .###."),
        ("p", "..... ..... ####. #...# #...# #...# ####. #.... #...."),
        ("q", "..... ..... .#### #...# #...# #...# .#### ....# ....#"),
        ("r", "..... ..... #.##. ##..# #.... #.... #...."),
        ("s", "..... ..... .###. #.... .###. ....# ####."),
        ("t", ".#... .#... ###.. .#... .#... .#..# ..##."),
        ("u", "..... ..... #...# #...# #...# #..## .##.#"),
        ("v", "..... ..... #...# #...# #...# .#.#. ..#.."),
        ("w", "..... ..... #...# #...# #.#.# #.#.# .#.#."),
        ("x", "..... ..... #...# .#.#. ..#.. .#.#. #...#"),
        ("y", "..... ..... #...# #...# #...# #...# .#### ....# .###."),
        ("z", "..... ..... ##### ...#. ..#.. .#... #####"),
        ("!", "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.."),
        ("\"", ".#.#. .#.#. ....."),
        ("#", ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#."),
        ("$", "..#.. .#### #.#.. .###. ..#.# ####. ..#.."),
        ("%", "##... ##..# ...#. ..#.. .#... #..## ...##"),
        ("&", ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#"),
        ("'", "..#.. ..#.. ....."),
        ("(", "...#. ..#.. .#... .#... .#... ..#.. ...#."),
        (")", ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
        ("*", "..... ..#.. #.#.# .###. #.#.# ..#.. ....."),
        ("+", "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
        (",", "..... ..... ..... ..... ..... .##.. ..#.. .#..."),
        ("-", "..... ..... ..... .###. ..... ..... ....."),
        (".", "..... ..... ..... ..... ..... .##.. .##.."),
        ("/", "..... ....# ...#. ..#.. .#... #.... ....."),
        (":", "..... .##.. .##.. ..... .##.. .##.. ....."),
        (";", "..... .##.. .##.. ..... .##.. ..#.. .#..."),
        ("<", "...#. ..#.. .#... #.... .#... ..#.. ...#."),
        ("=", "..... ..... ##### ..... ##### ..... ....."),
        (">", ".#... ..#.. ...#. ....# ...#. ..#.. .#..."),
        ("?", ".###. #...# ....# ...#. ..#.. ..... ..#.."),
        ("@", ".###. #...# #.### #.#.# #.### #.... .####"),
        ("[", ".###. .#... .#... .#... .#... .#... .###."),
        ("\\", "..... #.... .#... ..#.. ...#. ....# ....."),
        ("]", ".###. ...#. ...#. ...#. ...#. ...#. .###."),
        ("^", "..#.. .#.#. #...# ....."),
        ("_", "..... ..... ..... ..... ..... ..... ..... #####"),
        ("`", ".#... ..#.. ....."),
        ("{", "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#."),
        ("|", "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
        ("}", ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#..."),
        ("~", "..... ..... .#... #.#.# ...#. ..... ....."),
        // A few non-ASCII signs that labels like to use.
        ("·", "..... ..... ..... ..#.. ..... ..... ....."),
        ("×", "..... #...# .#.#. ..#.. .#.#. #...# ....."),
        ("–", "..... ..... ..... ####. ..... ..... ....."),
        ("—", "..... ..... ..... ##### ..... ..... ....."),
        ("−", "..... ..... ..... ##### ..... ..... ....."),
        ("…", "..... ..... ..... ..... ..... ..... #.#.#"),
        ("±", "..#.. ..#.. ##### ..#.. ..#.. ..... #####"),
        ("°", ".##.. #..#. #..#. .##.. ....."),
        ("µ", "..... ..... #...# #...# #...# ##..# #.##. #.... #...."),
        ("≤", "...#. ..#.. .#... ..#.. ...#. ..... .###."),
        ("≥", ".#... ..#.. ...#. ..#.. .#... ..... .###."),
        ("→", "..... ..#.. ...#. ##### ...#. ..#.. ....."),
    ]
}

extension Canvas {
    /// Draws `text` with the top-left corner of its box (see `BitmapFont.textSize`) at
    /// (x, y), each font pixel a `scale × scale` square. "\n" starts a new line. With
    /// `vertical`, the text runs upwards (rotated a quarter turn anticlockwise, for y-axis
    /// titles) and (x, y) is the top-left of the rotated box.
    public mutating func drawText(x: Int, y: Int, _ text: String, color: RGBColor, scale: Int = 1,
                                  vertical: Bool = false) {
        let s = max(1, scale)
        let size = BitmapFont.textSize(text, scale: s)
        var lineTop = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var cx = 0
            for ch in line {
                let rows = BitmapFont.rows(ch)
                for (gy, bits) in rows.enumerated() where bits != 0 {
                    for gx in 0 ..< BitmapFont.glyphWidth where bits & (0x10 >> UInt8(gx)) != 0 {
                        // (u, v): position inside the unrotated text box.
                        let u = cx + gx * s, v = lineTop + gy * s
                        if vertical {
                            fillRect(PixelRect(x: x + v, y: y + size.width - u - s, width: s, height: s), color)
                        } else {
                            fillRect(PixelRect(x: x + u, y: y + v, width: s, height: s), color)
                        }
                    }
                }
                cx += BitmapFont.advance * s
            }
            lineTop += BitmapFont.lineHeight * s
        }
    }

    /// Draws `text` centred on (cx, cy).
    public mutating func drawText(centeredAt cx: Int, _ cy: Int, _ text: String, color: RGBColor, scale: Int = 1,
                                  vertical: Bool = false) {
        let size = BitmapFont.textSize(text, scale: scale)
        let (w, h) = vertical ? (size.height, size.width) : (size.width, size.height)
        drawText(x: cx - w / 2, y: cy - h / 2, text, color: color, scale: scale, vertical: vertical)
    }
}
