// Paths.swift: where the package finds its inputs. The package root is the nearest folder at or
// above the working directory holding Package.swift (else the one the executable was built in); the data root is --data, else $SEB_DATA_ROOT,
// else ../shared/data beside the package root; the model directory is --dir, else $SEB_MODEL_DIR,
// else Data/models under the package root.
import Foundation

public enum Paths {
  public static let dataRootVariable = "SEB_DATA_ROOT"
  public static let modelDirVariable = "SEB_MODEL_DIR"

  /// The nearest directory at or above `start` that contains a Package.swift.
  public static func packageRoot(from start: URL) -> URL? {
    var dir = start.standardizedFileURL
    while true {
      if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
      let parent = dir.deletingLastPathComponent()
      if parent.path == dir.path { return nil }
      dir = parent
    }
  }

  public static func packageRoot(from start: String = FileManager.default.currentDirectoryPath) -> String? {
    packageRoot(from: URL(fileURLWithPath: start))?.path ?? executablePackageRoot
  }

  /// The package the running executable was built in (it lives under <root>/.build/): so `seb`
  /// started from another folder still finds its prompts, splits and models.
  public static let executablePackageRoot: String? = {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return packageRoot(from: exe.deletingLastPathComponent())?.path
  }()

  /// The data root: `explicit`, else $SEB_DATA_ROOT, else ../shared/data beside the package root.
  public static func dataRoot(
    explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    if let e = explicit, !e.isEmpty { return URL(fileURLWithPath: e).standardizedFileURL.path }
    if let env = environment[dataRootVariable], !env.isEmpty {
      return URL(fileURLWithPath: env).standardizedFileURL.path
    }
    let root = packageRoot() ?? FileManager.default.currentDirectoryPath
    return URL(fileURLWithPath: root).appendingPathComponent("../shared/data").standardizedFileURL.path
  }

  /// The model directory: `flag` if given, else $SEB_MODEL_DIR, else `Data/models` under the
  /// nearest ancestor of `currentDirectory` holding a Package.swift, else under it.
  public static func modelDirectory(
    flag: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
    currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
  ) -> URL {
    if let flag, !flag.isEmpty { return URL(fileURLWithPath: flag, relativeTo: currentDirectory).standardizedFileURL }
    if let env = environment[modelDirVariable], !env.isEmpty {
      return URL(fileURLWithPath: env, relativeTo: currentDirectory).standardizedFileURL
    }
    let root =
      packageRoot(from: currentDirectory) ?? executablePackageRoot.map { URL(fileURLWithPath: $0) } ?? currentDirectory
    return root.appendingPathComponent("Data/models", isDirectory: true).standardizedFileURL
  }

  /// The folder of committed package data (`Data/`): splits, prompts, configs.
  public static func packageData() -> String {
    let root = packageRoot() ?? FileManager.default.currentDirectoryPath
    return URL(fileURLWithPath: root).appendingPathComponent("Data").path
  }

  /// `Reports/<name>` under the package root.
  public static func defaultReportDir(_ name: String) -> String {
    // Never the committed Reports/ by default: a regeneration is written beside the runs
    // (gitignored) and copied over Reports/ only when asked (--out Reports/...).
    let root = packageRoot() ?? FileManager.default.currentDirectoryPath
    return URL(fileURLWithPath: root).appendingPathComponent("runs/reports/\(name)").path
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
