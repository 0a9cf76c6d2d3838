// Trainer.swift: the API the harness calls. Base model + sequences + adapter config + training
// config -> trained adapter + log.
//
// Semantics follow the HF Trainer defaults both reference pipelines use: AdamW (0.9, 0.999, 1e-8,
// wd 0), linear decay to 0 without warm-up, gradient clipping at 1.0, a seeded shuffle per epoch,
// loss = mean over every target of the accumulation group (not a mean of per-sequence means).
// Invariants: every hyperparameter and sequence is validated before any work; a non-finite loss
// or gradient stops the run with the step number; the base model is never written.
import Foundation
import LLM

/// One training sequence: token ids (no BOS is added) and, for completion-only loss, how many
/// leading tokens are prompt.
public struct TrainingExample: Sendable, Equatable {
  public var tokens: [Int]
  public var promptLength: Int
  public init(tokens: [Int], promptLength: Int = 0) { self.tokens = tokens; self.promptLength = promptLength }
}

/// Which next-token predictions count in the loss (HF labels = -100 elsewhere).
public enum LossMask: Sendable, Equatable {
  /// Every next token (labels = input_ids): SEAL's unpadded case and the lora.json reference.
  case allTokens
  /// Only tokens at index >= promptLength (TRL's completion_only_loss for prompt/completion).
  case completionOnly
  /// SEAL's inner loop (reference-pipeline 2.3, 5 SEAL item 1): right-pad with `padToken` to
  /// `length` and train on the pads too (pad = EOS, labels = input_ids, no -100). Pad keys are
  /// masked in attention (the tokenizer's attention_mask) and positions keep counting.
  case sealPadded(padToken: Int, length: Int)

  /// (tokens, targets, valid keys) for one example; targets[t] < 0 means no loss at t.
  public func prepare(_ e: TrainingExample) -> (tokens: [Int], targets: [Int], validKeys: Int?) {
    var toks = e.tokens
    var validKeys: Int? = nil
    if case .sealPadded(let pad, let length) = self, toks.count < length {
      validKeys = toks.count
      toks += [Int](repeating: pad, count: length - toks.count)
    }
    var targets = [Int](repeating: -1, count: toks.count)
    for t in 0..<max(0, toks.count - 1) {
      switch self {
      case .allTokens, .sealPadded: targets[t] = toks[t + 1]
      case .completionOnly: if t + 1 >= e.promptLength { targets[t] = toks[t + 1] }
      }
    }
    return (toks, targets, validKeys)
  }
}

/// Optimisation settings (defaults = HF TrainingArguments defaults + SEAL's inner loop).
public struct TrainingConfig: Sendable, Equatable {
  public var learningRate: Double = 1e-3
  public var epochs: Int = 1
  /// Sequences per micro-batch (processed one by one; gradients add up, so identical to a padded
  /// batch with pads masked).
  public var batchSize: Int = 1
  public var gradientAccumulation: Int = 1
  public var schedule: LRSchedule = .linear
  /// nil = no clipping; HF default 1.0.
  public var maxGradNorm: Double? = 1.0
  public var weightDecay: Double = 0
  public var beta1: Double = 0.9, beta2: Double = 0.999, adamEps: Double = 1e-8
  public var lossMask: LossMask = .allTokens
  public var shuffle: Bool = true
  public var seed: UInt64 = 42
  /// Longest accepted sequence (after padding); nil = the model's context length.
  public var maxLength: Int? = nil

  public init() {}
  public init(
    learningRate: Double, epochs: Int, batchSize: Int = 1, gradientAccumulation: Int = 1,
    schedule: LRSchedule = .linear, maxGradNorm: Double? = 1.0, lossMask: LossMask = .allTokens,
    seed: UInt64 = 42
  ) {
    self.learningRate = learningRate; self.epochs = epochs; self.batchSize = batchSize
    self.gradientAccumulation = gradientAccumulation; self.schedule = schedule
    self.maxGradNorm = maxGradNorm; self.lossMask = lossMask; self.seed = seed
  }

