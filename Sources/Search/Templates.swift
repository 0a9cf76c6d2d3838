import Decoding
import EngineAPI
// Templates.swift: self-edit templates as the search repo handles them (reference-pipeline 3.2-3.6):
// parsing a proposer's output, the meta prompt with the archive substituted, the exploit/explore
// split, the validation policies for proposed hyperparameters, and the two output schemas for
// constrained decoding.
import Experiment
import Foundation

/// A data-creation instruction plus hyperparameters, as parsed (key order and int/float kept, so
/// json.dumps of it is byte-exact; extra keys of the model's object are kept in `raw`).
public struct SelfEditTemplate: Equatable, Sendable {
  public var instruction: String
  public var hyperparameters: PyJSON  // an object
  public var raw: PyJSON
  /// Keys the validation policy changed, with the value trained instead (read back from a run's
  /// proposals file; the search itself keeps them in its training settings).
  public var clamped: [String: Double]

  public init(instruction: String, hyperparameters: PyJSON, raw: PyJSON? = nil, clamped: [String: Double] = [:]) {
    self.instruction = instruction
    self.hyperparameters = hyperparameters
    self.clamped = clamped
    self.raw =
      raw ?? .object([("data_creation_instruction", .string(instruction)), ("hyperparameters", hyperparameters)])
  }

  public static let hyperparameterKeys = [
    "lora_rank", "lora_alpha", "lora_dropout", "learning_rate", "num_epochs", "gradient_accumulation_steps",
  ]
  static let intKeys: Set<String> = ["lora_rank", "lora_alpha", "num_epochs", "gradient_accumulation_steps"]

  /// json.dumps({"data_creation_instruction": ..., "hyperparameters": {...}}), as the meta prompt
  /// (ensure_ascii=True) and the SFT rows (ensure_ascii=False) render a template.
  public func dumps(ensureASCII: Bool = true) -> String {
    PyJSON.object([("data_creation_instruction", .string(instruction)), ("hyperparameters", hyperparameters)]).dumps(
      ensureASCII: ensureASCII)
  }

  /// `parse_self_edit_template`: drop `<think>...</think>`, strip, take the greedy `{...}`,
  /// json.loads it, require both keys and all six hyperparameters; rank, alpha, epochs and
  /// accumulation must be ints (10.0 fails), dropout and learning rate ints or floats.
  public static func parse(_ text: String) throws -> SelfEditTemplate {
    let body = TrainingSequences.pyStrip(stripThink(text))
    guard let open = body.firstIndex(of: "{"), let close = body.lastIndex(of: "}"), open < close else {
      throw SearchError.badTemplate(reason: "no {...} in the output")
    }
    let obj = try PyJSON.loads(String(body[open...close]), source: "template")
    guard case .string(let instruction)? = obj["data_creation_instruction"] else {
      throw SearchError.badTemplate(reason: "data_creation_instruction missing or not a string")
    }
    guard let hp = obj["hyperparameters"], case .object = hp else {
      throw SearchError.badTemplate(reason: "hyperparameters missing or not an object")
    }
    for k in hyperparameterKeys {
      guard let v = hp[k] else { throw SearchError.badTemplate(reason: "hyperparameters.\(k) missing") }
      switch (intKeys.contains(k), v) {
      case (true, .int), (true, .bool), (false, .int), (false, .float), (false, .bool): break  // Python bool is an int
      default:
        throw SearchError.badTemplate(
          reason: "hyperparameters.\(k) is \(v.dumps()), expected \(intKeys.contains(k) ? "an int" : "a number")")
      }
    }
    return SelfEditTemplate(instruction: instruction, hyperparameters: hp, raw: obj)
  }

  /// `re.sub(r"<think>.*?</think>", "", s, flags=re.DOTALL)` (completions are parsed the same way).
  public static func stripThinkTags(_ s: String) -> String { stripThink(s) }

  static func stripThink(_ s: String) -> String {
    var out = s
    while let a = out.range(of: "<think>"), let b = out.range(of: "</think>", range: a.upperBound..<out.endIndex) {
      out.removeSubrange(a.lowerBound..<b.upperBound)
    }
    return out
  }

