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
import EngineAPI
import Experiment
import Foundation
import Workspace

/// `--shard i/n`: this process evaluates the blocks b of `blockSize` consecutive passages
/// (b = p / blockSize) with b % n == i - 1. Blocks, not passages, because a block's adapters
/// train packed together: the same blocks in a sharded and an unsharded run give the same bytes.
public struct Shard: Equatable, Sendable, Codable {
  public var index: Int
  public var count: Int
  public static let whole = Shard(index: 1, count: 1)
  public init(index: Int, count: Int) { self.index = index; self.count = count }

  public static func parse(_ s: String) throws -> Shard {
    let parts = s.split(separator: "/")
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else {
      throw SelfEditError.badShard(found: s)
    }
    return Shard(index: i, count: n)
  }
  public var isWhole: Bool { count == 1 }
  public var suffix: String { isWhole ? "" : ".shard-\(index)-of-\(count)" }
  public func owns(passage: Int, blockSize: Int) -> Bool { (passage / max(1, blockSize)) % count == index - 1 }
  public var label: String { "\(index)/\(count)" }
}

public struct Invocation: Codable, Equatable, Sendable {
  public var started: String
  public var finished: String?
  public var host: String
  public var threads: Int
  /// Adapters trained together (packed steps); absent in runs before packing (one at a time).
  public var adaptersPerStep: Int?
  public var recordsAtStart: Int
  public var recordsAtEnd: Int?
  public var status: String
  /// What a reader must know about this invocation (a rebuilt search checkpoint that differs).
  public var notes: [String]?
  /// The engine this invocation ran on (absent in runs before engines were recorded).
  public var engine: EngineIdentity?
  /// Answers decoded together (absent: 16, the only size before it was an option). Like
  /// `adaptersPerStep` it changes float rounding only.
  public var answerBatch: Int?
  public init(
    started: String, finished: String?, host: String, threads: Int, adaptersPerStep: Int?, recordsAtStart: Int,
    recordsAtEnd: Int?,
    status: String, answerBatch: Int? = nil
  ) {
    self.started = started; self.finished = finished; self.host = host; self.threads = threads;
    self.adaptersPerStep = adaptersPerStep; self.answerBatch = answerBatch
    self.recordsAtStart = recordsAtStart; self.recordsAtEnd = recordsAtEnd; self.status = status
  }
}

public struct RunManifest: Codable, Equatable, Sendable {
  public var config: RunConfig
  public var configSHA256: String
  public var seed: UInt64
  public var shard: String
  public var model: String
  public var modelSHA256: String
  public var modelBytes: Int64
  public var split: String
  public var splitManifestSHA256: String
  public var dataFiles: [String: String]
  public var passages: Int
  public var questions: Int
  public var promptSHA256: [String: String]
  public var gitCommit: String
  public var invocations: [Invocation]
  /// The engine the run was started with; resume refuses one whose numbers differ.
  public var engine: EngineIdentity?
}

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

  public func manifest() throws -> RunManifest? { try RunDirectory.readManifest(RunManifest.self, path: manifestPath) }

  /// A run's manifest of either kind (harness or search); nil when the file does not exist.
  public static func readManifest<M: Decodable>(_ type: M.Type, path: String) throws -> M? {
    guard let d = FileManager.default.contents(atPath: path) else { return nil }
    do { return try CanonicalJSON.decoder().decode(M.self, from: d) } catch {
      throw ExperimentError.malformed(path: path, key: "(file)", expected: "a run manifest", found: "\(error)")
    }
  }

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

public func isoNow() -> String {
  let f = ISO8601DateFormatter()
  return f.string(from: Date())
}

/// `git rev-parse HEAD` of the package, or "unknown".
public func gitCommit() -> String {
  guard let root = Paths.packageRoot() else { return "unknown" }
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = ["git", "-C", root, "rev-parse", "HEAD"]
  let out = Pipe()
  p.standardOutput = out
  p.standardError = Pipe()
  guard (try? p.run()) != nil else { return "unknown" }
  let d = out.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  let s = String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  return p.terminationStatus == 0 && !s.isEmpty ? s : "unknown"
}
