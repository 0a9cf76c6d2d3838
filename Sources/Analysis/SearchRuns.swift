// SearchRuns.swift: a strategy-search run directory (written by `seb search`) read as plain JSON,
// for the collapse analysis and reports of our own runs: per iteration the train templates (the
// groups the paper's collapse figures score), their scores, the training data's length, and the
// validation result with intervals. Reads files only; never the runtime.
import Foundation
import Search

public struct SearchRunIteration: Sendable {
  public var iteration: Int
  /// The train stage's valid templates (instruction + proposed hyperparameters).
  public var templates: [Template]
  /// Per template: the reward's mean accuracy and normalized gain on the train passages.
  public var templateScores: [(accuracy: Double, normalizedGain: Double)]
  /// Template slots and how many never parsed; completions and how many failed; templates clamped.
  public var slots: Int
  public var failedProposals: Int
  public var completions: Int
  public var failedCompletions: Int
  public var clampedTemplates: Int
  /// Mean tokens of the train completions' sequences (failed ones left out).
  public var meanDataTokens: Double?
  /// Validation: metric -> (score, its 95% interval over passages; gain over the baseline, its interval).
  public var validation: [String: (score: Estimate, gain: Estimate, baseline: Double)]
  /// The validation stage's template (instruction + proposed hyperparameters).
  public var validationTemplate: Template?
  public var coverage: Double?
  public var qdScore: Double?
  public var archiveSize: Int?
  public var sftRows: Int?
}

public struct SearchRun: Sendable {
  public var dir: String
  public var name: String
  public var variant: String
  public var reward: String
  public var complete: Bool
  public var iterations: [SearchRunIteration]
  /// The run's `config.json` (every default filled in).
  public var config: JSONValue = .null
  /// Archive variants with measured seed scores: the seed templates with the run's reward and
  /// normalized gain on the train passages (`iter-00/seed-*`); empty otherwise.
  public var seeds: [(template: Template, accuracy: Double, normalizedGain: Double)] = []

  /// Whether `dir` holds a search run (its config names a variant).
  public static func isSearchRun(_ dir: String) -> Bool {
    guard let d = FileManager.default.contents(atPath: SearchLayout(dir).config),
      let v = try? JSONValue.parse(d, path: dir)
    else { return false }
    return v["variant"] != nil
  }

  /// Reads every finished iteration (an iteration counts once its validation results exist).
  public static func load(_ dir: String) throws -> SearchRun {
    let layout = SearchLayout(dir)
    let config = try JSONValue.load(layout.config)
    guard case .string(let variant)? = config["variant"], case .string(let name)? = config["name"] else {
      throw AnalysisError.malformed(
        path: layout.config, key: "variant", expected: "a search config", found: config.kind)
    }
    var reward = SearchConfig().reward.rawValue
    if case .string(let r)? = config["reward"] { reward = r }
    var its: [SearchRunIteration] = []
    var total = 0
    if let n = config["iterations"]?.int { total = n }
    for i in 0..<max(total, 0) {
      guard FileManager.default.fileExists(atPath: layout.file(.valResults, iteration: i)) else { break }
      its.append(try iteration(i, layout: layout, reward: reward))
    }
    var run = SearchRun(
      dir: dir, name: name, variant: variant, reward: reward,
      complete: FileManager.default.fileExists(atPath: layout.summary) && its.count == total, iterations: its)
    run.config = config
    let seedResults = layout.file(.seedResults, iteration: 0), seedProposals = layout.file(.seedProposals, iteration: 0)
    if FileManager.default.fileExists(atPath: seedResults) {
      let t = try templates(try JSONValue.load(seedProposals), path: seedProposals)
      let s = scores(try JSONValue.load(seedResults), reward: reward)
      run.seeds = zip(t, s).map { ($0, $1.accuracy, $1.normalizedGain) }
    }
    return run
  }

  /// The valid templates of a proposals file (instruction + proposed hyperparameters).
  public static func templates(_ proposals: JSONValue, path: String) throws -> [Template] {
    var templates: [Template] = []
    for (j, t) in array(proposals["templates"]).enumerated() {
      let hpText = try string(t["hyperparameters"], path, "templates[\(j)].hyperparameters")
      let hp = try JSONValue.parse(Data(hpText.utf8), path: path + " templates[\(j)].hyperparameters")
      guard case .object(let o) = hp else {
        throw AnalysisError.malformed(
          path: path, key: "templates[\(j)].hyperparameters", expected: "an object", found: hp.kind)
      }
      templates.append(
        Template(
          instruction: try string(t["instruction"], path, "templates[\(j)].instruction"), hyperparameters: o,
          clamped: clamped(t)))
    }
    return templates
  }