  /// A numeric hyperparameter (bools as 0/1), nil if missing.
  public func value(_ key: String) -> Double? {
    switch hyperparameters[key] {
    case .bool(let b)?: return b ? 1 : 0
    case let v?: return v.number
    default: return nil
    }
  }
}

extension SelfEditTemplate {
  /// pydantic's model_dump of the hyperparameters, as the archive and the SFT rows store them:
  /// the six keys in schema order, ints and floats coerced, "batch_size": 1 added (5 X9).
  public func modelDump() -> PyJSON {
    var items: [(String, PyJSON)] = []
    for k in SelfEditTemplate.hyperparameterKeys {
      let v = value(k) ?? 0
      items.append((k, ["lora_dropout", "learning_rate"].contains(k) ? .float(v) : .int(Int(v))))
    }
    items.append(("batch_size", .int(1)))
    return .object(items)
  }

}

/// A completion's training data as the reference parses it (reference-pipeline 3.4, 3.5).
public enum CompletionText {
  /// `parse_completion`: think tags dropped; "\n}" appended when the text does not end with "}";
  /// the greedy {...} parsed; `training_sequences` must be a list of strings.
  public static func trainingSequences(_ text: String) -> Result<[String], SearchError> {
    var s = TrainingSequences.pyStrip(SelfEditTemplate.stripThink(text))
    if !s.hasSuffix("}") { s += "\n}" }
    guard let open = s.firstIndex(of: "{"), let close = s.lastIndex(of: "}"), open < close else {
      return .failure(.badJSON(source: "completion", offset: 0, expected: "a {...} object", found: "no '{'"))
    }
    do {
      let obj = try PyJSON.loads(String(s[open...close]), source: "completion")
      guard case .array(let items)? = obj["training_sequences"] else {
        return .failure(
          .badInput(
            what: "completion", expected: "a training_sequences list",
            found: String(obj.dumps(ensureASCII: false).prefix(80))))
      }
      var out: [String] = []
      for (i, v) in items.enumerated() {
        guard case .string(let x) = v else {
          return .failure(
            .badInput(what: "completion training_sequences[\(i)]", expected: "a string", found: v.dumps()))
        }
        out.append(x)
      }
      return .success(out)
    } catch let e as SearchError {
      return .failure(e)
    } catch {
      return .failure(.badInput(what: "completion", expected: "JSON", found: "\(error)"))
    }
  }

  /// `parse_completion_baseline`: think tags removed and the text stripped (`strip_thinking_content`),
  /// lines; a numbered list starting on line 1 or 2 drops the lines before it; lines stripped,
  /// empty ones dropped; no title, no passage.
  public static func baselineLines(_ text: String) -> [String] {
    var lines = TrainingSequences.pyStrip(SelfEditTemplate.stripThink(text)).components(separatedBy: "\n")
    if lines.count > 1, lines[1].hasPrefix("1.") {
      lines.removeFirst()
    } else if lines.count > 2, lines[2].hasPrefix("1.") {
      lines.removeFirst(2)
    }
    return lines.map(TrainingSequences.pyStrip).filter { !$0.isEmpty }
  }
}

/// The two JSON shapes the proposer writes, as automata for constrained decoding (module Decoding)
/// and as the JSON Schemas that say the same to an engine with its own constrained decoder. Rank
/// is an enumeration of the meta prompt's powers of two; numbers are bounded so every output
/// stays a small, parseable JSON object.
public enum OutputSchemas {
  /// Every schema the search decodes under, for a worker that resolves them by name.
  public static var all: [OutputGrammar] {
    [templateGrammar, trainingSequencesGrammar, referenceTemplateGrammar, referenceTrainingSequencesGrammar]
  }
  public static func grammar(named name: String) -> OutputGrammar? { all.first { $0.name == name } }

