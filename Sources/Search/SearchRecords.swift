// SearchRecords.swift: what a search run stores per iteration and stage, the types its writer
// (SearchLoop) and its readers (Analysis, Reporting) share. Every file is canonical JSON (same
// values, same bytes) so a resumed or sharded run can be compared byte for byte, and the analysis
// reads these files alone (templates with the model's raw text, completions, per-passage
// evaluations, results, archive, SFT rows, training logs). Public memberwise initializers: the
// writer lives in another module.
import Experiment
import Foundation
import Workspace

/// One sampling of the proposer for one template slot (the model's raw text is kept).
public struct ProposalAttempt: Codable, Equatable, Sendable {
  public var slot: Int
  /// "exploit" or "explore" (reference-pipeline 3.3).
  public var category: String
  public var attempt: Int
  public var seed: UInt64
  public var text: String
  public var tokens: Int
  public var finish: String
  /// Why the text is not a template (nil: it parsed).
  public var failure: String?

  public init(
    slot: Int, category: String, attempt: Int, seed: UInt64, text: String, tokens: Int, finish: String,
    failure: String? = nil
  ) {
    (self.slot, self.category, self.attempt, self.seed, self.text, self.tokens, self.finish, self.failure) = (
      slot, category, attempt, seed, text, tokens, finish, failure
    )
  }
}

/// A template the iteration evaluates: the parsed object and the training settings it gets.
public struct ProposedTemplate: Codable, Equatable, Sendable {
  /// Position among the iteration's valid templates (t).
  public var index: Int
  public var slot: Int
  public var category: String
  public var instruction: String
  /// json.dumps of the hyperparameters object as proposed (key order and int/float kept).
  public var hyperparameters: String
  /// The inner loop's settings after the validation policy.
  public var training: TrainingSpec
  /// Hyperparameters the policy changed.
  public var clamped: [String]

  /// The keys the validation policy changed, with the values trained instead.
  public var clampedValues: [String: Double] {
    Dictionary(clamped.compactMap { k in training[hyperparameter: k].map { (k, $0) } }, uniquingKeysWith: { a, _ in a })
  }

  /// The template as the Search module handles it.
  public func template() throws -> SelfEditTemplate {
    SelfEditTemplate(
      instruction: instruction,
      hyperparameters: try PyJSON.loads(hyperparameters, source: "template \(index) hyperparameters"))
  }

  public init(
    index: Int, slot: Int, category: String, instruction: String, hyperparameters: String, training: TrainingSpec,
    clamped: [String]
  ) {
    (self.index, self.slot, self.category, self.instruction, self.hyperparameters, self.training, self.clamped) = (
      index, slot, category, instruction, hyperparameters, training, clamped
    )
  }
}

/// The propose stage of one iteration and stage (train or validation).
public struct ProposalStage: Codable, Equatable, Sendable {
  /// The meta prompt exactly as sent (archive substituted), or the fixed prompt's name.
  public var prompt: String
  public var slots: Int
  public var attempts: [ProposalAttempt]
  public var templates: [ProposedTemplate]
  public var failedSlots: Int { slots - templates.count }

  public init(prompt: String, slots: Int, attempts: [ProposalAttempt], templates: [ProposedTemplate]) {
    (self.prompt, self.slots, self.attempts, self.templates) = (prompt, slots, attempts, templates)
  }
}

/// One completion of a template on a passage: the raw text and the sequences it gives.
public struct CompletionRecord: Codable, Equatable, Sendable {
  public var template: Int
  /// Position in the stage's passage list.
  public var passage: Int
  public var completion: Int
  public var category: String
  public var seed: UInt64
  public var attempts: Int
  public var text: String
  public var tokens: Int
  public var finish: String
  public var sequences: [String]
  /// Tokens of the sequences (the training data's length; the QD descriptor).
  public var dataTokens: Int
  public var failure: String?

