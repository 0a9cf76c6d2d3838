// RunConfig.swift: everything that defines a knowledge-incorporation run, as data. Parsed from
// JSON with every key checked (unknown keys, wrong types and out-of-range values are errors that
// name the file and key); written back with every default filled in (the run manifest), so a run
// directory always says exactly what produced it. Defaults are SEAL's single-passage evaluation
// (reference-pipeline 2.1-2.4); the switches of reference-pipeline 6 are fields here.
import Foundation
import Workspace

/// How self-edits are written (reference-pipeline 2.1).
public struct SelfEditSpec: Codable, Equatable, Sendable {
  /// Self-edits per passage (SEAL's evaluation uses the first of its 5: k 1).
  public var k = 1
  /// Token cap. SEAL allows 8192; a 135M model rarely stops by itself, so the default is lower (recorded).
  public var maxTokens = 512
  public var temperature = 1.0
  public var topP = 0.95
  /// Wrap the prompt as a chat user message instead of raw completion (SEAL: raw).
  public var chat = false
  public init() {}
}

/// LoRA and optimiser settings of the inner loop (reference-pipeline 2.3).
public struct TrainingSpec: Codable, Equatable, Sendable {
  public var rank = 32
  public var alpha = 64.0
  public var dropout = 0.0
  /// PEFT names or short names: q, k, v, o, gate, up, down.
  public var targets = ["q", "v"]
  public var learningRate = 1e-3
  public var epochs = 10
  public var batchSize = 1
  public var gradientAccumulation = 1
  /// nil: no clipping (HF default 1.0).
  public var maxGradNorm: Double? = 1.0
  public var lossMask = LossMask.unpadded
  public var padLength = 2048
  /// Append the end-of-text token to every sequence (the search repo appends <|im_end|>).
  public var appendEOS = false
  /// Longest sequence in tokens; longer ones are truncated as HF's tokenizer(truncation=True) does.
  public var maxLength = 2048
  public init() {}

  /// Which tokens carry loss (the config spells the raw values).
  public enum LossMask: String, ConfigChoice {
    /// No padding, nothing masked (the search repo's behaviour: pads masked).
    case unpadded
    /// SEAL's pad-to-`padLength` with EOS and loss on the pads (reference-pipeline 5, S1).
    case sealPadded = "seal-padded"
  }
  public static let targetNames = ["q", "k", "v", "o", "gate", "up", "down"]
}

/// Closed-book answering (reference-pipeline 2.4; the search repo's variant is a switch).
public struct EvaluationSpec: Codable, Equatable, Sendable {
  /// Evaluation runs per self-edit (a fresh adapter, its own seed, each time).
  public var runs = 1
  public var template = AnswerTemplate.seal
  /// Prefix the question with "Topic: {title}\n" (SEAL yes, search repo no).
  public var topic = true
  /// Answer token cap (SEAL 64).
  public var maxTokens = 64
  public init() {}
  public enum AnswerTemplate: String, ConfigChoice {
    /// SEAL's raw answer prompt.
    case seal
    /// The search repo's system + user chat messages.
    case chat
  }
}

/// An OpenAI-compatible chat endpoint (judge or teacher).
public struct EndpointSpec: Codable, Equatable, Sendable {
  /// Base URL, e.g. http://localhost:8000/v1 (`/chat/completions` is appended).
  public var url: String
  public var model: String
  /// Environment variable holding the API key (never stored in the run).
  public var apiKeyEnv: String?
  public var maxTokens: Int
  public var retries: Int
  public var timeoutSeconds: Double
  public init(
    url: String, model: String, apiKeyEnv: String? = nil, maxTokens: Int = 1024, retries: Int = 3,
    timeoutSeconds: Double = 120
  ) {
    self.url = url; self.model = model; self.apiKeyEnv = apiKeyEnv; self.maxTokens = maxTokens
    self.retries = retries; self.timeoutSeconds = timeoutSeconds
  }
}

public struct RunConfig: Codable, Equatable, Sendable {
  public var name = "run"
  /// An engine worker's URL (`seb worker`, the PyTorch worker); nil: the in-process engine.
  /// Where a run computes, not what it computes: not part of the canonical config.
  public var engine: String? = nil
  public var seed: UInt64 = 0
  /// Split manifest name (`Data/splits/<split>.json`).
  public var split = "val200"
  /// Only the first `limit` passages of the split (nil: all).
  public var limit: Int? = nil
  /// Methods, each run on every passage: base, passage, the SEAL prompts, released:<file>, teacher.
  public var methods: [Method] = [.base, .passage, .prompt("implications")]
  /// The methods' names (records, summaries and reports are keyed by them).
  public var methodNames: [String] { methods.map(\.name) }
  public var selfEdit = SelfEditSpec()
  public var sequences = TrainingSequences.SEALOptions()
  public var training = TrainingSpec()
  public var evaluation = EvaluationSpec()
  /// The teacher model for method `teacher` (SEAL's GPT-4.1 row with any served model).
  public var teacher: EndpointSpec? = nil
  public init() {}

