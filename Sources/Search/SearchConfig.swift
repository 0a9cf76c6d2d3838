// SearchConfig.swift: everything that defines a strategy-search run (reference-pipeline 3, and
// SEAL's ReST-EM 2.6), as data. Parsed with every key checked and written back with every default
// filled in, so a run directory says exactly what produced it. Defaults follow the reference where
// a 135M model can follow it, and say so where it cannot (see the module README).
import Experiment
import Foundation
import Workspace

/// A named way of writing self-edits over iterations.
public enum SearchVariant: String, ConfigChoice {
  /// The proposer writes templates from `meta_prompt.txt` (no archive).
  case noArchive = "search-noarchive"
  /// `meta_prompt_archive.txt` with the top-2 and bottom-2 of an append-only archive (3.8).
  case archive = "search-archive"
  /// `meta_prompt_archive.txt` with elites of a MAP-Elites grid (QualityDiversityArchive): the
  /// top-2 and bottom-2 elites by accuracy, cells by the proposed learning rate, elites replaced
  /// on accuracy.
  case qualityDiversity = "search-qd"
  /// The same grid as MAP-Elites proper: 4 parents drawn uniformly (seeded) from the filled
  /// cells, the trained learning rate on the axis, elites replaced on normalized gain.
  case mapElites = "search-map-elites"
  /// The search repo's fixed Rewrite prompt through the same iterations (3.5).
  case rewrite
  /// The search repo's fixed Implications prompt ("from the text", 3.5).
  case implications
  /// ReST-EM on the search repo's inner loop: the implications prompt, SEAL's sequences, top-1
  /// completion per passage (2.6), but EOS appended, pads masked, chat answers, no Topic line, and
  /// the same train passages every iteration.
  case restem
  /// SEAL's ReST-EM as SEAL ran it (2.6): SEAL's inner loop (pads in the loss, no EOS, its answer
  /// template with the Topic line), empty completions dropped, the top-1 of each passage kept with
  /// no filter, SEAL's grading prompt for `reward: judge`, and `trainSplits` for new passages per round.
  case restemSEAL = "restem-seal"

  /// Whether the proposer writes templates (otherwise a fixed prompt is completed).
  public var proposesTemplates: Bool { [.noArchive, .archive, .qualityDiversity, .mapElites].contains(self) }
  /// Whether the meta prompt shows archive entries.
  public var usesArchive: Bool { [.archive, .qualityDiversity, .mapElites].contains(self) }
  /// Whether the archive is the MAP-Elites grid, and how it selects.
  public var gridSelection: QualityDiversityArchive.Selection? {
    switch self {
    case .qualityDiversity: return .topBottom
    case .mapElites: return .mapElites
    default: return nil
    }
  }
  /// SEAL's ReST-EM, either inner loop: raw-text completions, SEAL's sequences, top-1 selection.
  public var isReSTEM: Bool { self == .restem || self == .restemSEAL }
  /// The judge's prompt and verdict rule for `reward: judge`.
  public var judgeRule: JudgeRule { self == .restemSEAL ? .seal : .search }
  /// The fixed prompt of a baseline variant (Data/prompts/<name>.txt).
  public var fixedPrompt: String? {
    switch self {
    case .rewrite: return "rewrite"
    case .implications: return "implications-search"
    case .restem, .restemSEAL: return "implications"
    default: return nil
    }
  }
}

/// How a judge grades an answer: the prompt (Data/prompts/<prompt>.txt) and the verdict rule.
public enum JudgeRule: String, Codable, Sendable {
  /// The search repo's `SQUAD_GRADE_TEMPLATE`; a lone "yes" is correct (3.6).
  case search
  /// SEAL's grading prompt; "yes" and no "no" is correct, an empty answer is "no" unasked (2.4).
  case seal
  public var prompt: String { self == .seal ? "judge-seal" : "judge-search" }
}