  public init(
    template: Int, passage: Int, completion: Int, category: String, seed: UInt64, attempts: Int, text: String,
    tokens: Int, finish: String, sequences: [String], dataTokens: Int, failure: String? = nil
  ) {
    (
      self.template, self.passage, self.completion, self.category, self.seed, self.attempts, self.text, self.tokens,
      self.finish, self.sequences, self.dataTokens, self.failure
    ) = (template, passage, completion, category, seed, attempts, text, tokens, finish, sequences, dataTokens, failure)
  }
}

public struct CompletionStage: Codable, Equatable, Sendable {
  public var completions: [CompletionRecord]

  public init(completions: [CompletionRecord]) {
    self.completions = completions
  }
}

/// The adapter's training as recorded (the whole loss trajectory stays in memory only).
public struct TrainingBrief: Codable, Equatable, Sendable {
  public var sequences: Int
  public var steps: Int
  public var tokens: Int
  public var firstLoss: Double
  public var lastLoss: Double
  public init(_ s: TrainingSummary) {
    sequences = s.sequences; steps = s.steps; tokens = s.tokens
    firstLoss = s.losses.first ?? .nan; lastLoss = s.losses.last ?? .nan
  }
}

/// One evaluation: the un-adapted model on a passage (template nil), or one adapter.
public struct SearchEvalRecord: Codable, Equatable, Sendable {
  public var key: String
  public var passage: Int
  public var template: Int?
  public var completion: Int?
  public var run: Int?
  /// Mean over the passage's questions (empty on failure).
  public var scores: [Metric: Double]
  public var answers: [String]
  public var training: TrainingBrief?
  public var failure: String?

  public static func baselineKey(passage: Int) -> String { String(format: "a%03d/base", passage) }
  public static func key(passage: Int, template: Int, completion: Int, run: Int) -> String {
    String(format: "a%03d/t%03d/c%03d/e%03d", passage, template, completion, run)
  }

  public init(
    key: String, passage: Int, template: Int? = nil, completion: Int? = nil, run: Int? = nil, scores: [Metric: Double],
    answers: [String], training: TrainingBrief? = nil, failure: String? = nil
  ) {
    (
      self.key, self.passage, self.template, self.completion, self.run, self.scores, self.answers, self.training,
      self.failure
    ) = (key, passage, template, completion, run, scores, answers, training, failure)
  }
}

/// Scores of one answered passage: every offline metric's mean over its questions.
public func passageScores(_ answers: [AnswerRecord]) -> [Metric: Double] {
  var out: [Metric: Double] = [:]
  for m in SearchConfig.rewards {
    let v = answers.compactMap { $0.grades.value(m) }
    if !v.isEmpty { out[m] = v.reduce(0, +) / Double(v.count) }
  }
  return out
}

/// Metrics of one stage (write_results, reference-pipeline 3.7) for the reward and every metric.
public struct StageResults: Codable, Equatable, Sendable {
  public struct Template: Codable, Equatable, Sendable {
    public var index: Int
    public var instruction: String
    public var hyperparameters: String
    /// Per metric: self_edit_template_mean_acc and the normalized gain (no epsilon).
    public var accuracy: [Metric: Double]
    public var normalizedGain: [Metric: Double]
    public var evaluated: Int
    public var failed: Int
    public var meanDataTokens: Double

    public init(
      index: Int, instruction: String, hyperparameters: String, accuracy: [Metric: Double],
      normalizedGain: [Metric: Double], evaluated: Int, failed: Int, meanDataTokens: Double
    ) {
      (
        self.index, self.instruction, self.hyperparameters, self.accuracy, self.normalizedGain, self.evaluated,
        self.failed, self.meanDataTokens
      ) = (index, instruction, hyperparameters, accuracy, normalizedGain, evaluated, failed, meanDataTokens)
    }
  }
  public struct Overall: Codable, Equatable, Sendable {
    public var baseline: Double
    public var accuracy: Double
    public var gain: Double
    public var winRate: Double
    public var normalizedGain: Double
    /// Over passages: the passage's adapted mean and its gain over its baseline (95% bootstrap).
    public var accuracyInterval: Estimate
    public var gainInterval: Estimate

