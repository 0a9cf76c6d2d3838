// Where reports read and write by default: the package root is the nearest folder at or above the
// working directory holding Package.swift; the data root is --data, else env SEB_DATA_ROOT, else
// ../shared/data beside the package root.
import Foundation

public enum Paths {
  public static func packageRoot(from start: String = FileManager.default.currentDirectoryPath) -> String? {
    var url = URL(fileURLWithPath: start).standardizedFileURL
    while true {
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
      let parent = url.deletingLastPathComponent()
      if parent.path == url.path { return nil }
      url = parent
    }
  }

  public static func dataRoot(explicit: String?) -> String {
    if let e = explicit { return e }
    if let env = ProcessInfo.processInfo.environment["SEB_DATA_ROOT"], !env.isEmpty { return env }
    let root = packageRoot() ?? FileManager.default.currentDirectoryPath
    return URL(fileURLWithPath: root).appendingPathComponent("../shared/data").standardizedFileURL.path
  }

  public static func defaultReportDir(_ name: String) -> String {
    let root = packageRoot() ?? FileManager.default.currentDirectoryPath
    return URL(fileURLWithPath: root).appendingPathComponent("Reports/\(name)").path
  }

  /// `path` relative to the package root when it lies at or below the package root's parent.
  public static func display(_ path: String) -> String {
    let p = URL(fileURLWithPath: path).standardizedFileURL.path
    guard let root = packageRoot() else { return p }
    if p.hasPrefix(root + "/") { return String(p.dropFirst(root.count + 1)) }
    let parent = URL(fileURLWithPath: root).deletingLastPathComponent().path
    if p.hasPrefix(parent + "/") { return "../" + p.dropFirst(parent.count + 1) }
    return p
  }
}
