// Wire.swift: the engine protocol's messages (HTTP + JSON, version `Wire.version`), shared by the
// worker (module EngineServer) and its client (module RemoteEngine); PROTOCOL.md documents them
// with one example each. The messages mirror `Engine`'s methods: text in, text out, adapters as
// integer handles held by the worker. Non-finite numbers travel as the strings "NaN",
// "Infinity" and "-Infinity" (JSON has none; Python's json module writes them bare, so a Python
// worker converts).
import Decoding
import Experiment
import Foundation

public enum Wire {
  /// Bumped on any change a peer of the previous version would misread.
  public static let version = 1

  public static func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    e.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return e
  }

  public static func decoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return d
  }

  /// The operations, each `POST /v1/<rawValue>` with its request message.
  public enum Op: String, CaseIterable, Sendable {
    case count, chatPrompt = "chat_prompt", checkFits = "check_fits", generate, train, score
    case saveAdapter = "save_adapter", release, proposerUpdate = "proposer_update", load
  }

  /// `GET /v1/health`: the protocol version and what the worker serves by default.
  public struct Health: Codable, Equatable, Sendable {
    public var `protocol`: Int
    public var identity: EngineIdentity
    /// Model files loaded besides the default (updated proposers), most recent last.
    public var loaded: [String]
    public init(protocol: Int, identity: EngineIdentity, loaded: [String]) {
      self.protocol = `protocol`; self.identity = identity; self.loaded = loaded
    }
  }

  /// Every request but `release` and `save_adapter` names the model it is for: nil is the
  /// worker's own (`--model`), a path one that `load` loaded (an updated proposer).
  public struct Count: Codable, Sendable {
    public var model: String?
    public var texts: [String]
    public init(model: String?, texts: [String]) { self.model = model; self.texts = texts }
  }
  public struct Counts: Codable, Sendable {
    public var counts: [Int]
    public init(counts: [Int]) { self.counts = counts }
  }

  public struct ChatPrompt: Codable, Sendable {
    public var model: String?
    public var system: String?
    public var user: String
    public init(model: String?, system: String?, user: String) {
      self.model = model; self.system = system; self.user = user
    }
  }
  public struct Prompt: Codable, Sendable {
    public var prompt: String
    public init(prompt: String) { self.prompt = prompt }
  }

  public struct CheckFits: Codable, Sendable {
    public var model: String?
    public var spec: TrainingSpec
    public init(model: String?, spec: TrainingSpec) { self.model = model; self.spec = spec }
  }

  /// An output schema by name and JSON Schema: a worker with its own constrained decoder takes
  /// the schema; the Swift worker knows the search's schemas by name (and checks the schema text).
  public struct Grammar: Codable, Equatable, Sendable {
    public var name: String
    public var jsonSchema: String
    public init(name: String, jsonSchema: String) { self.name = name; self.jsonSchema = jsonSchema }
  }

  public struct GenerateItem: Codable, Sendable {
    public var prompt: String
    public var sampling: SamplingOptions
    public var maxTokens: Int
    public var samples: Int
    public var seed: UInt64
    public var stop: [String]
    public var grammar: Grammar?
    public var adapter: Int?
    public init(
      prompt: String, sampling: SamplingOptions, maxTokens: Int, samples: Int, seed: UInt64, stop: [String],
      grammar: Grammar?, adapter: Int?
    ) {
      self.prompt = prompt; self.sampling = sampling; self.maxTokens = maxTokens; self.samples = samples;
      self.seed = seed; self.stop = stop; self.grammar = grammar; self.adapter = adapter
    }
  }
  public struct Generate: Codable, Sendable {
    public var model: String?
    public var requests: [GenerateItem]
    public var batchSize: Int
    public init(model: String?, requests: [GenerateItem], batchSize: Int) {
      self.model = model; self.requests = requests; self.batchSize = batchSize
    }
  }
  public struct Generations: Codable, Sendable {
    public var generations: [Generation]
    public init(generations: [Generation]) { self.generations = generations }
  }

  public struct TrainItem: Codable, Sendable {
    public var sequences: [String]
    public var spec: TrainingSpec
    public var seed: UInt64
    public init(sequences: [String], spec: TrainingSpec, seed: UInt64) {
      self.sequences = sequences; self.spec = spec; self.seed = seed
    }
  }
  public struct Train: Codable, Sendable {
    public var model: String?
    public var jobs: [TrainItem]
    public var adaptersPerStep: Int
    public init(model: String?, jobs: [TrainItem], adaptersPerStep: Int) {
      self.model = model; self.jobs = jobs; self.adaptersPerStep = adaptersPerStep
    }
  }
  /// One job's outcome: an adapter handle and its training summary, or why it could not train.
  public struct TrainResult: Codable, Sendable {
    public var adapter: Int?
    public var summary: TrainingSummary?
    public var failure: String?
    public init(adapter: Int? = nil, summary: TrainingSummary? = nil, failure: String? = nil) {
      self.adapter = adapter; self.summary = summary; self.failure = failure
    }
  }
  public struct Trained: Codable, Sendable {
    public var results: [TrainResult]
    public init(results: [TrainResult]) { self.results = results }
  }

  public struct ScoreItem: Codable, Sendable {
    public var prompt: String
    public var continuation: String
    public var adapter: Int?
    public init(prompt: String, continuation: String, adapter: Int?) {
      self.prompt = prompt; self.continuation = continuation; self.adapter = adapter
    }
  }
  public struct Score: Codable, Sendable {
    public var model: String?
    public var items: [ScoreItem]
    public init(model: String?, items: [ScoreItem]) {
      self.model = model; self.items = items
    }
  }
  public struct Scores: Codable, Sendable {
    public var logprobs: [[Double]]
    public init(logprobs: [[Double]]) { self.logprobs = logprobs }
  }

  /// Paths in `save_adapter`, `proposer_update` and `load` are the worker's: the same machine or a
  /// shared filesystem.
  public struct SaveAdapter: Codable, Sendable {
    public var adapter: Int
    public var directory: String
    public init(adapter: Int, directory: String) {
      self.adapter = adapter; self.directory = directory
    }
  }
  public struct Release: Codable, Sendable {
    public var adapters: [Int]
    public init(adapters: [Int]) { self.adapters = adapters }
  }

  public struct ProposerUpdate: Codable, Sendable {
    public var model: String?
    public var rows: [SFTRow]
    public var spec: SFTSpec
    public var out: String
    public init(model: String?, rows: [SFTRow], spec: SFTSpec, out: String) {
      self.model = model; self.rows = rows; self.spec = spec; self.out = out
    }
  }
  public struct ProposerUpdated: Codable, Sendable {
    public var log: SFTLog
    /// The update's progress lines, for the client's log.
    public var messages: [String]
    public init(log: SFTLog, messages: [String]) {
      self.log = log; self.messages = messages
    }
  }

  public struct Load: Codable, Sendable {
    public var path: String
    public init(path: String) { self.path = path }
  }
  public struct Loaded: Codable, Sendable {
    public var identity: EngineIdentity
    public init(identity: EngineIdentity) { self.identity = identity }
  }

  public struct Empty: Codable, Sendable { public init() {} }

  /// Every reply but health's: `done` with `result`, `running` (HTTP 202: poll
  /// `GET /v1/jobs/<job>`) with `progress` [done, total], or `failed` with `error`.
  public struct Reply<Result: Decodable>: Decodable {
    public var job: String?
    public var state: String
    public var progress: [Int]?
    public var result: Result?
    public var error: Failure?
  }

  /// Why the worker did not do a request. `kind`: bad_request (a field is missing or out of
  /// range: `field` names it), model (the model cannot do it: a context overflow, a non-finite
  /// value), unknown_adapter, unknown_model, not_found, unauthorized, too_large, failed (anything
  /// else the worker hit: a file it could not write).
  public struct Failure: Codable, Equatable, Sendable {
    public var kind: String
    public var message: String
    public var field: String?
    public var adapter: Int?
    public init(kind: String, message: String, field: String? = nil, adapter: Int? = nil) {
      self.kind = kind; self.message = message; self.field = field; self.adapter = adapter
    }
  }

  /// The JSON path of a decoding error ("requests[2].sampling.temperature") and what was wrong.
  public static func describe(_ error: DecodingError) -> (field: String, message: String) {
    func path(_ keys: [CodingKey]) -> String {
      keys.reduce("") { p, k in
        if let i = k.intValue { return p + "[\(i)]" }
        return p.isEmpty ? k.stringValue : p + "." + k.stringValue
      }
    }
    switch error {
    case .keyNotFound(let k, let c):
      let f = path(c.codingPath + [k])
      return (f, "\(f): missing")
    case .typeMismatch(let t, let c):
      let f = path(c.codingPath)
      return (f, "\(f): expected \(t)")
    case .valueNotFound(let t, let c):
      let f = path(c.codingPath)
      return (f, "\(f): expected \(t), found null")
    case .dataCorrupted(let c):
      let f = path(c.codingPath)
      return (f, (f.isEmpty ? "body" : f) + ": " + c.debugDescription)
    @unknown default:
      return ("", "\(error)")
    }
  }
}

extension Wire.GenerateItem {
  public init(_ r: GenerateRequest) {
    prompt = r.prompt; sampling = r.sampling; maxTokens = r.maxTokens; samples = r.samples; seed = r.seed
    stop = r.stop; grammar = r.grammar.map { Wire.Grammar(name: $0.name, jsonSchema: $0.jsonSchema) }
    adapter = r.adapter?.id
  }
}

extension Wire.Generate {
  public init(model: String?, requests: [GenerateRequest], batchSize: Int) {
    self.model = model; self.requests = requests.map(Wire.GenerateItem.init); self.batchSize = batchSize
  }
}

extension Wire.Train {
  public init(model: String?, jobs: [TrainJob], adaptersPerStep: Int) {
    self.model = model; self.adaptersPerStep = adaptersPerStep
    self.jobs = jobs.map { Wire.TrainItem(sequences: $0.sequences, spec: $0.spec, seed: $0.seed) }
  }
}

extension Wire.Score {
  public init(model: String?, items: [ScoreRequest]) {
    self.model = model
    self.items = items.map { Wire.ScoreItem(prompt: $0.prompt, continuation: $0.continuation, adapter: $0.adapter?.id) }
  }
}