  /// Parses and validates a config file; `path` is used in error messages.
  public static func parse(_ data: Data, path: String) throws -> RunConfig {
    // Optional keys are named here (their default, nil, encodes no key); the rest by the types.
    let c = try JSONNode.parse(data, path: path).decode(
      RunConfig(), optional: ["engine", "limit", "teacher", "training.maxGradNorm"],
      shapes: ["teacher": EndpointSpec.shape])
    try c.validate(path: path)
    return c
  }

  public static func load(path: String) throws -> RunConfig {
    try parse(try ConfigFile.read(path, what: "run config"), path: path)
  }

  /// Range checks; errors name the key, the value and the accepted range.
  public func validate(path: String = "config") throws {
    func bad(_ key: String, _ expected: String, _ found: Any) -> ExperimentError {
      .malformed(path: path, key: key, expected: expected, found: "\(found)")
    }
    try ConfigFile.checkName(name, path: path)
    if let l = limit, l < 1 { throw bad("limit", "an integer >= 1", l) }
    guard !methods.isEmpty else { throw bad("methods", "at least one method", "[]") }
    if methods.contains(.teacher) && teacher == nil {
      throw bad("teacher", "an endpoint {url, model} for method teacher", "none")
    }
    guard Set(methods).count == methods.count else { throw bad("methods", "no repeated method", methodNames) }
    guard (1...64).contains(selfEdit.k) else { throw bad("selfEdit.k", "1...64", selfEdit.k) }
    guard (1...8192).contains(selfEdit.maxTokens) else {
      throw bad("selfEdit.maxTokens", "1...8192", selfEdit.maxTokens)
    }
    guard selfEdit.temperature >= 0, selfEdit.temperature <= 10 else {
      throw bad("selfEdit.temperature", "0...10", selfEdit.temperature)
    }
    guard selfEdit.topP > 0, selfEdit.topP <= 1 else { throw bad("selfEdit.topP", "(0, 1]", selfEdit.topP) }
    try training.validate(path: path, key: "training")
    try evaluation.validate(path: path, key: "evaluation")
    if let t = teacher { try t.validate(path: path, key: "teacher") }
  }

  /// Self-edits per passage of a method: `base` and `passage` have exactly one.
  public func selfEdits(for method: Method) -> Int { method == .base || method == .passage ? 1 : selfEdit.k }
  /// Evaluation runs per self-edit: `base` trains nothing, so one run says everything.
  public func runs(for method: Method) -> Int { method == .base ? 1 : evaluation.runs }

  /// Evaluation records per passage: the baseline plus every method's self-edits x runs.
  public var evaluationsPerPassage: Int { 1 + methods.reduce(0) { $0 + selfEdits(for: $1) * runs(for: $1) } }

  /// The passages this run covers, by position in the split.
  public func passageCount(splitSize: Int) -> Int { min(limit ?? splitSize, splitSize) }

  /// Canonical bytes (defaults filled in); two configs are the same run iff these are equal.
  public func canonical() throws -> Data {
    var c = self
    c.engine = nil
    return try CanonicalJSON.pretty(c)
  }
}

extension TrainingSpec {
  /// Keys absent from `t` keep the value of `defaults`.
  public static func parse(_ t: JSONNode, defaults: TrainingSpec = TrainingSpec()) throws -> TrainingSpec {
    // null turns clipping off (nil), where it keeps every other key's default.
    try t.decode(defaults, optional: ["maxGradNorm"])
  }

  public func validate(path: String, key k: String) throws {
    func bad(_ key: String, _ expected: String, _ found: Any) -> ExperimentError {
      .malformed(path: path, key: "\(k).\(key)", expected: expected, found: "\(found)")
    }
    guard (1...1024).contains(rank) else { throw bad("rank", "1...1024", rank) }
    guard alpha.isFinite, alpha > 0 else { throw bad("alpha", "a finite value > 0", alpha) }
    guard dropout >= 0, dropout < 1 else { throw bad("dropout", "[0, 1)", dropout) }
    guard !targets.isEmpty, targets.allSatisfy({ TrainingSpec.targetNames.contains($0) }),
      Set(targets).count == targets.count
    else {
      throw bad("targets", "distinct names among " + TrainingSpec.targetNames.joined(separator: ", "), targets)
    }
    guard learningRate.isFinite, learningRate > 0, learningRate <= 1 else {
      throw bad("learningRate", "(0, 1]", learningRate)
    }
    guard (1...1000).contains(epochs) else { throw bad("epochs", "1...1000", epochs) }
    guard (1...1024).contains(batchSize) else { throw bad("batchSize", "1...1024", batchSize) }
    guard (1...1024).contains(gradientAccumulation) else {
      throw bad("gradientAccumulation", "1...1024", gradientAccumulation)
    }
    if let g = maxGradNorm {
      guard g.isFinite, g > 0 else { throw bad("maxGradNorm", "a finite value > 0, or null for no clipping", g) }
    }
    guard (2...32768).contains(padLength) else { throw bad("padLength", "2...32768", padLength) }
    guard (2...32768).contains(maxLength) else { throw bad("maxLength", "2...32768", maxLength) }
  }
}

