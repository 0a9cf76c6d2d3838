// RunDirectory.swift: the files of one run and the rules that make it trustworthy.
//
//   config.json                      the full config, defaults filled in (identity of the run)
//   manifest[.shard-i-of-n].json     seed, model and data hashes, git commit, invocations with times
//   records[.shard-i-of-n].jsonl     append-only evaluation records (EvalRecord), no times
//   selfedits[.shard-i-of-n].jsonl   generated self-edits, so a resumed run never regenerates
//   timings[.shard-i-of-n].jsonl     seconds per stage (the only place times live)
//   judge.jsonl                      judge verdicts (the re-runnable judge stage)
//   summary.json                     the run's numbers; bytes depend only on config, seed, model, data
//
// The same --out resumes; a different config, model or shard layout is refused; nothing is ever
// overwritten except manifest and summary, which are replaced atomically.
import Experiment
import Foundation
import Workspace

public final class RunDirectory {
  public let dir: String
  public let shard: Shard

  public init(dir: String, shard: Shard) { self.dir = dir; self.shard = shard }

  public var layout: RunLayout { RunLayout(dir, shardSuffix: shard.suffix) }
  public var configPath: String { layout.config }
  public var manifestPath: String { layout.manifest }
  public var recordsPath: String { layout.records }
  public var selfEditsPath: String { layout.selfEdits }
  public var timingsPath: String { layout.timings }
  public var summaryPath: String { layout.summary }
  public var judgePath: String { layout.judge }

  /// Refuses a directory whose record files were written with another shard layout.
  public func checkShardLayout() throws {
    for f in RunLayout.names(.records, in: dir) {
      let s = RunLayout.suffix(of: f, .records)
      if s == "" && !shard.isWhole || s != "" && !s.hasSuffix("-of-\(shard.count)") {
        throw ExperimentError.runConflict(
          dir: dir, message: "it holds \(f), written with another shard layout than --shard \(shard.label)")
      }
    }
  }

  /// Writes `config.json` into a new run directory, or checks that an existing one holds these
  /// bytes (a different config is refused as a run conflict: exit 73 in seb, for every kind of
  /// run); then clears temporary files a killed writer left. Shared by the harness and the search.
  public static func claim(_ dir: String, config canonical: Data) throws {
    let path = RunLayout(dir).config
    if let existing = FileManager.default.contents(atPath: path) {
      guard existing == canonical else {
        throw ExperimentError.runConflict(
          dir: dir,
          message: "it holds a different config (config.json differs: "
            + RunDirectory.firstDifference(existing, canonical) + "); use another --out")
      }
    } else {
      try AtomicFile.write(canonical, to: path)
    }
    AtomicFile.removeOrphans(under: dir)
  }

  /// The first top-level config key whose value differs (for the refusal message).
  static func firstDifference(_ a: Data, _ b: Data) -> String {
    guard let x = (try? JSONValue.parse(a))?.object, let y = (try? JSONValue.parse(b))?.object else {
      return "unreadable"
    }
    for k in Set(x.keys).union(y.keys).sorted() where x[k] != y[k] { return "key \(k)" }
    return "formatting"
  }

  public func records() throws -> [EvalRecord] { try RunFiles.decodeLines(EvalRecord.self, path: recordsPath) }
  public func selfEdits() throws -> [SelfEditRecord] {
    try RunFiles.decodeLines(SelfEditRecord.self, path: selfEditsPath)
  }

  public func manifest() throws -> RunManifest? { try RunFiles.readManifest(RunManifest.self, path: manifestPath) }

  public func writeManifest(_ m: RunManifest) throws {
    try AtomicFile.write(try CanonicalJSON.pretty(m), to: manifestPath)
  }

  /// Canonical order of records: passage, baseline first, then methods in config order, self-edit, run.
  public static func sorted(_ records: [EvalRecord], methods: [String]) -> [EvalRecord] {
    func rank(_ r: EvalRecord) -> (Int, Int, Int, Int) {
      (r.passage, r.kind == .baseline ? -1 : (methods.firstIndex(of: r.method) ?? methods.count), r.selfEdit, r.run)
    }
    return records.sorted { rank($0) < rank($1) }
  }

}
