// Gunzip.swift: reads .gz files through libarchive (raw format + gzip filter), so no `gzip`
// binary and no subprocess are needed. A missing or corrupt file is an error naming it.
import CArchive
import Foundation

public enum Gunzip {
  /// The decompressed bytes of `path`; `limit` guards against absurd sizes.
  public static func decompress(path: String, limit: Int = 1 << 31) throws -> Data {
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw WorkspaceError.io(path: path, message: "no such readable file")
    }
    guard let a = archive_read_new() else { throw WorkspaceError.io(path: path, message: "archive_read_new failed") }
    defer { archive_read_free(a) }
    archive_read_support_filter_gzip(a)
    archive_read_support_format_raw(a)
    func fail(_ what: String) -> WorkspaceError {
      let m = archive_error_string(a).map { String(cString: $0) } ?? "libarchive error \(archive_errno(a))"
      return .io(path: path, message: "\(what): \(m)")
    }
    guard archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK else { throw fail("not a gzip file") }
    var entry: OpaquePointer?
    guard archive_read_next_header(a, &entry) == ARCHIVE_OK else { throw fail("not a gzip file") }
    // The raw format accepts any bytes; insist that the gzip filter was actually applied.
    guard archive_filter_count(a) > 1, archive_filter_code(a, 0) == ARCHIVE_FILTER_GZIP else {
      throw WorkspaceError.io(path: path, message: "not gzip-compressed")
    }
    var out = Data()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let n = archive_read_data(a, buffer.baseAddress, buffer.count)
      if n < 0 { throw fail("corrupt gzip data") }
      if n == 0 { break }
      out.append(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: n)
      if out.count > limit { throw WorkspaceError.io(path: path, message: "decompresses to more than \(limit) bytes") }
    }
    return out
  }
}
