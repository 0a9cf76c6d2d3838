// RunManifest.swift: the bookkeeping files every run directory holds beside its records, as
// types the writers (SelfEdit, SearchLoop) and the readers (RunFiles, `seb check`, reports) share:
// which engine made the run, which shard of it this process owns, each invocation, the manifest.
import Foundation
import Workspace

/// What an engine serves. Run manifests record it; resume refuses another model (its sha256) and
/// another engine (kind, version or dtype), since those change the numbers.
public struct EngineIdentity: Codable, Equatable, Sendable {
  /// The engine's kind ("local": the in-process CPU runtime).
  public var engine: String
  public var version: String
  /// The model's name (its file name for a GGUF file).
  public var model: String
  /// Where the engine loaded it from (on the engine's machine).
  public var modelPath: String
  public var modelBytes: Int64
  /// sha256 of the model file (of its weight files, for a model directory), hex.
  public var modelSHA256: String
  /// The arithmetic of the forward and backward passes ("float32").
  public var dtype: String
  public var device: String
  /// Tokens the model takes at most (prompt + completion).
  public var contextLength: Int
  public init(
    engine: String, version: String, model: String, modelPath: String, modelBytes: Int64, modelSHA256: String,
    dtype: String, device: String, contextLength: Int
  ) {
    self.engine = engine; self.version = version; self.model = model; self.modelPath = modelPath;
    self.modelBytes = modelBytes; self.modelSHA256 = modelSHA256
    self.dtype = dtype; self.device = device; self.contextLength = contextLength
  }

  /// Engines whose numbers may differ: another kind, version or arithmetic (the device and the
  /// path do not change them).
  public func sameNumbers(as other: EngineIdentity) -> Bool {
    engine == other.engine && version == other.version && dtype == other.dtype && modelSHA256 == other.modelSHA256
  }

  /// "local 1, float32, cpu (2 threads)".
  public var label: String { "\(engine) \(version), \(dtype), \(device)" }
}

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
      throw ExperimentError.invalidInput(what: "--shard", expected: "i/n with 1 <= i <= n", found: s)
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

/// A harness run's manifest (`manifest[.shard-i-of-n].json`): what produced the run, and every
/// invocation. A search run's is `SearchManifest` (module Search).
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

  public init(
    config: RunConfig, configSHA256: String, seed: UInt64, shard: String, model: String, modelSHA256: String,
    modelBytes: Int64, split: String, splitManifestSHA256: String, dataFiles: [String: String], passages: Int,
    questions: Int, promptSHA256: [String: String], gitCommit: String, invocations: [Invocation],
    engine: EngineIdentity? = nil
  ) {
    (
      self.config, self.configSHA256, self.seed, self.shard, self.model, self.modelSHA256, self.modelBytes, self.split,
      self.splitManifestSHA256, self.dataFiles, self.passages, self.questions, self.promptSHA256, self.gitCommit,
      self.invocations, self.engine
    ) = (
      config, configSHA256, seed, shard, model, modelSHA256, modelBytes, split, splitManifestSHA256, dataFiles,
      passages, questions, promptSHA256, gitCommit, invocations, engine
    )
  }
}

/// Now, as invocations record it.
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
