import Foundation
import TestSupport
import VideoIO
import XCTest

@testable import Pictures

final class PicturesTests: PictureFolderTestCase {

    // MARK: canvas

    func testCanvasSavesAPNGThatDecodesToTheSamePixels() throws {
        var c = Canvas(width: 37, height: 23, background: RGBColor(10, 20, 30))
        c.fillRect(PixelRect(x: 5, y: 4, width: 10, height: 3), RGBColor(200, 0, 0))
        c.line(x0: 0, y0: 22, x1: 36, y1: 0, RGBColor(0, 255, 0))
        let path = dir + "/canvas.png"
        try c.save(path: path)
        let img = try PNGImage.read(path: path)
        XCTAssertEqual(img.width, 37)
        XCTAssertEqual(img.height, 23)
        XCTAssertEqual(img.rgb, c.rgb)
        XCTAssertEqual(c.pixel(x: 5, y: 4), RGBColor(200, 0, 0))
        XCTAssertEqual(c.pixel(x: 0, y: 22), RGBColor(0, 255, 0))
        XCTAssertEqual(c.pixel(x: 36, y: 0), RGBColor(0, 255, 0))
        // No temporary file is left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["canvas.png"])
    }

    func testDrawingIsClippedAndLinesAreContinuous() {
        var c = Canvas(width: 50, height: 40)
        c.clip = PixelRect(x: 10, y: 10, width: 20, height: 20)
        c.fillRect(PixelRect(x: -100, y: -100, width: 1000, height: 1000), .black)
        for y in 0 ..< 40 {
            for x in 0 ..< 50 {
                XCTAssertEqual(c.pixel(x: x, y: y) == .black, c.clip.contains(x: x, y: y), "(\(x), \(y))")
            }
        }
        var d = Canvas(width: 60, height: 60)
        d.smoothLine(x0: 2, y0: 5, x1: 57, y1: 40, .black, thickness: 1.5)
        // Every column between the ends has ink near the line's height.
        for x in 3 ... 56 {
            let yc = 5 + 35 * Double(x - 2) / 55
            let ink = (0 ..< 60).filter { d.pixel(x: x, y: $0).r < 128 }
            XCTAssertFalse(ink.isEmpty, "column \(x)")
            for y in ink { XCTAssertLessThan(abs(Double(y) - yc), 2.5, "column \(x)") }
        }
        d.line(x0: 0, y0: 59, x1: 59, y1: 59, .black, thickness: 2)
        XCTAssertEqual(d.pixel(x: 30, y: 59), .black)
    }

    func testBlitScalesNearestAndGreyOutTouchesOnlyItsRectangle() {
        let src = RGBFrame(width: 2, height: 1, rgb: [255, 0, 0, 0, 0, 255])
        var c = Canvas(width: 10, height: 10)
        c.blit(src, into: PixelRect(x: 1, y: 1, width: 8, height: 4))
        XCTAssertEqual(c.pixel(x: 1, y: 1), RGBColor(255, 0, 0))
        XCTAssertEqual(c.pixel(x: 4, y: 4), RGBColor(255, 0, 0))
        XCTAssertEqual(c.pixel(x: 5, y: 1), RGBColor(0, 0, 255))
        XCTAssertEqual(c.pixel(x: 8, y: 4), RGBColor(0, 0, 255))
        XCTAssertEqual(c.pixel(x: 0, y: 0), .white)
        XCTAssertEqual(c.pixel(x: 9, y: 5), .white)
        let before = c
        c.greyOut(PixelRect(x: 2, y: 2, width: 3, height: 3), strength: 1)
        for y in 0 ..< 10 {
            for x in 0 ..< 10 {
                let inside = x >= 2 && x < 5 && y >= 2 && y < 5
                XCTAssertEqual(c.pixel(x: x, y: y), inside ? .maskGrey : before.pixel(x: x, y: y))
            }
        }
    }

    // MARK: text

