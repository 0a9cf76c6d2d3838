// SFT.swift: the proposer's SFT update as data (reference-pipeline 3.9-3.10 and 2.6 step 4): its
// settings (a search config key), its rows (`sft-rows.jsonl`) and its log (`sft-log.json`). Here,
// not in the search, because an engine takes the rows and settings and returns the log.
import Foundation

/// The proposer update (reference-pipeline 3.10 and 2.6 step 4).
public struct SFTSpec: Codable, Equatable, Sendable {
  public var rank = 64
  public var alpha = 128.0
  public var learningRate = 3e-4
  public var epochs = 2
  /// Effective batch 10: per-device 1 x accumulation 5 x 2 processes in the reference.
  public var gradientAccumulation = 10
  /// Longest prompt + completion in tokens (the reference: 3600, completion cut first).
  public var maxLength = 3600
  public var seed: UInt64 = 42
  public init() {}
}

/// One row of the proposer's SFT data (reference-pipeline 3.9 / 2.6).
public struct SFTRow: Codable, Equatable, Sendable {
  public var prompt: String
  public var completion: String
  public init(prompt: String, completion: String) { self.prompt = prompt; self.completion = completion }
}

/// The proposer update's log.
public struct SFTLog: Codable, Equatable, Sendable {
  public var rows: Int
  public var maxLength: Int
  public var steps: Int
  public var tokens: Int
  public var losses: [Double]
  public var checkpoint: String
  public var checkpointSHA256: String
  public init(
    rows: Int, maxLength: Int, steps: Int, tokens: Int, losses: [Double], checkpoint: String, checkpointSHA256: String
  ) {
    self.rows = rows; self.maxLength = maxLength; self.steps = steps; self.tokens = tokens; self.losses = losses
    self.checkpoint = checkpoint; self.checkpointSHA256 = checkpointSHA256
  }
}