  public static let templateGrammar = OutputGrammar(
    name: "template", jsonSchema: templateJSONSchema, automaton: { templateDFA })
  public static let trainingSequencesGrammar = OutputGrammar(
    name: "training_sequences", jsonSchema: trainingSequencesJSONSchema,
    automaton: { sequencesDFA })
  /// The reference's own schemas (`guided_json` = pydantic's `model_json_schema()` of
  /// `SelfEditTemplate` and `TrainingSequences`: types only, reference-pipeline 3.3-3.4), used with
  /// the `reference` validation policy: any string, signed integers and numbers, any list of
  /// strings. The automata bound digit counts (12) only so they stay finite; pydantic does not.
  public static let referenceTemplateGrammar = OutputGrammar(
    name: "template-reference", jsonSchema: referenceTemplateJSONSchema,
    automaton: { referenceTemplateDFA })
  public static let referenceTrainingSequencesGrammar = OutputGrammar(
    name: "training_sequences-reference", jsonSchema: referenceTrainingSequencesJSONSchema,
    automaton: { referenceSequencesDFA })
  /// pydantic 2's `json.dumps(SelfEditTemplate.model_json_schema())`, byte for byte.
  public static let referenceTemplateJSONSchema = """
    {"$defs": {"Hyperparameters": {"properties": {"lora_rank": {"title": "Lora Rank", "type": "integer"}, "lora_alpha": \
    {"title": "Lora Alpha", "type": "integer"}, "lora_dropout": {"title": "Lora Dropout", "type": "number"}, "learning_rate": \
    {"title": "Learning Rate", "type": "number"}, "num_epochs": {"title": "Num Epochs", "type": "integer"}, \
    "gradient_accumulation_steps": {"title": "Gradient Accumulation Steps", "type": "integer"}}, "required": ["lora_rank", \
    "lora_alpha", "lora_dropout", "learning_rate", "num_epochs", "gradient_accumulation_steps"], "title": "Hyperparameters", \
    "type": "object"}}, "properties": {"data_creation_instruction": {"title": "Data Creation Instruction", "type": "string"}, \
    "hyperparameters": {"$ref": "#/$defs/Hyperparameters"}}, "required": ["data_creation_instruction", "hyperparameters"], \
    "title": "SelfEditTemplate", "type": "object"}
    """
  /// pydantic 2's `json.dumps(TrainingSequences.model_json_schema())`, byte for byte.
  public static let referenceTrainingSequencesJSONSchema = """
    {"properties": {"training_sequences": {"items": {"type": "string"}, "title": "Training Sequences", "type": "array"}}, \
    "required": ["training_sequences"], "title": "TrainingSequences", "type": "object"}
    """
  static let referenceTemplateDFA: ByteDFA = {
    let b = ByteDFABuilder()
    func int() -> ByteDFABuilder.Piece { b.optionalMinus(b.integer(maxDigits: 12)) }
    func num() -> ByteDFABuilder.Piece { b.optionalMinus(b.number(maxIntDigits: 12, maxFractionDigits: 12)) }
    let hp = ByteDFA.jsonObject(
      b,
      [
        ("lora_rank", int()), ("lora_alpha", int()), ("lora_dropout", num()), ("learning_rate", num()),
        ("num_epochs", int()),
        ("gradient_accumulation_steps", int()),
      ])
    return b.build(ByteDFA.jsonObject(b, [("data_creation_instruction", b.string()), ("hyperparameters", hp)]))
  }()
  static let referenceSequencesDFA: ByteDFA = {
    let b = ByteDFABuilder()
    return b.build(ByteDFA.jsonObject(b, [("training_sequences", b.list(allowEmpty: true) { b.string() })]))
  }()

  /// The grammars a validation policy decodes under: the reference's types-only schemas with its
  /// raw values, or ours, bounded to the meta prompt's hints, with `clamped`.
  public static func grammars(_ policy: ValidationPolicy) -> (template: OutputGrammar, trainingSequences: OutputGrammar)
  {
    policy == .reference
      ? (referenceTemplateGrammar, referenceTrainingSequencesGrammar) : (templateGrammar, trainingSequencesGrammar)
  }