  public func validate() throws {
    func bad(_ n: String, _ v: Any, _ e: String) -> TrainingError {
      .badHyperparameter(name: n, value: "\(v)", expected: e)
    }
    guard learningRate.isFinite, learningRate >= 0 else {
      throw bad("learning_rate", learningRate, "a finite value >= 0")
    }
    guard epochs >= 1 else { throw bad("epochs", epochs, ">= 1") }
    guard batchSize >= 1 else { throw bad("batch_size", batchSize, ">= 1") }
    guard gradientAccumulation >= 1 else { throw bad("gradient_accumulation_steps", gradientAccumulation, ">= 1") }
    if let g = maxGradNorm {
      guard g.isFinite, g > 0 else { throw bad("max_grad_norm", g, "a finite value > 0 (or none)") }
    }
    guard weightDecay.isFinite, weightDecay >= 0 else { throw bad("weight_decay", weightDecay, "a finite value >= 0") }
    guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1 else {
      throw bad("adam_betas", "(\(beta1), \(beta2))", "each in [0, 1)")
    }
    guard adamEps.isFinite, adamEps > 0 else { throw bad("adam_epsilon", adamEps, "a finite value > 0") }
    switch schedule {
    case .linearWithWarmup(let w), .constantWithWarmup(let w):
      guard w >= 0 else { throw bad("warmup_steps", w, ">= 0") }
    default: break
    }
    if case .sealPadded(let pad, let length) = lossMask {
      guard pad >= 0, length >= 2 else {
        throw bad("loss_mask.sealPadded", "pad \(pad), length \(length)", "pad >= 0, length >= 2")
      }
    }
    if let m = maxLength { guard m >= 2 else { throw bad("max_length", m, ">= 2") } }
  }
}

/// What happened at one optimizer step.
public struct TrainingStep: Sendable, Equatable, Codable {
  public var step: Int  // 0-based optimizer step
  public var epoch: Int
  public var loss: Double  // mean over the group's targets, before the update
  public var learningRate: Double
  public var gradNorm: Double  // before clipping
  public var tokens: Int  // tokens run through the model (padding included)
  public var targets: Int
  public var seconds: Double
}

public struct TrainingLog: Sendable, Equatable, Codable {
  public var steps: [TrainingStep] = []
  public var tokens: Int { steps.reduce(0) { $0 + $1.tokens } }
  public var seconds: Double { steps.reduce(0) { $0 + $1.seconds } }
  public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
  public var losses: [Double] { steps.map(\.loss) }
}

public enum LoRATrainer {
  /// Trains a fresh adapter made from `adapterConfig` on `examples`.
  /// `progress` is called after each optimizer step with the step and the total step count.
  public static func train(
    model: ModelWeights, examples: [TrainingExample], adapterConfig: LoRAConfig, config: TrainingConfig,
    progress: ((TrainingStep, Int) -> Void)? = nil
  ) throws -> (adapter: LoRAAdapter, log: TrainingLog) {
    try config.validate()
    let adapter = try LoRAAdapter(config: adapterConfig, shape: model.config)
    let log = try train(model: model, examples: examples, adapter: adapter, config: config, progress: progress)
    return (adapter, log)
  }

  /// Prompt/completion pairs as token ids: the prompt is masked under `.completionOnly`.
  public static func train(
    model: ModelWeights, pairs: [(prompt: [Int], completion: [Int])], adapterConfig: LoRAConfig,
    config: TrainingConfig, progress: ((TrainingStep, Int) -> Void)? = nil
  ) throws -> (adapter: LoRAAdapter, log: TrainingLog) {
    try train(
      model: model,
      examples: pairs.map { TrainingExample(tokens: $0.prompt + $0.completion, promptLength: $0.prompt.count) },
      adapterConfig: adapterConfig, config: config, progress: progress)
  }

  /// Continues training `adapter` in place (its pairs receive the trained values).
  public static func train(
    model: ModelWeights, examples: [TrainingExample], adapter: LoRAAdapter, config: TrainingConfig,
    progress: ((TrainingStep, Int) -> Void)? = nil
  ) throws -> TrainingLog {
    let job = TrainingJob(examples: examples, adapter: adapter, config: config)
    let r = try train(model: model, jobs: [job], packing: PackingOptions(adaptersPerStep: 1)) { _, step, total in
      progress?(step, total)
    }
    return try r[0].get()
  }

