// RecordLog.swift: append-only JSON Lines. Each record is one `write(2)` of its bytes plus "\n"
// followed by fsync, so after `kill -9` the file holds whole records and at most one torn last
// line. Reading drops a torn last line (no newline, or not JSON) and `repair` truncates it away;
// a bad line anywhere else is an error (something other than a crash wrote the file).
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

public final class RecordLog {
  public let path: String
  private var fd: Int32

  /// Opens (creating) `path` for appending, after dropping a torn last line.
  public init(path: String) throws {
    self.path = path
    try AtomicFile.ensureDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path)
    _ = try RecordLog.repair(path: path)
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard fd >= 0 else { throw WorkspaceError.notWritable(path: path, message: String(cString: strerror(errno))) }
  }

  deinit { close(fd) }

  /// Appends one record (its JSON must not contain a raw newline: JSONEncoder never writes one).
  public func append(_ json: Data) throws {
    precondition(!json.contains(0x0A), "a JSON Lines record holds no raw newline")
    var bytes = json
    bytes.append(0x0A)
    try bytes.withUnsafeBytes { raw in
      var off = 0
      while off < raw.count {
        let n = write(fd, raw.baseAddress! + off, raw.count - off)
        if n < 0 {
          if errno == EINTR { continue }
          throw WorkspaceError.notWritable(path: path, message: String(cString: strerror(errno)))
        }
        off += n
      }
    }
    guard fsync(fd) == 0 else {
      throw WorkspaceError.notWritable(path: path, message: String(cString: strerror(errno)))
    }
  }

  /// The complete lines of a JSON Lines file and whether a torn last line was dropped.
  /// A missing file has no lines. `isValid` decides whether a line parses (default: JSON).
  public static func read(
    path: String, isValid: (Data) -> Bool = RecordLog.isJSON
  ) throws -> (lines: [Data], torn: Bool) {
    guard FileManager.default.fileExists(atPath: path) else { return ([], false) }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw WorkspaceError.io(path: path, message: "cannot read the file")
    }
    var lines: [Data] = []
    var start = data.startIndex
    var torn = false
    var lineNo = 0
    while start < data.endIndex {
      lineNo += 1
      guard let nl = data[start...].firstIndex(of: 0x0A) else { torn = true; break }
      let line = data[start..<nl]
      let isLast = data.index(after: nl) == data.endIndex
      if !line.isEmpty {
        if isValid(Data(line)) {
          lines.append(Data(line))
        } else if isLast {
          torn = true
        } else {
          throw WorkspaceError.badRecordLine(
            path: path, line: lineNo, message: "not a valid record and not the last line")
        }
      }
      start = data.index(after: nl)
    }
    return (lines, torn)
  }

  /// Truncates a torn last line; returns true if one was removed.
  @discardableResult
  public static func repair(path: String) throws -> Bool {
    let (lines, torn) = try read(path: path)
    guard torn else { return false }
    var keep = Data()
    for l in lines { keep.append(l); keep.append(0x0A) }
    try AtomicFile.write(keep, to: path)
    return true
  }

  public static func isJSON(_ d: Data) -> Bool { (try? JSONSerialization.jsonObject(with: d)) != nil }
}