  static let templateJSONSchema = """
    {"type": "object", "properties": {"data_creation_instruction": {"type": "string", "minLength": 1}, "hyperparameters": \
    {"type": "object", "properties": {"lora_rank": {"enum": [4, 8, 16, 32, 64]}, "lora_alpha": {"type": "integer", "minimum": 0, \
    "maximum": 999}, "lora_dropout": {"type": "number", "minimum": 0}, "learning_rate": {"type": "number", \
    "minimum": 0}, "num_epochs": {"type": "integer", "minimum": 0, "maximum": 99}, \
    "gradient_accumulation_steps": {"type": "integer", "minimum": 0, "maximum": 9}}, "required": ["lora_rank", "lora_alpha", \
    "lora_dropout", "learning_rate", "num_epochs", "gradient_accumulation_steps"], "additionalProperties": false}}, \
    "required": ["data_creation_instruction", "hyperparameters"], "additionalProperties": false}
    """
  static let trainingSequencesJSONSchema = """
    {"type": "object", "properties": {"training_sequences": {"type": "array", "minItems": 1, "items": {"type": "string", \
    "minLength": 1}}}, "required": ["training_sequences"], "additionalProperties": false}
    """
  /// Built once per process (the automata are constants).
  public static func template() -> ByteDFA { templateDFA }
  public static func trainingSequences() -> ByteDFA { sequencesDFA }
  static let templateDFA = buildTemplate()
  static let sequencesDFA = buildTrainingSequences()

  static func buildTemplate() -> ByteDFA {
    let b = ByteDFABuilder()
    let hp = ByteDFA.jsonObject(
      b,
      [
        ("lora_rank", b.oneOf(["4", "8", "16", "32", "64"])), ("lora_alpha", b.integer(maxDigits: 3)),
        ("lora_dropout", b.number(maxIntDigits: 1, maxFractionDigits: 3)),
        ("learning_rate", b.number(maxIntDigits: 1, maxFractionDigits: 6)),
        ("num_epochs", b.integer(maxDigits: 2)), ("gradient_accumulation_steps", b.integer(maxDigits: 1)),
      ])
    return b.build(
      ByteDFA.jsonObject(b, [("data_creation_instruction", b.string(minCharacters: 1)), ("hyperparameters", hp)]))
  }

  /// {"training_sequences": [one or more non-empty strings]}.
  static func buildTrainingSequences() -> ByteDFA {
    let b = ByteDFABuilder()
    return b.build(ByteDFA.jsonObject(b, [("training_sequences", b.list { b.string(minCharacters: 1) })]))
  }
}

/// One archive entry: a template and how it did on the train passages.
public struct ArchiveEntry: Equatable, Sendable {
  public var template: SelfEditTemplate
  public var accuracy: Double
  public var normalizedGain: Double
  public init(template: SelfEditTemplate, accuracy: Double, normalizedGain: Double) {
    self.template = template; self.accuracy = accuracy; self.normalizedGain = normalizedGain
  }

  /// Reads an archive file (a JSON list of {data_creation_instruction, hyperparameters, accuracy,
  /// normalized_gain}, e.g. archive_seed.json), key order kept.
  public static func load(_ path: String) throws -> [ArchiveEntry] {
    guard let d = FileManager.default.contents(atPath: path) else {
      throw ExperimentError.missingFile(path: path, what: "template archive")
    }
    guard case .array(let items) = try PyJSON.loads(String(decoding: d, as: UTF8.self), source: path) else {
      throw SearchError.badJSON(source: path, offset: 0, expected: "a list of archive entries", found: "another value")
    }
    return try items.enumerated().map { i, e in
      guard case .string(let ins)? = e["data_creation_instruction"], let hp = e["hyperparameters"],
        let acc = e["accuracy"]?.number,
        let ng = e["normalized_gain"]?.number
      else {
        throw SearchError.badInput(
          what: "\(path) entry \(i)", expected: "data_creation_instruction, hyperparameters, accuracy, normalized_gain",
          found: e.dumps())
      }
      return ArchiveEntry(
        template: SelfEditTemplate(instruction: ins, hyperparameters: hp), accuracy: acc, normalizedGain: ng)
    }
  }