  /// Trains many adapters at once, each exactly as training it alone would (its own shuffle,
  /// loss mean, clipping, schedule, AdamW state and dropout stream): up to
  /// `packing.adaptersPerStep` adapters run one sequence each through the frozen base per packed
  /// step; an adapter that finishes leaves and the next job joins. Each job's result is its log or
  /// the error that stopped it (bad settings or sequences, a non-finite loss); the others go on.
  /// Throws only for bad packing options. `progress(job, step, total steps of that job)`.
  public static func train(
    model: ModelWeights, jobs: [TrainingJob], packing: PackingOptions,
    progress: ((Int, TrainingStep, Int) -> Void)? = nil
  ) throws -> [Result<TrainingLog, TrainingError>] {
    guard packing.adaptersPerStep >= 1 else {
      throw TrainingError.badHyperparameter(
        name: "adapters_per_step", value: "\(packing.adaptersPerStep)", expected: ">= 1")
    }
    var results = [Result<TrainingLog, TrainingError>?](repeating: nil, count: jobs.count)
    var prepared: [(index: Int, sequences: [PreparedSequence])] = []
    for (j, job) in jobs.enumerated() {
      do { prepared.append((j, try prepare(model: model, job: job))) } catch {
        results[j] = .failure(error as? TrainingError ?? .badSequence(index: 0, reason: "\(error)"))
      }
    }
    if !prepared.isEmpty {
      let maxSegment = prepared.flatMap { $0.sequences.map(\.tokens.count) }.max() ?? 1
      var budget =
        packing.tokensPerStep.map { max($0, maxSegment) }
        ?? min(packing.adaptersPerStep * maxSegment, max(maxSegment, PackingOptions.defaultTokensPerStep))
      // Fewer rows a step (never below one sequence) when the pack would not fit in memory.
      while budget > maxSegment
        && LoRAEngine<Float>.estimatedBytes(model.config, maxTokens: budget, maxSegment: maxSegment)
          > TrainingMemory.limit
      {
        budget = max(maxSegment, budget / 2)
      }
      let engine = try LoRAEngine<Float>(base: BaseWeights(model: model), maxTokens: budget, maxSegment: maxSegment)
      var pending = prepared[...]
      var active: [PackedJob] = []
      while !active.isEmpty || !pending.isEmpty {
        while active.count < packing.adaptersPerStep, let next = pending.popFirst() {
          let job = jobs[next.index]
          let id = try engine.attach(job.adapter)
          let pj = PackedJob(index: next.index, id: id, sequences: next.sequences, config: job.config, engine: engine)
          if pj.beginGroup(engine) {
            active.append(pj)
          } else {
            results[next.index] = .success(pj.log); engine.detach(id)
          }
        }
        // One sequence of each active job, in join order, as long as the rows fit.
        var step: [(job: PackedJob, seq: PreparedSequence)] = []
        var rows = 0
        for pj in active {
          let sq = pj.sequences[pj.group[pj.position]]
          if rows + sq.tokens.count > budget { continue }
          step.append((pj, sq)); rows += sq.tokens.count
        }
        let segs = step.map {
          EngineSegment(adapter: $0.job.id, tokens: $0.seq.tokens, targets: $0.seq.targets, validKeys: $0.seq.validKeys)
        }
        let out = try engine.forward(segs, training: true)
        engine.backward(lossWeights: step.map { Float(1.0 / Double($0.job.groupTargets)) })
        var finished: Set<Int> = []
        for ((pj, sq), r) in zip(step, out) {
          pj.lossSum += r.lossSum; pj.tokens += sq.tokens.count; pj.position += 1
          guard pj.position == pj.group.count else { continue }
          do {
            let entry = try pj.finishStep(engine)
            progress?(pj.index, entry, pj.totalSteps)
            if pj.beginGroup(engine) { continue }
            engine.storeParameters(adapter: pj.id)
            results[pj.index] = .success(pj.log)
          } catch {
            results[pj.index] = .failure(error as? TrainingError ?? .nonFiniteLoss(step: pj.step, loss: "\(error)"))
          }
          engine.detach(pj.id)
          finished.insert(pj.index)
        }
        active.removeAll { finished.contains($0.index) }
      }
    }
    return results.map { $0 ?? .failure(.badSequence(index: 0, reason: "not trained")) }
  }