    public init(
      baseline: Double, accuracy: Double, gain: Double, winRate: Double, normalizedGain: Double,
      accuracyInterval: Estimate, gainInterval: Estimate
    ) {
      (
        self.baseline, self.accuracy, self.gain, self.winRate, self.normalizedGain, self.accuracyInterval,
        self.gainInterval
      ) = (baseline, accuracy, gain, winRate, normalizedGain, accuracyInterval, gainInterval)
    }
  }
  public var reward: Metric
  public var passages: Int
  public var templates: [Template]
  public var overall: [Metric: Overall]
  public var evaluations: Int
  public var failedEvaluations: Int
  public var failedCompletions: Int
  public var failedProposals: Int
  public var clampedTemplates: Int

  public init(
    reward: Metric, passages: Int, templates: [Template], overall: [Metric: Overall], evaluations: Int,
    failedEvaluations: Int, failedCompletions: Int, failedProposals: Int, clampedTemplates: Int
  ) {
    (
      self.reward, self.passages, self.templates, self.overall, self.evaluations, self.failedEvaluations,
      self.failedCompletions, self.failedProposals, self.clampedTemplates
    ) = (
      reward, passages, templates, overall, evaluations, failedEvaluations, failedCompletions, failedProposals,
      clampedTemplates
    )
  }
}

/// The archive after an iteration (search-archive: every entry; search-qd: the elites by cell).
public struct ArchiveFile: Codable, Equatable, Sendable {
  public struct Entry: Codable, Equatable, Sendable {
    public var instruction: String
    public var hyperparameters: String
    public var accuracy: Double
    public var normalizedGain: Double
    /// search-qd: the grid cell (length bucket, learning-rate bucket) and the descriptor.
    public var cell: [Int]?
    public var meanDataTokens: Double?

    public init(
      instruction: String, hyperparameters: String, accuracy: Double, normalizedGain: Double, cell: [Int]? = nil,
      meanDataTokens: Double? = nil
    ) {
      (self.instruction, self.hyperparameters, self.accuracy, self.normalizedGain, self.cell, self.meanDataTokens) = (
        instruction, hyperparameters, accuracy, normalizedGain, cell, meanDataTokens
      )
    }
  }
  public var entries: [Entry]
  /// search-qd only.
  public var coverage: Double?
  public var qdScore: Double?

  public init(entries: [Entry], coverage: Double? = nil, qdScore: Double? = nil) {
    (self.entries, self.coverage, self.qdScore) = (entries, coverage, qdScore)
  }
}

/// Wall time of one stage (`timings.jsonl`; kept apart so every other file is byte-reproducible).
public struct StageTiming: Codable, Equatable, Sendable {
  public var stage: String
  public var seconds: Double

  public init(stage: String, seconds: Double) {
    (self.stage, self.seconds) = (stage, seconds)
  }
}

/// The run directory's manifest: what produced it, and every invocation.
public struct SearchManifest: Codable, Equatable, Sendable {
  public var config: SearchConfig
  public var configSHA256: String
  public var model: String
  public var modelSHA256: String
  public var dataFiles: [String: String]
  public var promptSHA256: [String: String]
  public var gitCommit: String
  public var invocations: [Invocation]
  public var engine: EngineIdentity?

  public init(
    config: SearchConfig, configSHA256: String, model: String, modelSHA256: String, dataFiles: [String: String],
    promptSHA256: [String: String], gitCommit: String, invocations: [Invocation], engine: EngineIdentity? = nil
  ) {
    (
      self.config, self.configSHA256, self.model, self.modelSHA256, self.dataFiles, self.promptSHA256, self.gitCommit,
      self.invocations, self.engine
    ) = (config, configSHA256, model, modelSHA256, dataFiles, promptSHA256, gitCommit, invocations, engine)
  }
}