/// Where the seed archive's scores come from (archive variants).
public enum SeedScores: String, ConfigChoice {
  /// The seed templates completed and evaluated like proposals on the train passages by the
  /// iteration-0 proposer under the run's reward: seeds and new entries share one scale.
  case measured
  /// The seed file's accuracies, as the reference uses them: measured by the reference's model
  /// and judge, so on another scale than any other reward (a log-likelihood is negative) or model.
  case released
}

/// How the proposer is sampled (reference-pipeline 3.3-3.4).
public struct ProposerSpec: Codable, Equatable, Sendable {
  /// Token cap of a template (the reference allows 12,000 with thinking; SmolLM2 does not think).
  public var templateMaxTokens = 256
  /// Token cap of a completion of a template or of a fixed prompt.
  public var completionMaxTokens = 512
  /// Attempts after the first for an unparseable template or completion (the reference: none).
  public var retries = 2
  /// Decode templates and completions under their JSON schema (the reference's guided_json).
  public var constrained = true
  /// round(M x fraction) templates use exploit sampling, the rest explore (3.3).
  public var exploitFraction = 0.6
  public init() {}
}

public struct SearchConfig: Codable, Equatable, Sendable {
  public var name = "search"
  /// An engine worker's URL (`seb worker`, the PyTorch worker); nil: the in-process engine.
  /// Where a run computes, not what it computes: not part of the canonical config.
  public var engine: String? = nil
  public var seed: UInt64 = 0
  public var variant = SearchVariant.noArchive
  /// Evaluated iterations; the proposer is updated after each but the last.
  public var iterations = 2
  /// M: templates proposed per iteration (1 for the fixed-prompt variants).
  public var templates = 3
  /// C: completions per template and train passage.
  public var completions = 1
  /// C of the fixed-prompt variants on train passages (nil: M x C, the reference's budget match).
  public var baselineCompletions: Int? = nil
  /// E: evaluation runs (fresh adapters) per self-edit.
  public var runs = 1
  public var trainSplit = "train50"
  /// The train split of each iteration (nil: `trainSplit` every time, as the search repo). SEAL's
  /// ReST-EM drew new passages for round 2: ["seal-iter0", "seal-iter1"] are its two rounds'.
  public var trainSplits: [String]? = nil
  public var trainPassages = 8
  public var validationSplit = "val200"
  public var validationPassages = 20
  /// What ranks templates and completions, and fills the archive: a Metric raw value (`judge`
  /// needs `judge`, the paper's reward).
  public var reward = Metric.goldLogLikelihood
  /// The yes/no judge (OpenAI-compatible) of `reward: judge`, asked with the search repo's
  /// grading prompt (Data/prompts/judge-search.txt); when given, every stage is also judged.
  public var judge: EndpointSpec? = nil
  public var validationPolicy = ValidationPolicy.clamped
  /// Archive variants: `measured` (nil means measured; written out for archive variants).
  public var seedArchive: SeedScores? = nil
  public var proposer = ProposerSpec()
  /// The inner loop; a template's six hyperparameters replace rank, alpha, dropout, lr, epochs, GA.
  public var training: TrainingSpec = SearchConfig.searchTraining
  public var evaluation: EvaluationSpec = SearchConfig.searchEvaluation
  public var sft = SFTSpec()
  public init() {}

  /// The offline metrics, computed for every evaluation.
  public static let rewards: [Metric] = [.goldLogLikelihood, .containsSingle, .containsAll, .f1All, .emAll]
  /// What `reward` may be, as errors say it.
  static let rewardChoices = (rewards + [.judge]).map(\.rawValue).joined(separator: ", ")
  /// Every metric a stage's results report: the offline ones, and the judge's when one is configured.
  public var metrics: [Metric] { SearchConfig.rewards + (judge == nil ? [] : [.judge]) }

  /// The search repo's adapter training: q, v; `<|im_end|>` appended; pads masked (3.6).
  public static var searchTraining: TrainingSpec {
    var t = TrainingSpec()
    t.appendEOS = true
    return t
  }

