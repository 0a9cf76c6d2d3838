// Reading .gz files. Foundation on Linux has no gzip decoder and Analysis has no C dependencies,
// so this shells out to `gzip -dc` (present on every Debian/macOS machine). The choice keeps the
// module dependency-free; a failure names the file and gzip's message.
import Foundation

public enum Gzip {
  public static func decompressFile(_ path: String) throws -> Data {
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw AnalysisError.unreadable(path: path, reason: "no such readable file")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["gzip", "-dc", path]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch {
      throw AnalysisError.toolFailed(tool: "gzip", status: -1, message: "cannot start gzip: \(error.localizedDescription)")
    }
    // Read before waiting: a full pipe would otherwise block gzip forever.
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let msg = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
      throw AnalysisError.toolFailed(tool: "gzip -dc \(path)", status: p.terminationStatus,
                                     message: String(decoding: msg, as: UTF8.self))
    }
    return data
  }
}