  /// One sequence as the engine takes it.
  struct PreparedSequence { var tokens: [Int]; var targets: [Int]; var validKeys: Int? }

  /// Checks a job's settings and sequences (before any work) and applies its loss mask.
  static func prepare(model: ModelWeights, job: TrainingJob) throws -> [PreparedSequence] {
    let config = job.config, examples = job.examples
    try config.validate()
    try job.adapter.config.validate(layerCount: model.config.layers)
    let c = model.config
    guard job.adapter.shape == c else {
      throw TrainingError.adapterMismatch(detail: "adapter was made for a different model shape")
    }
    guard !examples.isEmpty else { throw TrainingError.badSequence(index: 0, reason: "no training sequences") }
    let limit = min(config.maxLength ?? c.contextLength, c.contextLength)
    var prepared: [PreparedSequence] = []
    for (i, e) in examples.enumerated() {
      guard e.promptLength >= 0, e.promptLength <= e.tokens.count else {
        throw TrainingError.badSequence(
          index: i, reason: "prompt length \(e.promptLength) outside 0...\(e.tokens.count)")
      }
      if let bad = e.tokens.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
        throw TrainingError.badSequence(index: i, reason: "token id \(bad) outside the vocabulary [0, \(c.vocabSize))")
      }
      let p = config.lossMask.prepare(e)
      guard p.tokens.count <= limit else {
        throw TrainingError.badSequence(index: i, reason: "\(p.tokens.count) tokens; the context holds \(limit)")
      }
      if case .sealPadded(let pad, _) = config.lossMask, pad >= c.vocabSize {
        throw TrainingError.badHyperparameter(
          name: "pad_token", value: "\(pad)", expected: "< vocab size \(c.vocabSize)")
      }
      guard p.targets.contains(where: { $0 >= 0 }) else {
        throw TrainingError.badSequence(
          index: i, reason: "no token to train on (\(e.tokens.count) tokens, prompt \(e.promptLength))")
      }
      prepared.append(PreparedSequence(tokens: p.tokens, targets: p.targets, validKeys: p.validKeys))
    }
    // A job whose longest sequence alone cannot fit fails here, alone, before any allocation.
    let longest = prepared.map(\.tokens.count).max() ?? 1
    let need = LoRAEngine<Float>.estimatedBytes(c, maxTokens: longest, maxSegment: longest)
    guard need <= TrainingMemory.limit else {
      throw TrainingError.insufficientMemory(
        what: "training activations for a \(longest)-token sequence", neededBytes: need,
        availableBytes: TrainingMemory.limit)
    }
    return prepared
  }

  /// Mean next-token loss of each example under `mask`, with the adapter (nil: base model).
  public static func evaluate(
    model: ModelWeights, examples: [TrainingExample], adapter: LoRAAdapter?, mask: LossMask = .allTokens
  ) throws -> [Double] {
    let prepared = examples.map { mask.prepare($0) }
    let maxT = max(1, prepared.map(\.tokens.count).max() ?? 1)
    let engine = try LoRAEngine<Float>(base: BaseWeights(model: model), maxTokens: maxT)
    let id = try adapter.map { try engine.attach($0) }
    return try prepared.map { p in
      let r = try engine.forward(
        [EngineSegment(adapter: id, tokens: p.tokens, targets: p.targets, validKeys: p.validKeys)],
        training: false)[0]
      return r.count > 0 ? r.lossSum / Double(r.count) : 0
    }
  }
}

/// One adapter to train: its sequences, the adapter (trained in place) and its settings.
public struct TrainingJob: Sendable {
  public var examples: [TrainingExample]
  public var adapter: LoRAAdapter
  public var config: TrainingConfig
  public init(examples: [TrainingExample], adapter: LoRAAdapter, config: TrainingConfig) {
    self.examples = examples; self.adapter = adapter; self.config = config
  }
}

