// WheelArchive.swift: reading (and, for tests and fixtures, writing) zip archives such as Python
// wheels with libarchive, so the project needs no `unzip` binary.
//
// Invariants: a `WheelReader` walks entries forward only (libarchive streams); data of an entry
// can be read only after `nextEntry()` returned it and before the next call. All libarchive
// handles are freed in `deinit` / before returning, also on errors.
import CArchive
import Foundation

/// Forward-only reader over the entries of a zip file.
public final class WheelReader {
  public let url: URL
  private let archive: OpaquePointer

  public init(url: URL) throws {
    self.url = url
    guard let a = archive_read_new() else {
      throw ModelStoreError.wheelUnreadable(wheel: url.path, message: "archive_read_new failed")
    }
    archive = a
    // Only zip: a wheel is a zip; accepting other formats would hide a wrong file passed as --wheel.
    archive_read_support_format_zip(a)
    if archive_read_open_filename(a, url.path, 1 << 16) != ARCHIVE_OK {
      // All stored properties are set, so deinit runs on this throw and frees the handle.
      throw ModelStoreError.wheelUnreadable(wheel: url.path, message: WheelReader.errorString(a))
    }
  }

  deinit { archive_read_free(archive) }

  private static func errorString(_ a: OpaquePointer) -> String {
    if let s = archive_error_string(a) { return String(cString: s) }
    return "libarchive error \(archive_errno(a))"
  }

  /// Path of the next entry, or nil at the end of the archive.
  public func nextEntry() throws -> String? {
    var entry: OpaquePointer?
    let r = archive_read_next_header(archive, &entry)
    if r == ARCHIVE_EOF { return nil }
    guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let e = entry else {
      throw ModelStoreError.wheelUnreadable(wheel: url.path, message: WheelReader.errorString(archive))
    }
    guard let name = archive_entry_pathname(e) else { return "" }
    return String(cString: name)
  }

  /// Reads the next chunk of the current entry's data into `buffer`; 0 at the end of the entry.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
    if n < 0 {
      throw ModelStoreError.wheelUnreadable(wheel: url.path, message: WheelReader.errorString(archive))
    }
    return n
  }

  /// The current entry's data as bytes (for small members).
  public func readAll(limit: Int = 1 << 30) throws -> [UInt8] {
    var out: [UInt8] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let n = try read(into: buffer)
      if n == 0 { break }
      out.append(contentsOf: buffer[0..<n])
      if out.count > limit {
        throw ModelStoreError.wheelUnreadable(wheel: url.path, message: "entry larger than \(limit) bytes")
      }
    }
    return out
  }
}

public enum WheelArchive {
  /// Paths of all entries, in archive order.
  public static func members(of url: URL) throws -> [String] {
    let reader = try WheelReader(url: url)
    var names: [String] = []
    while let name = try reader.nextEntry() { names.append(name) }
    return names
  }

  /// Writes a zip (deflate) containing regular files with the given paths and bytes, in order.
  /// Used by tests to build fake wheels; the same libarchive writer a packager would use.
  public static func writeZip(_ entries: [(path: String, bytes: [UInt8])], to url: URL) throws {
    guard let a = archive_write_new() else {
      throw ModelStoreError.io(path: url.path, message: "archive_write_new failed")
    }
    defer { archive_write_free(a) }
    func fail() -> ModelStoreError {
      let message = archive_error_string(a).map { String(cString: $0) } ?? "libarchive error"
      return ModelStoreError.io(path: url.path, message: message)
    }
    guard archive_write_set_format_zip(a) == ARCHIVE_OK,
      archive_write_open_filename(a, url.path) == ARCHIVE_OK
    else { throw fail() }
    for (path, bytes) in entries {
      guard let entry = archive_entry_new() else { throw fail() }
      defer { archive_entry_free(entry) }
      archive_entry_set_pathname(entry, path)
      archive_entry_set_size(entry, Int64(bytes.count))
      archive_entry_set_filetype(entry, 0o100000)  // AE_IFREG (a cast macro Swift does not import)
      archive_entry_set_perm(entry, 0o644)
      guard archive_write_header(a, entry) == ARCHIVE_OK else { throw fail() }
      if !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { archive_write_data(a, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw fail() }
      }
    }
    guard archive_write_close(a) == ARCHIVE_OK else { throw fail() }
  }
}
