// AtomicFile.swift: outputs appear whole or not at all. A file is written to a temporary name in
// the same directory, flushed to disk, then renamed over the target (rename(2) is atomic within a
// file system), so a crash or Ctrl-C leaves the old file or none, never a partial one.
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

public enum AtomicFile {
  /// The suffixes of a writer's temporary paths (`NAME.tmp-PID`, ...): every temporary beside an
  /// output is named with one, so `removeOrphans` recognises exactly what the writers create.
  public enum Scratch: String, CaseIterable, Sendable {
    case tmp, staging, old
    /// ".tmp-PID" for this process.
    public var suffix: String { ".\(rawValue)-\(getpid())" }
  }

  /// Writes `data` to `path` atomically (creating parent directories).
  public static func write(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    try ensureDirectory(dir)
    let tmp = dir + "/." + url.lastPathComponent + Scratch.tmp.suffix
    Interrupts.register(tmp)
    defer { Interrupts.unregister(tmp) }
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw WorkspaceError.notWritable(path: path, message: String(cString: strerror(errno))) }
    var ok = true
    var err = ""
    data.withUnsafeBytes { raw in
      var off = 0
      while off < raw.count {
        let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
        if n < 0 { if errno == EINTR { continue }; ok = false; err = String(cString: strerror(errno)); return }
        off += n
      }
    }
    if ok && fsync(fd) != 0 { ok = false; err = String(cString: strerror(errno)) }
    close(fd)
    guard ok else { unlink(tmp); throw WorkspaceError.notWritable(path: path, message: err) }
    guard rename(tmp, path) == 0 else {
      let m = String(cString: strerror(errno))
      unlink(tmp)
      throw WorkspaceError.notWritable(path: path, message: m)
    }
  }

  public static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }

  /// Creates `dir` (and parents) if needed; an existing non-directory or a failure names the path.
  public static func ensureDirectory(_ dir: String) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
      if !isDir.boolValue { throw WorkspaceError.notWritable(path: dir, message: "exists and is not a directory") }
      return
    }
    do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
      throw WorkspaceError.notWritable(path: dir, message: "cannot create the directory (\(describe(error)))")
    }
  }

  /// Checks before any work that files can be created in `dir` (created if missing).
  public static func checkWritable(directory dir: String) throws {
    try ensureDirectory(dir)
    guard access(dir, W_OK | X_OK) == 0 else {
      throw WorkspaceError.notWritable(path: dir, message: "no write permission")
    }
  }

  /// Checks, leaving nothing behind, that `dir` exists as a writable directory or could be
  /// created (its nearest existing ancestor is a writable directory). Permission bits do not say
  /// it for root, a read-only mount or a pseudo file system (/proc), so a probe directory is made
  /// in that ancestor and removed. Commands call it before any work: a bad --out fails at once.
  public static func checkCreatable(directory dir: String) throws {
    var url = URL(fileURLWithPath: dir).standardizedFileURL
    while true {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
        guard isDir.boolValue else {
          throw WorkspaceError.notWritable(path: url.path, message: "exists and is not a directory")
        }
        guard access(url.path, W_OK | X_OK) == 0 else {
          throw WorkspaceError.notWritable(path: url.path, message: "no write permission")
        }
        let probe = url.appendingPathComponent(".seb-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        guard mkdir(probe, 0o700) == 0 else {
          let reason = String(cString: strerror(errno))
          throw WorkspaceError.notWritable(path: dir, message: "cannot create anything in \(url.path) (\(reason))")
        }
        rmdir(probe)
        return
      }
      let parent = url.deletingLastPathComponent()
      if parent.path == url.path {
        throw WorkspaceError.notWritable(path: dir, message: "no existing parent directory")
      }
      url = parent
    }
  }

  /// The same for one file: its folder could be created, and `path` is not a folder or a special file.
  public static func checkCreatable(file path: String) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
      guard !isDir.boolValue else {
        throw WorkspaceError.notWritable(path: path, message: "is a directory, not a file")
      }
    }
    try checkCreatable(directory: URL(fileURLWithPath: path).deletingLastPathComponent().path)
  }

  /// Runs `body` with a fresh staging directory beside `dir` and, when it returns, moves every
  /// file it wrote into `dir` (each by rename(2), replacing files of the same name); when it
  /// throws (or the process dies), `dir` is left as it was and the staging directory is removed
  /// (a dead process leaves only a hidden `.name.staging-PID` beside it). For commands that write
  /// several files (a report and its charts): never half a set of new files among old ones.
  public static func staged<T>(directory dir: String, _ body: (String) throws -> T) throws -> T {
    let url = URL(fileURLWithPath: dir).standardizedFileURL
    try ensureDirectory(url.deletingLastPathComponent().path)
    try checkCreatable(directory: url.path)
    let staging = url.deletingLastPathComponent().appendingPathComponent(
      "." + url.lastPathComponent + Scratch.staging.suffix
    ).path
    try? FileManager.default.removeItem(atPath: staging)
    Interrupts.register(staging)
    try ensureDirectory(staging)
    defer { try? FileManager.default.removeItem(atPath: staging); Interrupts.unregister(staging) }
    let result = try body(staging)
    try ensureDirectory(url.path)
    let files = (try? FileManager.default.subpathsOfDirectory(atPath: staging)) ?? []
    for f in files.sorted() {
      let from = staging + "/" + f, to = url.path + "/" + f
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: from, isDirectory: &isDir) else { continue }
      if isDir.boolValue { try ensureDirectory(to); continue }
      guard rename(from, to) == 0 else {
        throw WorkspaceError.notWritable(path: to, message: String(cString: strerror(errno)))
      }
    }
    return result
  }

  /// Swaps two paths in one step (Linux renameat2 RENAME_EXCHANGE, looked up at run time so the
  /// package still builds where it is missing). False when the system cannot do it.
  public static func exchange(_ a: String, _ b: String) -> Bool {
    typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }  // RTLD_DEFAULT
    let f = unsafeBitCast(sym, to: RenameAt2.self)
    let atCWD: Int32 = -100, renameExchange: UInt32 = 2
    return f(atCWD, a, atCWD, b, renameExchange) == 0
  }

  /// Replaces directory `path` by the finished directory `tmp`: an atomic exchange where the
  /// system has one (a kill at any moment leaves the old or the new directory, never none),
  /// else rename the old aside, rename the new in, delete the old.
  public static func replaceDirectory(_ path: String, with tmp: String) throws {
    let fm = FileManager.default
    if !fm.fileExists(atPath: path) {
      guard rename(tmp, path) == 0 else {
        throw WorkspaceError.notWritable(path: path, message: String(cString: strerror(errno)))
      }
      return
    }
    if exchange(tmp, path) {
      try? fm.removeItem(atPath: tmp)  // now holds the old directory
      return
    }
    let old = path + Scratch.old.suffix
    Interrupts.register(old)
    defer { Interrupts.unregister(old) }
    guard rename(path, old) == 0 else {
      throw WorkspaceError.notWritable(path: path, message: String(cString: strerror(errno)))
    }
    guard rename(tmp, path) == 0 else {
      let m = String(cString: strerror(errno))
      _ = rename(old, path)
      throw WorkspaceError.notWritable(path: path, message: m)
    }
    try? fm.removeItem(atPath: old)
  }

  /// Removes what a killed writer left under `dir` (recursively): `NAME.tmp-PID`, `NAME.staging-PID`
  /// and `NAME.old-PID` whose process no longer exists. SIGKILL cannot be caught, so a resumed run
  /// sweeps them when it reopens its directory; a live PID (a concurrent shard) keeps its files.
  /// Returns the removed paths, relative to `dir`.
  @discardableResult
  public static func removeOrphans(under dir: String) -> [String] {
    let fm = FileManager.default
    var removed: [String] = []
    for rel in ((try? fm.subpathsOfDirectory(atPath: dir)) ?? []).sorted() {
      let name = (rel as NSString).lastPathComponent
      guard let pid = orphanPID(name), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
      if (try? fm.removeItem(atPath: dir + "/" + rel)) != nil { removed.append(rel) }
    }
    return removed
  }

  /// The writer's PID when `name` ends in one of the `Scratch` suffixes.
  static func orphanPID(_ name: String) -> pid_t? {
    for kind in Scratch.allCases {
      guard let r = name.range(of: ".\(kind.rawValue)-", options: .backwards) else { continue }
      let digits = name[r.upperBound...]
      if !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let pid = pid_t(digits) {
        return pid
      }
    }
    return nil
  }

  /// A short message for Foundation errors (no NSCocoaErrorDomain dumps).
  public static func describe(_ error: Error) -> String {
    if let e = error as? LocalizedError, let d = e.errorDescription { return d }
    let ns = error as NSError
    if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(u.code)))
    }
    return ns.localizedDescription
  }
}