extension EvaluationSpec {
  /// Range checks shared by the harness and search configs; errors name `key`.
  public func validate(path: String, key k: String) throws {
    func bad(_ key: String, _ expected: String, _ found: Any) -> ExperimentError {
      .malformed(path: path, key: "\(k).\(key)", expected: expected, found: "\(found)")
    }
    guard (1...100).contains(runs) else { throw bad("runs", "1...100", runs) }
    guard (1...2048).contains(maxTokens) else { throw bad("maxTokens", "1...2048", maxTokens) }
  }
}

extension EndpointSpec {
  /// Every key a config may give (`url` and `model` are required, the rest keep `init`'s defaults).
  public static let shape = EndpointSpec(url: "", model: "", apiKeyEnv: "")

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(url: try c.decode(String.self, forKey: .url), model: try c.decode(String.self, forKey: .model))
    apiKeyEnv = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv)
    maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
    retries = try c.decodeIfPresent(Int.self, forKey: .retries) ?? retries
    timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? timeoutSeconds
  }

  public func validate(path: String, key k: String) throws {
    guard let u = URL(string: url), let s = u.scheme, ["http", "https"].contains(s), u.host != nil else {
      throw ExperimentError.malformed(path: path, key: "\(k).url", expected: "an http(s) URL", found: url)
    }
    guard !model.isEmpty else {
      throw ExperimentError.malformed(path: path, key: "\(k).model", expected: "a model name", found: "\"\"")
    }
    guard (1...32768).contains(maxTokens) else {
      throw ExperimentError.malformed(path: path, key: "\(k).maxTokens", expected: "1...32768", found: "\(maxTokens)")
    }
    guard (0...10).contains(retries) else {
      throw ExperimentError.malformed(path: path, key: "\(k).retries", expected: "0...10", found: "\(retries)")
    }
    guard timeoutSeconds > 0, timeoutSeconds <= 3600 else {
      throw ExperimentError.malformed(
        path: path, key: "\(k).timeoutSeconds", expected: "(0, 3600]", found: "\(timeoutSeconds)")
    }
  }
}

/// A method: where a passage's self-edits come from.
public enum Method: Hashable, Sendable, Codable, ConfigExpected {
  /// No adapter: the un-adapted model (its gain is 0 by construction).
  case base
  /// Train on the passage alone (SEAL's "naive"/passage-only row: one sequence `title\ncontext`).
  case passage
  /// The model writes its own self-edits with a SEAL prompt.
  case prompt(String)
  /// SEAL's released generations (`seal/data/synthetic_data/eval/<file>`).
  case released(String)
  /// Another model writes the self-edits through an OpenAI-compatible endpoint (implications prompt).
  case teacher

  public static let knownNames = ["base", "passage"] + PromptLibrary.sealSelfEditPrompts + ["teacher"]
  /// What a config's `methods` entry must be, as errors say it.
  public static let expected = "one of " + knownNames.joined(separator: ", ") + ", released:<file>"

  /// The name a config spells and records carry (the inverse of `init(name:)`).
  public var name: String {
    switch self {
    case .base: "base"
    case .passage: "passage"
    case .prompt(let p): p
    case .released(let f): "released:" + f
    case .teacher: "teacher"
    }
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    let s = try c.decode(String.self)
    guard let m = Method(name: s) else {
      throw DecodingError.typeMismatch(
        Method.self, .init(codingPath: decoder.codingPath, debugDescription: "expected \(Method.expected), found \(s)"))
    }
    self = m
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(name)
  }

  public init?(name: String) {
    switch name {
    case "base": self = .base
    case "passage": self = .passage
    case "teacher": self = .teacher
    default:
      if name.hasPrefix("released:") {
        let f = String(name.dropFirst("released:".count))
        guard !f.isEmpty, !f.contains("/"), !f.contains("..") else { return nil }
        self = .released(f)
      } else if PromptLibrary.sealSelfEditPrompts.contains(name) {
        self = .prompt(name)
      } else {
        return nil
      }
    }
  }

  /// Whether the model under test generates the self-edits (batched generation stage).
  public var generatesWithModel: Bool { if case .prompt = self { return true }; return false }
}

/// What every config file (run or search) shares: reading it, and the rule for run names.
public enum ConfigFile {
  public static func read(_ path: String, what: String) throws -> Data {
    guard let d = FileManager.default.contents(atPath: path) else {
      throw ExperimentError.missingFile(path: path, what: what)
    }
    return d
  }

  /// A run name becomes part of paths and report titles: letters, digits, '-', '_', '.'.
  public static func checkName(_ name: String, path: String) throws {
    guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
      throw ExperimentError.malformed(
        path: path, key: "name", expected: "a non-empty name of letters, digits, '-', '_', '.'", found: name)
    }
  }
}