    func testTextInkStaysInsideItsBox() {
        for (text, scale, vertical) in [("Loss: 3.5e-4 (val) [top-1] = 95%_gjpqy", 1, false),
                                        ("step,epoch/lr+x", 2, false), ("accuracy (%)", 2, true),
                                        ("two\nlines", 3, false)] {
            var c = Canvas(width: 500, height: 300)
            let x = 13, y = 17
            c.drawText(x: x, y: y, text, color: .black, scale: scale, vertical: vertical)
            let size = BitmapFont.textSize(text, scale: scale)
            let box = vertical ? PixelRect(x: x, y: y, width: size.height, height: size.width)
                : PixelRect(x: x, y: y, width: size.width, height: size.height)
            var ink = 0
            var reachesRight = false, reachesBottom = false
            for py in 0 ..< c.height {
                for px in 0 ..< c.width where c.pixel(x: px, y: py) != .white {
                    XCTAssertTrue(box.contains(x: px, y: py), "\(text): ink at (\(px), \(py)) outside \(box)")
                    ink += 1
                    if px >= box.maxX - scale * 2 { reachesRight = true }
                    if py >= box.maxY - scale * 3 { reachesBottom = true }
                }
            }
            XCTAssertGreaterThan(ink, text.count * scale * scale * 3, text)
            XCTAssertTrue(reachesRight || vertical, "\(text): box wider than the ink")
            XCTAssertTrue(reachesBottom || vertical || text.contains("\n"), "\(text): box taller than the ink")
        }
    }

    func testEveryPrintableASCIICharacterHasItsOwnGlyphAndUnknownOnesAreBoxes() {
        var seen: [[UInt8]: Character] = [:]
        for v in UInt8(33) ... 126 {
            let ch = Character(UnicodeScalar(v))
            XCTAssertTrue(BitmapFont.hasGlyph(ch), "missing \(ch)")
            let rows = BitmapFont.rows(ch)
            XCTAssertEqual(rows.count, BitmapFont.cellHeight)
            XCTAssertNotEqual(rows, BitmapFont.box, "\(ch) looks like the unknown box")
            XCTAssertTrue(rows.contains { $0 != 0 }, "\(ch) is blank")
            if let other = seen[rows] { XCTFail("\(ch) and \(other) share a glyph") }
            seen[rows] = ch
        }
        XCTAssertFalse(BitmapFont.hasGlyph("é"))
        var c = Canvas(width: 20, height: 20)
        c.drawText(x: 2, y: 2, "é", color: .black)
        XCTAssertEqual(c.pixel(x: 2, y: 2), .black)   // the box's corner
        XCTAssertEqual(c.pixel(x: 6, y: 8), .black)
        XCTAssertEqual(c.pixel(x: 4, y: 5), .white)   // hollow
    }

    // MARK: ticks

    func testTicksAreNiceAndLabelsReadable() {
        XCTAssertEqual(Curves.niceStep(0.37), 0.5)
        XCTAssertEqual(Curves.niceStep(1.1), 1)
        XCTAssertEqual(Curves.niceStep(1.6), 2)
        XCTAssertEqual(Curves.niceStep(0.08), 0.1)
        XCTAssertEqual(Curves.niceStep(3000), 5000)
        let t = Curves.niceTicks(lo: 0, hi: 1000, count: 5)
        XCTAssertEqual(t.step, 200)
        XCTAssertEqual(t.ticks, [0, 200, 400, 600, 800, 1000])
        XCTAssertEqual(Curves.tickLabels(t.ticks, step: t.step), ["0", "200", "400", "600", "800", "1000"])
        let l = Curves.niceTicks(lo: 0.8, hi: 2.05, count: 3)
        XCTAssertEqual(Curves.tickLabels(l.ticks, step: l.step), ["1.0", "1.5", "2.0"])
        let lr = Curves.niceTicks(lo: 0, hi: 3e-4, count: 6)
        XCTAssertEqual(Curves.tickLabels(lr.ticks, step: lr.step), ["0", "5e-5", "1e-4", "1.5e-4", "2e-4", "2.5e-4", "3e-4"])
        let e = Curves.niceTicks(lo: 0, hi: 9, count: 20, integer: true)
        XCTAssertEqual(e.step, 1)
    }