  /// `toolbox = old + new`, sorted by accuracy descending (Python's sort is stable: ties keep
  /// their order, old entries first). Nothing is evicted.
  public static func update(_ archive: [ArchiveEntry], with new: [ArchiveEntry]) -> [ArchiveEntry] {
    let all = archive + new
    return rankOrder(all).map { all[$0] }
  }

  /// Indices of `entries` in archive order: accuracy descending, ties keep their order.
  public static func rankOrder(_ entries: [ArchiveEntry]) -> [Int] {
    entries.indices.sorted {
      entries[$0].accuracy != entries[$1].accuracy ? entries[$0].accuracy > entries[$1].accuracy : $0 < $1
    }
  }
}

public enum MetaPrompt {
  /// `string.Template(text).substitute(...)` with the archive's entries [0], [1], [-2], [-1]
  /// (sorted by accuracy descending, at least 4): templates as json.dumps, accuracies and gains
  /// as Python's str(float).
  public static func fill(archiveTemplate text: String, archive: [ArchiveEntry]) throws -> String {
    guard archive.count >= 4 else {
      throw SearchError.badMetaPrompt(reason: "the archive holds \(archive.count) entries; 4 are shown")
    }
    let shown = [archive[0], archive[1], archive[archive.count - 2], archive[archive.count - 1]]
    var values: [String: String] = [:]
    for (i, name) in [
      "highest_acc_template", "second_highest_acc_template", "second_lowest_acc_template", "lowest_acc_template",
    ].enumerated() {
      values[name] = shown[i].template.dumps()
      values["acc\(i + 1)"] = PyJSON.repr(shown[i].accuracy).replacingOccurrences(of: "Infinity", with: "inf")
        .replacingOccurrences(of: "NaN", with: "nan")
      values["ngain\(i + 1)"] = PyJSON.repr(shown[i].normalizedGain).replacingOccurrences(of: "Infinity", with: "inf")
        .replacingOccurrences(of: "NaN", with: "nan")
    }
    return try substitute(text, values)
  }

  /// Python's string.Template.substitute: `$$` -> `$`, `${name}` and `$name` replaced; a missing
  /// name or an invalid placeholder is an error (KeyError / ValueError in Python).
  public static func substitute(_ text: String, _ values: [String: String]) throws -> String {
    var out = "", i = text.startIndex
    func isIdent(_ c: Character, first: Bool) -> Bool {
      c == "_" || (c.isASCII && (c.isLetter || (!first && c.isNumber)))
    }
    while let d = text[i...].firstIndex(of: "$") {
      out += text[i..<d]
      let n = text.index(after: d)
      if n < text.endIndex, text[n] == "$" { out += "$"; i = text.index(after: n); continue }
      var name = "", end = n
      if n < text.endIndex, text[n] == "{", let close = text[n...].firstIndex(of: "}") {
        name = String(text[text.index(after: n)..<close])
        end = text.index(after: close)
      } else {
        var j = n
        while j < text.endIndex, isIdent(text[j], first: j == n) { j = text.index(after: j) }
        name = String(text[n..<j])
        end = j
      }
      guard !name.isEmpty, let first = name.first, isIdent(first, first: true),
        name.allSatisfy({ isIdent($0, first: false) })
      else {
        throw SearchError.badMetaPrompt(
          reason: "invalid placeholder at offset \(text.distance(from: text.startIndex, to: d))")
      }
      guard let v = values[name] else { throw SearchError.badMetaPrompt(reason: "no value for ${\(name)}") }
      out += v
      i = end
    }
    out += text[i...]
    return out
  }
}