  /// The search repo's answering without thinking: chat messages with its system prompt, no
  /// "Topic:" prefix; greedy, 64 tokens (SmolLM2 has no thinking mode, reference-pipeline 5 X2).
  public static var searchEvaluation: EvaluationSpec {
    var e = EvaluationSpec()
    e.template = .chat
    e.topic = false
    return e
  }

  /// SEAL's inner loop (reference-pipeline 2.3): pads (EOS) in the loss up to 2,048 tokens, no EOS
  /// appended; the other settings are the harness defaults, which are SEAL's.
  public static var sealTraining: TrainingSpec {
    var t = TrainingSpec()
    t.lossMask = .sealPadded
    return t
  }

  /// E of a stage: SEAL evaluated each round's model with one run per self-edit (eval_times 1,
  /// 2.4) and ranked with 3; the search repo uses E everywhere.
  public func runs(stage: String) -> Int { stage == "val" && variant == .restemSEAL ? 1 : runs }

  /// The train split of iteration `i`.
  public func trainSplit(iteration i: Int) -> String { trainSplits.map { $0[min(i, $0.count - 1)] } ?? trainSplit }
  /// Every split the run reads, each once.
  public var splits: [String] {
    var out: [String] = []
    for s in (trainSplits ?? [trainSplit]) + [validationSplit] where !out.contains(s) { out.append(s) }
    return out
  }

  public var seedScores: SeedScores { seedArchive ?? .measured }
  /// Templates per iteration as evaluated: M for the search, one fixed prompt otherwise.
  public var templatesPerIteration: Int { variant.proposesTemplates ? templates : 1 }
  /// Completions per (template, train passage).
  public var trainCompletions: Int {
    variant.proposesTemplates ? completions : (baselineCompletions ?? templates * completions)
  }

  /// Whether a config file is a search config (it names a variant).
  public static func isSearchConfig(_ data: Data) -> Bool {
    (try? JSONValue.parse(data))?["variant"] != nil
  }

  /// `variant`: a variant to run instead of the file's (`seb search --variant`); its defaults apply
  /// to every key the file leaves out, as if the file named it.
  public static func parse(_ data: Data, path: String, variant override: SearchVariant? = nil) throws -> SearchConfig {
    let root = try JSONNode.parse(data, path: path)
    // Optional keys are named here (their default, nil, encodes no key); the rest by the types.
    func decoded(_ defaults: SearchConfig) throws -> SearchConfig {
      try root.decode(
        defaults,
        optional: ["engine", "baselineCompletions", "trainSplits", "judge", "seedArchive", "training.maxGradNorm"],
        shapes: ["judge": EndpointSpec.shape])
    }
    var c = try decoded(SearchConfig())
    let variant = override ?? c.variant
    // restem-seal's inner loop is SEAL's: the file's training and evaluation keys amend that instead.
    if variant == .restemSEAL {
      var defaults = SearchConfig()
      (defaults.training, defaults.evaluation) = (SearchConfig.sealTraining, EvaluationSpec())
      c = try decoded(defaults)
    }
    c.variant = variant
    let given = try root.object()
    func node(_ key: String, _ value: JSONValue?) -> JSONNode { JSONNode(value: value ?? .null, path: path, key: key) }
    if let list = c.trainSplits {
      guard let first = list.first else {
        throw node("trainSplits", given["trainSplits"]).fail("a non-empty list of split names")
      }
      if let t = given["trainSplit"], let s = t.string, s != first {
        throw node("trainSplit", t).fail("trainSplits[0] (\(first)) when both are given")
      }
      c.trainSplit = first  // the canonical form names the first iteration's split in both keys
    }
    // Evaluation runs are the top-level "runs"; the canonical form carries the unused default 1.
    if c.evaluation.runs != 1 {
      throw node("evaluation.runs", given["evaluation"]?["runs"])
        .fail("1 (evaluation runs are the top-level 'runs')")
    }
    c.seedArchive = c.variant.usesArchive ? c.seedScores : nil  // the canonical form
    try c.validate(path: path)
    return c
  }

