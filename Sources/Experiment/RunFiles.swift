// RunFiles.swift: reading a run directory without the runtime (for Analysis, Reporting and `seb
// check`): config.json, summary.json, every records*.jsonl file (torn last lines dropped).
import Foundation
import Workspace

public struct RunFiles: Sendable {
  public var dir: String
  public var config: RunConfig
  public var summary: RunSummary
  public var records: [EvalRecord]

  public static func load(dir: String) throws -> RunFiles {
    let layout = RunLayout(dir)
    let config = try RunConfig.load(path: layout.config)
    let records = try recordFiles(in: dir).flatMap { try decodeLines(EvalRecord.self, path: $0) }
    let sp = layout.summary
    guard let d = FileManager.default.contents(atPath: sp) else {
      // A run in progress (or killed): summarise what is recorded; the summary says it is incomplete.
      guard let m = try readManifest(RunManifest.self, path: layout.manifest) else {
        throw ExperimentError.missingFile(
          path: sp,
          what:
            "run summary (and no manifest.json to summarise the records with): finish the run, or `seb merge` its shards"
        )
      }
      let judged = try judgeVerdicts(path: layout.judge)
      let summary = try Summarize.run(
        config: config, configSHA256: m.configSHA256, modelSHA256: m.modelSHA256, passages: m.passages,
        questions: m.questions,
        records: records, judged: judged)
      return RunFiles(dir: dir, config: config, summary: summary, records: records)
    }
    let summary: RunSummary
    do { summary = try JSONDecoder().decode(RunSummary.self, from: d) } catch {
      throw ExperimentError.malformed(path: sp, key: "(file)", expected: "a run summary", found: "\(error)")
    }
    return RunFiles(dir: dir, config: config, summary: summary, records: records)
  }

  /// Judge verdicts by "<record key>/q<i>" of `judge`, or of the judge that wrote last (later lines
  /// win, so a retried failure replaces it); a nil value is a failed verdict.
  public static func judgeVerdicts(path: String, judge: String? = nil) throws -> [String: Bool?] {
    let all = try decodeLines(JudgeRecord.self, path: path)
    guard let name = judge ?? all.last?.judge else { return [:] }
    var out: [String: Bool?] = [:]
    for j in all where j.judge == name { out[j.key] = j.verdict }
    return out
  }

  /// A run's manifest of either kind (harness or search); nil when the file does not exist.
  public static func readManifest<M: Decodable>(_ type: M.Type, path: String) throws -> M? {
    guard let d = FileManager.default.contents(atPath: path) else { return nil }
    do { return try CanonicalJSON.decoder().decode(M.self, from: d) } catch {
      throw ExperimentError.malformed(path: path, key: "(file)", expected: "a run manifest", found: "\(error)")
    }
  }

  /// Every records file of a directory (one unsharded file, or shard files), sorted by name.
  public static func recordFiles(in dir: String) -> [String] { RunLayout.shardFiles(.records, in: dir) }

  /// The records of a JSON Lines file; a line that does not decode names the file and line.
  public static func decodeLines<T: Decodable>(_ type: T.Type, path: String) throws -> [T] {
    let (lines, _) = try RecordLog.read(path: path)
    return try lines.enumerated().map { i, l in
      do { return try JSONDecoder().decode(T.self, from: l) } catch {
        throw ExperimentError.malformed(
          path: path, key: "line \(i + 1)", expected: "a \(T.self) record", found: "\(error)")
      }
    }
  }
}