/// Sampling settings of the proposer (reference-pipeline 3.3-3.4, thinking-mode sets).
public enum ProposerSampling {
  public static let exploit = SamplingOptions(temperature: 0.6, topP: 0.95, minP: 0.05)
  public static let explore = SamplingOptions(temperature: 1.3, topP: 0.95, minP: 0.1)
  /// Completions: explore adds presence 0.1.
  public static let completionExplore = SamplingOptions(temperature: 1.3, topP: 0.95, minP: 0.1, presencePenalty: 0.1)

  /// `num_exploit = round(M * fraction)` (Python's round: half to even), at least 1 when the
  /// fraction is > 0, at most M; the rest explore.
  public static func split(_ m: Int, exploitFraction f: Double = 0.6) -> (exploit: Int, explore: Int) {
    var e = Int((Double(m) * f).rounded(.toNearestOrEven))
    if f > 0 && e == 0 { e = 1 }
    e = min(e, m)
    return (e, m - e)
  }

  /// Completion c of C uses exploit settings when c < round(C * fraction) (the run's
  /// `exploit_fraction`, as for templates).
  public static func completionUsesExploit(_ c: Int, of total: Int, exploitFraction f: Double = 0.6) -> Bool {
    c < split(total, exploitFraction: f).exploit
  }
}

/// What to do with proposed hyperparameters before training (a recorded run option).
public enum ValidationPolicy: String, ConfigChoice {
  /// The search repo: only max(1, .) on epochs and accumulation; everything else raw (a rank of 0
  /// then fails training and is recorded as a failure).
  case reference
  /// The meta prompt's ranges: rank [4, 64], alpha [1, 256], dropout [0, 0.9], learning rate
  /// [1e-5, 5e-3], epochs [1, 20], accumulation [1, 8]; each clamp is counted.
  case clamped

  public static let ranges: [String: ClosedRange<Double>] = [
    "lora_rank": 4...64, "lora_alpha": 1...256, "lora_dropout": 0...0.9, "learning_rate": 1e-5...5e-3,
    "num_epochs": 1...20, "gradient_accumulation_steps": 1...8,
  ]

  /// The training settings for a template (SEAL's other settings from `base`), and the keys
  /// whose values were changed.
  public func apply(_ t: SelfEditTemplate, base: TrainingSpec) -> (spec: TrainingSpec, changed: [String]) {
    var s = base, changed: [String] = []
    func v(_ k: String) -> Double { t.value(k) ?? 0 }
    var values = Dictionary(uniqueKeysWithValues: SelfEditTemplate.hyperparameterKeys.map { ($0, v($0)) })
    switch self {
    case .reference:
      for k in ["num_epochs", "gradient_accumulation_steps"] where values[k]! < 1 { values[k] = 1; changed.append(k) }
    case .clamped:
      for k in SelfEditTemplate.hyperparameterKeys {
        let r = ValidationPolicy.ranges[k]!
        let c = min(max(values[k]!, r.lowerBound), r.upperBound)
        if c != values[k]! || !values[k]!.isFinite { values[k] = c.isFinite ? c : r.lowerBound; changed.append(k) }
      }
    }
    for k in SelfEditTemplate.hyperparameterKeys { s[hyperparameter: k] = values[k]! }
    return (s, changed)
  }
}

extension TrainingSpec {
  /// A template hyperparameter (the search repo's name) as these settings hold it: the one map
  /// between the two spellings, for the validation policy and for readers of proposals files.
  /// Unknown names read nil and are not written.
  public subscript(hyperparameter key: String) -> Double? {
    get {
      switch key {
      case "lora_rank": Double(rank)
      case "lora_alpha": alpha
      case "lora_dropout": dropout
      case "learning_rate": learningRate
      case "num_epochs": Double(epochs)
      case "gradient_accumulation_steps": Double(gradientAccumulation)
      default: nil
      }
    }
    set {
      guard let v = newValue else { return }
      switch key {
      case "lora_rank": rank = Int(v)
      case "lora_alpha": alpha = v
      case "lora_dropout": dropout = v
      case "learning_rate": learningRate = v
      case "num_epochs": epochs = Int(v)
      case "gradient_accumulation_steps": gradientAccumulation = Int(v)
      default: break
      }
    }
  }
}
