// RunLayout.swift: where every file of a harness run directory (`seb run`, `seb baseline`, merged
// shards) lives. The writer (SelfEdit) and the readers (RunFiles, Analysis, Reporting, `seb
// check`) take paths from here only.
import Foundation

/// The files of one run directory, as one shard writes them (`shardSuffix` is `Shard.suffix`:
/// "" for a whole run, ".shard-i-of-n" for shard i of n).
public struct RunLayout: Sendable, Equatable {
  public let dir: String
  public let shardSuffix: String
  public init(_ dir: String, shardSuffix: String = "") { self.dir = dir; self.shardSuffix = shardSuffix }

  /// Files every shard writes its own copy of.
  public enum ShardFile: String, Sendable, CaseIterable {
    case manifest, records, selfEdits = "selfedits", timings
    var fileExtension: String { self == .manifest ? ".json" : ".jsonl" }
  }

  public var config: String { dir + "/config.json" }
  public var summary: String { dir + "/summary.json" }
  /// Judge verdicts (`seb judge`), one line per graded answer.
  public var judge: String { dir + "/judge.jsonl" }
  /// Trained adapters, with `--keep-adapters` only.
  public var adapters: String { dir + "/adapters" }
  /// `seb report`'s default output folder (for a search run directory too).
  public var report: String { dir + "/report" }
  public func path(_ f: ShardFile) -> String { dir + "/" + f.rawValue + shardSuffix + f.fileExtension }
  public var manifest: String { path(.manifest) }
  public var records: String { path(.records) }
  public var selfEdits: String { path(.selfEdits) }
  public var timings: String { path(.timings) }

  /// Every shard's copy of `f` in `dir` (one unsharded file, or shard files), sorted by name.
  public static func shardFiles(_ f: ShardFile, in dir: String) -> [String] {
    names(f, in: dir).map { dir + "/" + $0 }
  }

  /// The file names of `f` in `dir`, sorted.
  public static func names(_ f: ShardFile, in dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
      $0.hasPrefix(f.rawValue) && $0.hasSuffix(f.fileExtension)
    }.sorted()
  }

  /// The shard suffix of a file name of `f` ("" for the unsharded file).
  public static func suffix(of name: String, _ f: ShardFile) -> String {
    String(name.dropFirst(f.rawValue.count).dropLast(f.fileExtension.count))
  }
}