  public static func load(path: String, variant: SearchVariant? = nil) throws -> SearchConfig {
    try parse(try ConfigFile.read(path, what: "search config"), path: path, variant: variant)
  }

  public func validate(path: String = "config") throws {
    func bad(_ key: String, _ expected: String, _ found: Any) -> ExperimentError {
      .malformed(path: path, key: key, expected: expected, found: "\(found)")
    }
    try ConfigFile.checkName(name, path: path)
    guard (1...50).contains(iterations) else { throw bad("iterations", "1...50", iterations) }
    guard (1...64).contains(templates) else { throw bad("templates", "1...64", templates) }
    guard (1...64).contains(completions) else { throw bad("completions", "1...64", completions) }
    if let b = baselineCompletions { guard (1...64).contains(b) else { throw bad("baselineCompletions", "1...64", b) } }
    guard (1...32).contains(runs) else { throw bad("runs", "1...32", runs) }
    // restem-seal's last iteration only validates for SEAL (its ranking reuses the last split).
    let ranked = variant == .restemSEAL ? max(1, iterations - 1) : iterations
    if let s = trainSplits, s.count < ranked {
      throw bad("trainSplits", "one split per ranked iteration (\(ranked))", "\(s.count)")
    }
    guard (1...10_000).contains(trainPassages) else { throw bad("trainPassages", "1...10000", trainPassages) }
    guard (1...10_000).contains(validationPassages) else {
      throw bad("validationPassages", "1...10000", validationPassages)
    }
    guard metrics.contains(reward) else {
      if reward == .judge {
        throw bad("judge", "an endpoint {url, model} for reward judge", "none")
      }
      throw bad("reward", SearchConfig.rewardChoices, reward.rawValue)
    }
    if let j = judge { try j.validate(path: path, key: "judge") }
    guard (1...8192).contains(proposer.templateMaxTokens) else {
      throw bad("proposer.templateMaxTokens", "1...8192", proposer.templateMaxTokens)
    }
    guard (1...8192).contains(proposer.completionMaxTokens) else {
      throw bad("proposer.completionMaxTokens", "1...8192", proposer.completionMaxTokens)
    }
    guard (0...10).contains(proposer.retries) else { throw bad("proposer.retries", "0...10", proposer.retries) }
    guard proposer.exploitFraction >= 0, proposer.exploitFraction <= 1 else {
      throw bad("proposer.exploitFraction", "[0, 1]", proposer.exploitFraction)
    }
    try training.validate(path: path, key: "training")
    try evaluation.validate(path: path, key: "evaluation")
    guard (1...1024).contains(sft.rank) else { throw bad("sft.rank", "1...1024", sft.rank) }
    guard sft.alpha.isFinite, sft.alpha > 0 else { throw bad("sft.alpha", "a finite value > 0", sft.alpha) }
    guard sft.learningRate.isFinite, sft.learningRate > 0, sft.learningRate <= 1 else {
      throw bad("sft.learningRate", "(0, 1]", sft.learningRate)
    }
    guard (1...100).contains(sft.epochs) else { throw bad("sft.epochs", "1...100", sft.epochs) }
    guard (1...1024).contains(sft.gradientAccumulation) else {
      throw bad("sft.gradientAccumulation", "1...1024", sft.gradientAccumulation)
    }
    guard (16...32768).contains(sft.maxLength) else { throw bad("sft.maxLength", "16...32768", sft.maxLength) }
  }

  /// Every default filled in; `seedArchive` only where it applies (archive variants), so configs
  /// of the other variants read the same as before the key existed.
  public func canonical() throws -> Data {
    var c = self
    c.seedArchive = variant.usesArchive ? seedScores : nil
    c.engine = nil
    return try CanonicalJSON.pretty(c)
  }
}
