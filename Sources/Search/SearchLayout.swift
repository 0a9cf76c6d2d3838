// SearchLayout.swift: where every file of a `seb search` run directory lives. The writer
// (SearchLoop) and the readers (SearchLoop's judge, Analysis, Reporting) take paths from here only.
import Foundation

/// The files of one search run directory.
public struct SearchLayout: Sendable, Equatable {
  public let dir: String
  public init(_ dir: String) { self.dir = dir }

  public var config: String { dir + "/config.json" }
  public var manifest: String { dir + "/manifest.json" }
  public var summary: String { dir + "/summary.json" }
  /// Stage wall times; `shardSuffix` is `Shard.suffix` ("" for a whole run).
  public func timings(shardSuffix: String) -> String { dir + "/timings\(shardSuffix).jsonl" }
  /// The judge's verdicts, cached per (judge, question, gold, answer).
  public var judgeVerdicts: String { dir + "/judge-verdicts.jsonl" }

  /// Iteration i's folder, `iter-00`, `iter-01`, ...
  public func iteration(_ i: Int) -> String { dir + String(format: "/iter-%02d", i) }

  /// One file of an iteration's folder.
  public enum File: String, Sendable, CaseIterable {
    case seedProposals = "seed-proposals.json", seedCompletions = "seed-completions.json"
    case seedResults = "seed-results.json"
    case trainProposals = "train-proposals.json", trainCompletions = "train-completions.json"
    case trainResults = "train-results.json"
    case valProposals = "val-proposals.json", valCompletions = "val-completions.json", valResults = "val-results.json"
    case archive = "archive.json"
    case sftRows = "sft-rows.jsonl", sftLog = "sft-log.json"
    /// The next iteration's proposer (not committed with a run: rebuilt from the SFT rows on resume).
    case proposer = "proposer.gguf"
  }

  public func file(_ f: File, iteration i: Int) -> String { iteration(i) + "/" + f.rawValue }

  /// A stage's evaluation records (`stage` is "seed", "train" or "val"), one file per shard.
  public func evaluations(stage: String, iteration i: Int, shardSuffix: String) -> String {
    iteration(i) + "/\(stage)-evaluations\(shardSuffix).jsonl"
  }

  /// Whether a file name in an iteration's folder holds a stage's evaluation records (any shard).
  public static func isEvaluations(_ name: String, stage: String) -> Bool {
    name.hasPrefix("\(stage)-evaluations") && name.hasSuffix(".jsonl")
  }
}