    // MARK: curves

    /// A pretraining log: loss falls linearly from 2.0 to 0.5 over steps 0…1000, with a
    /// warm-up-then-cosine learning rate; a few broken lines sprinkled in.
    func pretrainMetrics() -> String {
        var lines: [String] = []
        for step in stride(from: 0, through: 1000, by: 10) {
            let loss = 2.0 - 1.5 * Double(step) / 1000
            let lr = step < 100 ? 3e-4 * Double(step) / 100
                : 1e-6 + (3e-4 - 1e-6) * 0.5 * (1 + cos(Double.pi * Double(step - 100) / 900))
            lines.append(#"{"clips_per_s":3.5,"data_wait_s":0.01,"epoch":\#(step / 250),"grad_norm":1.2,"lr":\#(lr),"loss":\#(loss),"step":\#(step)}"#)
            if step == 300 { lines.append("{\"step\": 310, \"loss\": oops") }
            if step == 600 { lines.append("not json at all") }
            if step == 700 { lines.append("[1, 2, 3]") }
        }
        return lines.joined(separator: "\n") + "\n{\"step\": 1010, \"lo"   // torn last line
    }

    /// Whether `c` is one of the loss line's blues (anti-aliased against white or grid).
    func isBlueInk(_ c: RGBColor) -> Bool { Int(c.b) - Int(c.r) > 40 }

    /// Pretraining records with `loss_vs_mean` get their own panel: the ratio where it belongs
    /// (green ink at the point) and the mean predictor's line at 1.
    func testCurvesDrawLossVsMeanBesideTheLoss() throws {
        let metrics = dir + "/metrics.jsonl", out = dir + "/curves.png"
        var lines: [String] = []
        for step in stride(from: 10, through: 1000, by: 10) {
            let r = step == 10 ? 15 : 1.0 - 0.7 * Double(step) / 1000   // 15 (a fresh model), then 0.986 … 0.3
            lines.append("{\"step\": \(step), \"loss\": \(0.1 * r), \"trivial_loss\": 0.1, \"loss_vs_mean\": \(r), \"lr\": 0.001}")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: metrics, atomically: true, encoding: .utf8)
        let panels = try Curves.draw(metricsPath: metrics, out: out)
        XCTAssertEqual(panels.map { $0.title }, ["Training loss", "Loss / mean predictor's loss (capped at 2)", "Learning rate"])
        let p = panels[1]
        XCTAssertEqual(p.series.map(\.name), ["mean predictor", "loss_vs_mean"])
        XCTAssertEqual(p.series[1].points.count, 100)
        XCTAssertLessThanOrEqual(p.yRange.lowerBound, 0.3)
        XCTAssertGreaterThanOrEqual(p.yRange.upperBound, 1.0)
        XCTAssertEqual(p.series[1].points[0].y, 2, "the first point is drawn at the cap")
        XCTAssertLessThan(p.yRange.upperBound, 2.6)
        let img = try PNGImage.read(path: out)
        let f = RGBFrame(width: img.width, height: img.height, rgb: img.rgb)
        let at = p.pixel(x: 500, y: 0.65)
        var green = false
        for dy in -3...3 { for dx in -3...3 {
            let c = f[Int(at.x.rounded()) + dx, Int(at.y.rounded()) + dy]
            if Int(c.g) - Int(c.r) > 40 && Int(c.g) - Int(c.b) > 40 { green = true }
        } }
        XCTAssertTrue(green, "no loss_vs_mean ink at step 500")
    }

    func testCurvesDrawTheLossWhereItBelongs() throws {
        let metrics = dir + "/metrics.jsonl", out = dir + "/curves.png"
        try pretrainMetrics().write(toFile: metrics, atomically: true, encoding: .utf8)
        let panels = try Curves.draw(metricsPath: metrics, out: out)
        let img = try PNGImage.read(path: out)
        XCTAssertEqual(img.width, 1200)
        XCTAssertEqual(img.height, 800)
        XCTAssertEqual(panels.map { $0.title }, ["Training loss", "Learning rate"])
        let f = RGBFrame(width: img.width, height: img.height, rgb: img.rgb)

        let loss = panels[0]
        XCTAssertLessThanOrEqual(loss.yRange.lowerBound, 0.5)
        XCTAssertGreaterThanOrEqual(loss.yRange.upperBound, 2.0)
        XCTAssertTrue(loss.plot.width > 800 && loss.plot.height > 200, "\(loss.plot)")
        // At the middle step the loss is 1.25: line ink right there, nothing blue far from it.
        for step in [250.0, 500, 750] {
            let p = loss.pixel(x: step, y: 2.0 - 1.5 * step / 1000)
            let px = Int(p.x.rounded()), py = Int(p.y.rounded())
            let blue = (loss.plot.y ..< loss.plot.maxY).filter { isBlueInk(f[px, $0]) }
            XCTAssertFalse(blue.isEmpty, "no line at step \(step)")
            XCTAssertTrue(blue.contains { abs($0 - py) <= 4 }, "line at step \(step) not near y \(py): \(blue)")
            for y in blue { XCTAssertLessThanOrEqual(abs(y - py), 8, "stray ink at step \(step), y \(y)") }
            // Background well above and below the line.
            XCTAssertEqual(f[px + 3, loss.plot.y + 5].r, f[px + 3, loss.plot.y + 5].b)
            XCTAssertFalse(isBlueInk(f[px, min(loss.plot.maxY - 3, py + 40)]))
            XCTAssertFalse(isBlueInk(f[px, max(loss.plot.y + 2, py - 40)]))
        }
        // The learning rate peaks at step 100.
        let lr = panels[1]
        let peak = lr.pixel(x: 100, y: 3e-4)
        let orange = (lr.plot.y ..< lr.plot.maxY).filter {
            let c = f[Int(peak.x.rounded()), $0]
            return Int(c.r) - Int(c.b) > 60
        }
        XCTAssertTrue(orange.contains { abs(Double($0) - peak.y) <= 4 }, "lr peak missing: \(orange) vs \(peak.y)")
        // Outside the panels' plots, nothing blue or orange: legends and text aside, the
        // curves stay clipped. (The right margin is blank.)
        for y in stride(from: 0, to: img.height, by: 7) {
            XCTAssertEqual(f[img.width - 3, y], Curves.Palette.background)
        }
    }

    func testFineTuningLogsAddAnEpochLossPanelAndAnAccuracyPanel() throws {
        var lines: [String] = []
        var step = 0
        for epoch in 0 ..< 10 {
            for _ in 0 ..< 5 {
                step += 1
                lines.append(#"{"step":\#(step),"epoch":\#(epoch),"loss":\#(2.5 - 0.2 * Double(epoch)),"lr":0.001}"#)
            }
            let top1 = 20.0 + 6 * Double(epoch), top5 = min(100, 50 + 5 * Double(epoch))
            lines.append(#"{"step":\#(step),"epoch":\#(epoch),"val_loss":\#(2.6 - 0.15 * Double(epoch)),"val_top1":\#(top1),"val_top5":\#(top5)}"#)
        }
        let metrics = dir + "/metrics.jsonl", out = dir + "/finetune.png"
        try lines.joined(separator: "\n").write(toFile: metrics, atomically: true, encoding: .utf8)
        let panels = try Curves.draw(metricsPath: metrics, out: out)
        XCTAssertEqual(panels.map { $0.title }, ["Training loss", "Learning rate", "Loss per epoch", "Validation accuracy"])
        let img = try PNGImage.read(path: out)
        XCTAssertEqual(img.width, 1200)
        XCTAssertEqual(img.height, 800)
        let f = RGBFrame(width: img.width, height: img.height, rgb: img.rgb)
        let acc = panels[3]
        XCTAssertGreaterThanOrEqual(acc.yRange.lowerBound, 0)
        XCTAssertLessThanOrEqual(acc.yRange.upperBound, 100)
        let p1 = acc.pixel(x: 5, y: 50)   // top-1 at epoch 5
        let green = (acc.plot.y ..< acc.plot.maxY).filter {
            let c = f[Int(p1.x.rounded()), $0]
            return Int(c.g) - Int(c.r) > 50 && Int(c.g) - Int(c.b) > 50
        }
        XCTAssertTrue(green.contains { abs(Double($0) - p1.y) <= 4 }, "top-1 not at \(p1.y): \(green)")
        // Train loss per epoch is the epoch mean of the training lines.
        let el = panels[2]
        XCTAssertEqual(el.series.first?.name, "train loss")
        XCTAssertEqual(el.series.first?.points.count, 10)
        XCTAssertEqual(el.series.first?.points[3].y ?? 0, 2.5 - 0.6, accuracy: 1e-9)
    }

    func testNoMetricsStillMakesAPictureThatSaysSo() throws {
        for content in [nil, "", "garbage\n{\"note\": \"hi\"}\n"] as [String?] {
            let metrics = dir + "/m.jsonl", out = dir + "/empty.png"
            try? FileManager.default.removeItem(atPath: metrics)
            if let content { try content.write(toFile: metrics, atomically: true, encoding: .utf8) }
            let panels = try Curves.draw(metricsPath: metrics, out: out)
            XCTAssertTrue(panels.isEmpty)
            let img = try PNGImage.read(path: out)
            XCTAssertEqual(img.width, 1200)
            XCTAssertEqual(img.height, 800)
            XCTAssertTrue(stride(from: 0, to: img.rgb.count, by: 3).contains { img.rgb[$0] < 200 }, "blank picture")
        }
    }

    func testMetricsLinesParseLikeJSONSerialization() {
        let lines = [
            #"{"step":1,"loss":0.5,"lr":3e-4,"note":"warm-up","ok":true,"gone":null}"#,
            #"  { "step" : 2 , "loss" : -1.5E+2 }  "#,
            #"{"step":3,"note":"a\"b","loss":0.25}"#,          // escaped string: slow path
            #"{"step":4,"loss":0.125,"extra":{"a":1},"v":[1]}"#,  // nested values: slow path
            #"{}"#,
            #"{"step":5,"loss":}"#, #"{"step":6 "loss":1}"#, #"{"step":7,"loss":1}x"#, #"{"step":-}"#,
            #"{"step":8,"loss":NaN}"#, "[1,2]", "", "   ", #"{"step":9,"#,
        ]
        let recs = Curves.parse(jsonl: lines.joined(separator: "\n"))
        XCTAssertEqual(recs.count, 4)
        XCTAssertEqual(recs[0], ["step": 1, "loss": 0.5, "lr": 3e-4])
        XCTAssertEqual(recs[1], ["step": 2, "loss": -150])
        XCTAssertEqual(recs[2], ["step": 3, "loss": 0.25])
        XCTAssertEqual(recs[3], ["step": 4, "loss": 0.125])
        // The fast path agrees with JSONSerialization wherever it answers.
        for line in lines {
            var l = line
            let fast = l.withUTF8 { Curves.flatRecord($0) }
            let slow = l.withUTF8 { Curves.slowRecord($0) }
            if let fast { XCTAssertEqual(fast, slow, line) }
        }
        XCTAssertEqual(Curves.parse(jsonl: "{\"step\":1,\"loss\":2}\r\n{\"step\":2,\"loss\":1}\r\n").count, 2)
    }

    func testOddMetricsStillDrawWithoutTrapping() throws {
        let cases: [String: String] = [
            "single": #"{"step":1,"loss":0.7,"lr":0.001}"#,
            "constant-zero": (1 ... 20).map { #"{"step":\#($0),"loss":0,"lr":0}"# }.joined(separator: "\n"),
            "negative-huge": (1 ... 20).map { #"{"step":\#($0),"loss":\#(Double($0) * -1e30),"lr":1e-9}"# }
                .joined(separator: "\n"),
            "nulls": #"{"step":1,"loss":null,"lr":null}"# + "\n" + #"{"step":2,"loss":"NaN"}"#,
            "resumed": (1 ... 30).map { #"{"step":\#($0),"loss":1}"# }.joined(separator: "\n") + "\n"
                + (20 ... 40).map { #"{"step":\#($0),"loss":2}"# }.joined(separator: "\n"),
            "val-only": #"{"epoch":0,"step":5,"val_top1":50,"val_top5":90}"#,
            "extreme": #"{"step":0,"epoch":1e300,"loss":1.7e308,"lr":-1.7e308}"# + "\n"
                + #"{"step":1e300,"epoch":1e300,"loss":-1.7e308,"lr":5e-324}"#,
            "constant-huge-step": #"{"step":1e300,"loss":1e-320,"lr":1}"# + "\n" + #"{"step":1e300,"loss":2,"lr":1}"#,
            "val-no-epoch": #"{"step":5,"val_loss":1.5}"# + "\n" + #"{"step":9,"val_loss":1.2}"#,
        ]
        for (name, text) in cases {
            let metrics = dir + "/\(name).jsonl", out = dir + "/\(name).png"
            try text.write(toFile: metrics, atomically: true, encoding: .utf8)
            let panels = try Curves.draw(metricsPath: metrics, out: out)
            let img = try PNGImage.read(path: out)
            XCTAssertEqual(img.width, 1200, name)
            XCTAssertEqual(img.height, 800, name)
            for p in panels {
                XCTAssertLessThan(p.xRange.lowerBound, p.xRange.upperBound, name)
                XCTAssertLessThan(p.yRange.lowerBound, p.yRange.upperBound, name)
            }
            if name == "nulls" { XCTAssertTrue(panels.isEmpty) }
            if name == "resumed" {
                // The second run's lines replace the first's from step 20 on.
                XCTAssertEqual(panels[0].series[0].points.count, 40)
                XCTAssertEqual(panels[0].series[0].points[25].y, 2)
                XCTAssertEqual(panels[0].series[0].points[10].y, 1)
            }
        }
        // Width is capped at 2000 pixels.
        try Curves.draw(metricsPath: dir + "/single.jsonl", out: dir + "/wide.png", width: 5000, height: 900)
        XCTAssertEqual(try PNGImage.read(path: dir + "/wide.png").width, 2000)
    }

    // MARK: grid

    func frame(_ w: Int, _ h: Int, seed: Int) -> RGBFrame {
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for i in rgb.indices { rgb[i] = UInt8((i * 7 + seed * 31 + (i / (3 * w)) * 3) % 100) }
        return RGBFrame(width: w, height: h, rgb: rgb)
    }

    func testGridShowsEveryFrameOfA16FrameClipWithinMaxWidth() throws {
        // the quick start's case (issue 18: 15 columns, "frame 7" missing): 16 frames, 3 rows
        for size in [112, 160, 224] {
            let clip = (0 ..< 16).map { frame(size, size, seed: $0) }
            let out = dir + "/grid\(size).png"
            let layout = try ReconstructionGrid.draw(rows: [clip, clip, clip], labels: ["original", "masked input", "reconstruction"],
                                                     out: out)
            XCTAssertLessThanOrEqual(layout.width, 2000)
            XCTAssertEqual(layout.columns, Array(0 ..< 16), "frames \(size)")
            XCTAssertEqual(layout.cells.map(\.count), [16, 16, 16])
            let img = try PNGImage.read(path: out)
            XCTAssertEqual(img.width, layout.width)
            XCTAssertEqual(img.height, layout.height)
            // each cell holds its column's frame, all cells alike (shrunk when 16 do not fit at full size)
            let g = RGBFrame(width: img.width, height: img.height, rgb: img.rgb)
            let cw = layout.cells[1][0].width
            XCTAssertLessThanOrEqual(cw, size)
            for (j, src) in layout.columns.enumerated() {
                let cell = layout.cells[1][j]
                XCTAssertEqual(cell.width, cw)
                let (x, y) = (cw / 3, cw / 2)
                XCTAssertEqual(g[cell.x + x, cell.y + y], clip[src][(2 * x + 1) * size / (2 * cw), (2 * y + 1) * size / (2 * cw)])
            }
        }
    }

    func testGridDropsColumnsEvenlyOnlyWhenCellsWouldBeTooNarrow() throws {
        let clip = (0 ..< 16).map { frame(224, 224, seed: $0) }
        let layout = ReconstructionGrid.render(rows: [clip], labels: ["original"], maxWidth: 300).1
        XCTAssertLessThanOrEqual(layout.width, 300)
        XCTAssertLessThan(layout.columns.count, 16)
        XCTAssertGreaterThanOrEqual(layout.columns.count, 4)
        XCTAssertEqual(layout.columns.first, 0)
        XCTAssertEqual(layout.columns.last, 15)
        XCTAssertEqual(layout.cells[0][0].width, ReconstructionGrid.minCell)

        let narrow = try ReconstructionGrid.draw(rows: [clip], labels: ["original"], out: dir + "/narrow.png",
                                                 maxWidth: 700)
        XCTAssertLessThanOrEqual(narrow.width, 700)
        XCTAssertEqual(try PNGImage.read(path: dir + "/narrow.png").width, narrow.width)

        let tiny = (0 ..< 16).map { frame(32, 32, seed: $0) }
        let t = ReconstructionGrid.render(rows: [tiny, tiny], labels: ["a", "b"]).1
        XCTAssertEqual(t.columns, Array(0 ..< 16))   // small frames all fit (enlarged)
        XCTAssertGreaterThan(t.cells[0][0].width, 32)
        XCTAssertLessThanOrEqual(t.width, 2000)

        let huge = ReconstructionGrid.render(rows: [[frame(3000, 100, seed: 1)]], labels: ["x"], maxWidth: 1000).1
        XCTAssertLessThanOrEqual(huge.width, 1000)
        XCTAssertEqual(ReconstructionGrid.evenlySpaced(count: 16, keep: 4), [0, 5, 10, 15])
    }

    func testGreyingChangesExactlyTheGivenTubelets() {
        let clip = (0 ..< 4).map { frame(32, 24, seed: $0) }   // 4×3 patches of 8
        let grey = ReconstructionGrid.greyOutTubelets(clip, patchSize: 8, frameIndices: [1, 2], positions: [0, 5, 11])
        let rects = [PixelRect(x: 0, y: 0, width: 8, height: 8), PixelRect(x: 8, y: 8, width: 8, height: 8),
                     PixelRect(x: 24, y: 16, width: 8, height: 8)]
        for (i, (a, b)) in zip(clip, grey).enumerated() {
            for y in 0 ..< 24 {
                for x in 0 ..< 32 {
                    let masked = (i == 1 || i == 2) && rects.contains { $0.contains(x: x, y: y) }
                    if masked {
                        XCTAssertEqual(b[x, y], .maskGrey, "frame \(i) (\(x), \(y))")
                    } else {
                        XCTAssertEqual(b[x, y], a[x, y], "frame \(i) (\(x), \(y))")
                    }
                }
            }
        }
        // The same through a token mask: tubelet size 2, token n = i·12 + position.
        var mask = [Bool](repeating: false, count: 24)
        for p in [0, 5, 11] { mask[12 + p] = true }   // second temporal group: frames 2, 3
        let viaMask = ReconstructionGrid.greyOutMasked(clip, patchSize: 8, tubeletSize: 2, mask: mask)
        XCTAssertEqual(viaMask[0], clip[0])
        XCTAssertEqual(viaMask[1], clip[1])
        XCTAssertEqual(viaMask[2], grey[2])
        XCTAssertEqual(viaMask[3], ReconstructionGrid.greyOutTubelets(clip, patchSize: 8, frameIndices: [3],
                                                                      positions: [0, 5, 11])[3])
    }

    /// Writes sample pictures to look at (VMAE_KEEP_PICTURES=1 keeps them).
    func testSamplePicturesForAHumanToLookAt() throws {
        let metrics = dir + "/metrics.jsonl"
        var lines: [String] = []
        var rng = SystemRandomNumberGenerator()
        var step = 0
        for epoch in 0 ..< 30 {
            for _ in 0 ..< 40 {
                step += 1
                let base = 0.35 + 0.65 * exp(-Double(step) / 300)
                let loss = base + Double.random(in: -0.08 ... 0.08, using: &rng)
                let lr = step < 120 ? 1.5e-4 * Double(step) / 120
                    : 1e-6 + (1.5e-4 - 1e-6) * 0.5 * (1 + cos(Double.pi * Double(step - 120) / 1080))
                lines.append(#"{"step":\#(step),"epoch":\#(epoch),"loss":\#(loss),"lr":\#(lr),"grad_norm":1,"clips_per_s":3,"data_wait_s":0.01}"#)
            }
            let top1 = 80 * (1 - exp(-Double(epoch) / 8)) + Double.random(in: -2 ... 2, using: &rng)
            lines.append(#"{"step":\#(step),"epoch":\#(epoch),"val_loss":\#(0.4 + 0.7 * exp(-Double(epoch) / 10)),"val_top1":\#(top1),"val_top5":\#(min(100, top1 + 15))}"#)
        }
        try lines.joined(separator: "\n").write(toFile: metrics, atomically: true, encoding: .utf8)
        try Curves.draw(metricsPath: metrics, out: dir + "/sample-finetune.png")
        try lines.filter { !$0.contains("val_") }.joined(separator: "\n").write(toFile: metrics, atomically: true,
                                                                                 encoding: .utf8)
        try Curves.draw(metricsPath: metrics, out: dir + "/sample-pretrain.png")
        try Curves.draw(metricsPath: dir + "/none.jsonl", out: dir + "/sample-nodata.png")

        // A moving gradient clip of 16 frames, 64×64, tube-masked at 75%.
        let clip = (0 ..< 16).map { t -> RGBFrame in
            var rgb = [UInt8](repeating: 0, count: 64 * 64 * 3)
            for y in 0 ..< 64 {
                for x in 0 ..< 64 {
                    let i = (y * 64 + x) * 3
                    rgb[i] = UInt8((x * 4 + t * 8) % 256)
                    rgb[i + 1] = UInt8(y * 4)
                    rgb[i + 2] = UInt8(((x - 32) * (x - 32) + (y - 32 - t) * (y - 32 - t)) < 200 ? 255 : 60)
                }
            }
            return RGBFrame(width: 64, height: 64, rgb: rgb)
        }
        let positions = (0 ..< 64).filter { ($0 * 37) % 64 < 48 }
        let masked = ReconstructionGrid.greyOutTubelets(clip, patchSize: 8, frameIndices: Array(0 ..< 16), positions: positions)
        try ReconstructionGrid.draw(rows: [clip, masked, clip], labels: ["original", "masked", "reconstruction"],
                                    out: dir + "/sample-grid.png")
        let big = (0 ..< 16).map { _ in RGBFrame(width: 224, height: 224, fill: RGBColor(90, 140, 200)) }
        try ReconstructionGrid.draw(rows: [big, big], labels: ["original", "reconstruction"],
                                    out: dir + "/sample-grid-big.png")
    }
}