/// How many adapters train together. Packing changes only float32 summation order (the base
/// products run over more rows), never what an adapter sees.
public struct PackingOptions: Sendable, Equatable {
  public var adaptersPerStep: Int
  /// Rows of one packed step (nil: adaptersPerStep x the longest sequence, capped at
  /// `defaultTokensPerStep` but never below the longest sequence); bounds activation memory
  /// (~1.2 MB per row on SmolLM2-135M).
  public var tokensPerStep: Int?
  public static let defaultTokensPerStep = 2048
  public init(adaptersPerStep: Int = 1, tokensPerStep: Int? = nil) {
    self.adaptersPerStep = adaptersPerStep; self.tokensPerStep = tokensPerStep
  }
}

/// A job inside the packed loop: where it is in its epochs and its optimizer state.
final class PackedJob {
  let index: Int
  let id: Int
  let sequences: [LoRATrainer.PreparedSequence]
  let config: TrainingConfig
  let params: [(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, n: Int)]
  let adam: AdamW<Float>
  var rng: TrainRNG
  let stepsPerEpoch: Int
  var totalSteps: Int { stepsPerEpoch * config.epochs }
  var epoch = 0, stepInEpoch = 0, step = 0
  var order: [Int] = []
  var group: [Int] = []
  var position = 0
  var groupTargets = 0
  var lossSum = 0.0, tokens = 0
  var start = Date()
  var log = TrainingLog()

  init(
    index: Int, id: Int, sequences: [LoRATrainer.PreparedSequence], config: TrainingConfig, engine: LoRAEngine<Float>
  ) {
    self.index = index; self.id = id; self.sequences = sequences; self.config = config
    params = engine.parameterTensors(adapter: id)
    adam = AdamW<Float>(
      sizes: params.map(\.n), beta1: config.beta1, beta2: config.beta2, eps: config.adamEps,
      weightDecay: config.weightDecay)
    rng = TrainRNG(seed: config.seed)
    let batches = (sequences.count + config.batchSize - 1) / config.batchSize
    stepsPerEpoch = (batches + config.gradientAccumulation - 1) / config.gradientAccumulation
  }

  /// Starts the next optimizer step's group (a fresh shuffle at each epoch); false when done.
  func beginGroup(_ engine: LoRAEngine<Float>) -> Bool {
    if stepInEpoch == stepsPerEpoch { epoch += 1; stepInEpoch = 0 }
    guard epoch < config.epochs else { return false }
    if stepInEpoch == 0 {
      order = Array(0..<sequences.count)
      if config.shuffle { order.shuffle(using: &rng) }
    }
    let perStep = config.batchSize * config.gradientAccumulation
    group = Array(order[(stepInEpoch * perStep)..<min(order.count, (stepInEpoch + 1) * perStep)])
    groupTargets = group.reduce(0) { n, i in n + sequences[i].targets.filter { $0 >= 0 }.count }
    position = 0; lossSum = 0; tokens = 0; start = Date()
    engine.zeroGrad(adapter: id)
    return true
  }

  /// Clip, AdamW, log: the end of one optimizer step.
  func finishStep(_ engine: LoRAEngine<Float>) throws -> TrainingStep {
    let loss = lossSum / Double(groupTargets)
    guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: step, loss: "\(loss)") }
    let norm = config.maxGradNorm.map { clipGradientNorm(params, maxNorm: $0) } ?? gradientNorm(params)
    guard norm.isFinite else {
      throw TrainingError.nonFiniteLoss(step: step, loss: "\(loss) with gradient norm \(norm)")
    }
    let lr = config.learningRate * config.schedule.factor(step: step, total: totalSteps)
    adam.update(params, lr: lr)
    let entry = TrainingStep(
      step: step, epoch: epoch, loss: loss, learningRate: lr, gradNorm: norm,
      tokens: tokens, targets: groupTargets, seconds: Date().timeIntervalSince(start))
    log.steps.append(entry)
    step += 1; stepInEpoch += 1
    return entry
  }
}