  /// The clamped keys of a proposals-file template, with the values its `training` settings used.
  static func clamped(_ t: JSONValue) -> [String: Double] {
    let field = [
      "lora_rank": "rank", "lora_alpha": "alpha", "lora_dropout": "dropout", "learning_rate": "learningRate",
      "num_epochs": "epochs", "gradient_accumulation_steps": "gradientAccumulation",
    ]
    var out: [String: Double] = [:]
    for case .string(let k) in array(t["clamped"]) {
      if let f = field[k], let v = number(t["training"]?[f]) { out[k] = v }
    }
    return out
  }

  /// Per template of a results file: the reward's accuracy and normalized gain.
  static func scores(_ results: JSONValue, reward: String) -> [(accuracy: Double, normalizedGain: Double)] {
    array(results["templates"]).map { t in
      (number(t["accuracy"]?[reward]) ?? .nan, number(t["normalizedGain"]?[reward]) ?? .nan)
    }
  }

  static func string(_ v: JSONValue?, _ path: String, _ key: String) throws -> String {
    guard case .string(let s)? = v else {
      throw AnalysisError.malformed(path: path, key: key, expected: "a string", found: v?.kind ?? "missing")
    }
    return s
  }

  static func number(_ v: JSONValue?) -> Double? {
    switch v {
    case .integer?, .number?: return v?.double
    case .string(let s)?: return s == "NaN" ? .nan : s == "Infinity" ? .infinity : s == "-Infinity" ? -.infinity : nil
    default: return nil
    }
  }

  static func array(_ v: JSONValue?) -> [JSONValue] { if case .array(let a)? = v { return a }; return [] }

  static func estimate(_ v: JSONValue?) -> Estimate {
    Estimate(
      mean: number(v?["mean"]) ?? .nan, lower: number(v?["lower"]) ?? .nan, upper: number(v?["upper"]) ?? .nan,
      n: Int(number(v?["n"]) ?? 0))
  }

  static func iteration(_ i: Int, layout: SearchLayout, reward: String) throws -> SearchRunIteration {
    let f = { (file: SearchLayout.File) in layout.file(file, iteration: i) }
    let proposals = try JSONValue.load(f(.trainProposals))
    let results = try JSONValue.load(f(.trainResults))
    let completions = try JSONValue.load(f(.trainCompletions))
    let val = try JSONValue.load(f(.valResults))
    let templates = try templates(proposals, path: f(.trainProposals))
    let scores = scores(results, reward: reward)
    let comps = array(completions["completions"])
    let ok = comps.filter { $0["failure"] == nil || $0["failure"] == .null }
    let tokens = ok.compactMap { number($0["dataTokens"]) }
    var validation: [String: (score: Estimate, gain: Estimate, baseline: Double)] = [:]
    if case .object(let o)? = val["overall"] {
      for (metric, v) in o {
        validation[metric] = (
          estimate(v["accuracyInterval"]), estimate(v["gainInterval"]), number(v["baseline"]) ?? .nan
        )
      }
    }
    var valTemplate: Template?
    if let p = try? JSONValue.load(f(.valProposals)), let t = array(p["templates"]).first,
      case .string(let s)? = t["instruction"]
    {
      var hp: [String: JSONValue] = [:]
      if case .string(let h)? = t["hyperparameters"],
        case .object(let o)? = try? JSONValue.parse(Data(h.utf8), path: f(.valProposals))
      {
        hp = o
      }
      valTemplate = Template(instruction: s, hyperparameters: hp, clamped: clamped(t))
    }
    var coverage: Double?, qd: Double?, size: Int?
    if let a = try? JSONValue.load(f(.archive)) {
      coverage = number(a["coverage"]); qd = number(a["qdScore"]); size = array(a["entries"]).count
    }
    var rows: Int?
    if let s = try? Data(contentsOf: URL(fileURLWithPath: f(.sftRows))) {
      rows = s.split(separator: 0x0A).count
    }
    return SearchRunIteration(
      iteration: i, templates: templates, templateScores: scores, slots: Int(number(proposals["slots"]) ?? 0),
      failedProposals: Int(number(results["failedProposals"]) ?? 0), completions: comps.count,
      failedCompletions: comps.count - ok.count, clampedTemplates: Int(number(results["clampedTemplates"]) ?? 0),
      meanDataTokens: tokens.isEmpty ? nil : tokens.reduce(0, +) / Double(tokens.count), validation: validation,
      validationTemplate: valTemplate, coverage: coverage, qdScore: qd, archiveSize: size, sftRows: rows)
  }
}
