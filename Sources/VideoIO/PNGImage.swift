import CPNG
import Foundation

/// 8-bit PNG files through libpng's simplified API (no setjmp). Errors are `VideoError`s of kind
/// `.image` (or `.missingFile` / `.emptyFile` / `.invalidArgument`) naming the path.
public enum PNGImage {
    /// Writes `rgb` (height × width × 3 for RGB, or height × width × 4 for RGBA) as a PNG.
    public static func write(path: String, width: Int, height: Int, rgb: [UInt8]) throws {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 else {
            throw VideoError(.invalidArgument, path: path, "image size \(width)×\(height) is invalid")
        }
        let channels: Int
        switch rgb.count {
        case width * height * 3: channels = 3
        case width * height * 4: channels = 4
        default:
            throw VideoError(.invalidArgument, path: path,
                             "\(rgb.count) bytes are neither \(width)×\(height)×3 (RGB) nor ×4 (RGBA)")
        }
        var img = png_image()
        img.version = vmae_PNG_IMAGE_VERSION()
        img.width = UInt32(width)
        img.height = UInt32(height)
        img.format = channels == 3 ? vmae_PNG_FORMAT_RGB() : vmae_PNG_FORMAT_RGBA()
        let ok = rgb.withUnsafeBytes { bp in
            png_image_write_to_file(&img, path, 0, bp.baseAddress, Int32(width * channels), nil)
        }
        if ok == 0 {
            let msg = message(&img)
            png_image_free(&img)
            throw VideoError(.image, path: path, "cannot write PNG: \(msg)")
        }
    }

    /// The PNG file's bytes for `rgb` (as `write` takes it), made in memory (TensorBoard images).
    public static func encode(width: Int, height: Int, rgb: [UInt8]) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 else {
            throw VideoError(.invalidArgument, path: "<memory>", "image size \(width)×\(height) is invalid")
        }
        let channels: Int
        switch rgb.count {
        case width * height * 3: channels = 3
        case width * height * 4: channels = 4
        default:
            throw VideoError(.invalidArgument, path: "<memory>",
                             "\(rgb.count) bytes are neither \(width)×\(height)×3 (RGB) nor ×4 (RGBA)")
        }
        var img = png_image()
        img.version = vmae_PNG_IMAGE_VERSION()
        img.width = UInt32(width)
        img.height = UInt32(height)
        img.format = channels == 3 ? vmae_PNG_FORMAT_RGB() : vmae_PNG_FORMAT_RGBA()
        // first call sizes the output, the second fills it
        var size = 0
        var out: [UInt8] = []
        let ok = rgb.withUnsafeBytes { bp -> Int32 in
            guard png_image_write_to_memory(&img, nil, &size, 0, bp.baseAddress, Int32(width * channels), nil) != 0 else { return 0 }
            out = [UInt8](repeating: 0, count: size)
            return out.withUnsafeMutableBytes { ob in
                png_image_write_to_memory(&img, ob.baseAddress, &size, 0, bp.baseAddress, Int32(width * channels), nil)
            }
        }
        if ok == 0 {
            let msg = message(&img)
            png_image_free(&img)
            throw VideoError(.image, path: "<memory>", "cannot encode PNG: \(msg)")
        }
        return Array(out.prefix(size))
    }

    /// Reads a PNG (any bit depth or colour type, converted) as 8-bit RGB, or RGBA with `alpha`.
    public static func read(path: String, alpha: Bool = false) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw VideoError(.missingFile, path: path, "no such file")
        }
        if isDir.boolValue { throw VideoError(.image, path: path, "is a directory") }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.intValue,
           size == 0 {
            throw VideoError(.emptyFile, path: path, "file is empty (0 bytes)")
        }
        var img = png_image()
        img.version = vmae_PNG_IMAGE_VERSION()
        guard png_image_begin_read_from_file(&img, path) != 0 else {
            let msg = message(&img)
            png_image_free(&img)
            throw VideoError(.image, path: path, "not a readable PNG: \(msg)")
        }
        img.format = alpha ? vmae_PNG_FORMAT_RGBA() : vmae_PNG_FORMAT_RGB()
        let w = Int(img.width), h = Int(img.height)
        let count = w * h * (alpha ? 4 : 3)
        guard w > 0, h > 0, count <= 1 << 31 else {
            png_image_free(&img)
            throw VideoError(.image, path: path, "image size \(w)×\(h) is not supported")
        }
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBytes { bp in
            png_image_finish_read(&img, nil, bp.baseAddress, 0, nil)
        }
        if ok == 0 {
            let msg = message(&img)
            png_image_free(&img)
            throw VideoError(.image, path: path, "corrupt PNG: \(msg)")
        }
        return (w, h, out)
    }

    private static func message(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { raw in
            let chars = raw.bindMemory(to: CChar.self)
            let n = chars.firstIndex(of: 0) ?? chars.count
            return String(decoding: raw.prefix(n), as: UTF8.self)
        }
    }
}
