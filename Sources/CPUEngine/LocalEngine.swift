// LocalEngine.swift: the engine interface over the in-process CPU runtime (LLM + Training): text
// is tokenised here, adapters train packed through the frozen base (`LoRATrainer`), decode runs
// many adapters in one continuous batch, gold answers are scored 16 sequences per forward pass.
// Adapters live in this process until released; their low-rank deltas are built on first use.
import Decoding
import EngineAPI
import Experiment
import Foundation
import LLM
import Tensor
import Training
import Workspace

public final class LocalEngine: Engine {
  public let model: LanguageModel
  /// The model file is hashed on first use (a run's manifest records it; a tool that only
  /// generates never pays for it).
  public private(set) lazy var identity: EngineIdentity = {
    let attrs = try? FileManager.default.attributesOfItem(atPath: model.path)
    let sha = (try? SHA256.hashFile(at: URL(fileURLWithPath: model.path)).digest) ?? ""
    return EngineIdentity(
      engine: "local", version: Self.version, model: model.name, modelPath: model.path,
      modelBytes: (attrs?[.size] as? NSNumber)?.int64Value ?? 0, modelSHA256: sha, dtype: "float32",
      device: "cpu (\(threads) threads)", contextLength: model.config.contextLength)
  }()
  public static let version = "1"
  private let threads: Int
  private var adapters: [Int: (adapter: LoRAAdapter, delta: LinearDelta?)] = [:]
  private var nextAdapter = 0
  private var constraints: [String: TokenConstraint] = [:]

  /// `threads` in the identity is the CPU pool the executable configured (ThreadPool.configure).
  public init(model: LanguageModel) {
    self.model = model
    threads = ThreadPool.shared.threads
  }

  public convenience init(path: String) throws { self.init(model: try LanguageModel(path: path)) }

  public func loading(modelAt path: String) throws -> Engine {
    LocalEngine(model: try LanguageModel(path: path))
  }

  public func countTokens(_ text: String) -> Int { model.encode(text).count }

  public func chatPrompt(system: String?, user: String) -> String { model.chatPrompt(system: system, user: user) }

  // MARK: Training

  public func checkFits(_ spec: TrainingSpec) throws { try Self.checkFits(spec, model: model.config) }

  /// Refuses settings the model cannot take before any work: rank above the projection width and
  /// a padded length beyond the context.
  public static func checkFits(_ t: TrainingSpec, model c: LlamaConfig) throws {
    let minWidth =
      t.targets.compactMap { Projection(loraName: $0) }.map { min($0.shape(c).out, $0.shape(c).in) }.min() ?? c.dim
    guard t.rank <= minWidth else {
      throw TrainingError.badHyperparameter(
        name: "training.rank", value: "\(t.rank)", expected: "<= \(minWidth) (the narrowest adapted projection)")
    }
    if t.lossMask == .sealPadded && t.padLength > c.contextLength {
      throw TrainingError.badHyperparameter(
        name: "training.padLength", value: "\(t.padLength)", expected: "<= the model's context \(c.contextLength)")
    }
  }

  /// Token ids of the training sequences: blank ones dropped, EOS appended if asked (unless the
  /// stripped text already ends with it, reference-pipeline 3.6), truncated to `maxLength` as HF's
  /// tokenizer(truncation=True) does.
  public func examples(_ sequences: [String], spec t: TrainingSpec) -> [TrainingExample] {
    let eosText = model.eosId.flatMap { model.tokenizer.tokenText($0) }
    return sequences.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.map { s in
      var ids = model.encode(s)
      if t.appendEOS, let e = model.eosId,
        !(eosText.map { s.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix($0) } ?? false)
      {
        ids.append(e)
      }
      return TrainingExample(tokens: Array(ids.prefix(min(t.maxLength, model.config.contextLength))))
    }.filter { $0.tokens.count >= 2 }
  }

  /// Each equals training it alone (packing changes only float32 summation order).
  public func train(
    _ jobs: [TrainJob], adaptersPerStep: Int, progress: ((Int, Int) -> Void)?
  ) throws -> [Result<TrainedAdapter, EngineFailure>] {
    var packed: [TrainingJob] = [], jobOf: [Int?] = []
    var out = [Result<TrainedAdapter, EngineFailure>?](repeating: nil, count: jobs.count)
    func fail(_ i: Int, _ e: TrainingError) {
      out[i] = .failure(EngineFailure(e.localizedDescription)); jobOf.append(nil)
    }
    for (i, job) in jobs.enumerated() {
      let ex = examples(job.sequences, spec: job.spec)
      guard !ex.isEmpty else {
        fail(i, .badSequence(index: 0, reason: "the self-edit yields no training sequence of 2 or more tokens"));
        continue
      }
      do {
        try checkFits(job.spec)
        let adapter = try LoRAAdapter(config: job.spec.loraConfig(seed: job.seed), shape: model.config)
        packed.append(
          TrainingJob(
            examples: ex, adapter: adapter, config: try job.spec.trainingConfig(eos: model.eosId, seed: job.seed)))
        jobOf.append(packed.count - 1)
      } catch {
        fail(i, error as? TrainingError ?? .badSequence(index: 0, reason: "\(error)"))
      }
    }
    var finished = 0
    let results = try LoRATrainer.train(
      model: model.weights, jobs: packed, packing: PackingOptions(adaptersPerStep: adaptersPerStep)
    ) { _, step, total in
      if step.step == total - 1 { finished += 1; progress?(finished, packed.count) }
    }
    for (i, j) in jobOf.enumerated() {
      guard let j else { continue }
      switch results[j] {
      case .failure(let e): out[i] = .failure(EngineFailure(e.localizedDescription))
      case .success(let log):
        let handle = AdapterHandle(id: nextAdapter)
        nextAdapter += 1
        adapters[handle.id] = (packed[j].adapter, nil)
        out[i] = .success(
          TrainedAdapter(
            adapter: handle,
            summary: TrainingSummary(
              sequences: packed[j].examples.count, steps: log.steps.count,
              tokens: log.tokens, losses: log.losses)))
      }
    }
    return out.map { $0! }
  }

  /// The adapter's delta over this engine's weights (built once).
  func delta(_ h: AdapterHandle) throws -> LinearDelta {
    guard let a = adapters[h.id] else { throw EngineError.unknownAdapter(h.id) }
    if let d = a.delta { return d }
    let d = try a.adapter.apply(to: model.weights)
    adapters[h.id] = (a.adapter, d)
    return d
  }

  public func saveAdapter(_ h: AdapterHandle, to directory: String) throws {
    guard let a = adapters[h.id] else { throw EngineError.unknownAdapter(h.id) }
    try a.adapter.save(to: URL(fileURLWithPath: directory))
  }

  public func release(_ handles: [AdapterHandle]) { for h in handles { adapters[h.id] = nil } }

  /// The adapter object behind a handle (for callers inside the runtime: benchmarks, `seb train`).
  public func adapter(_ h: AdapterHandle) -> LoRAAdapter? { adapters[h.id]?.adapter }

  // MARK: Generation and scoring

  /// The token-level automaton of a grammar for this model's vocabulary (built once per name).
  func constraint(_ g: OutputGrammar) -> TokenConstraint {
    if let c = constraints[g.name] { return c }
    let tok = model.tokenizer
    let c = TokenConstraint(dfa: g.automaton(), vocabSize: model.config.vocabSize) {
      Array((try? tok.bytes(of: $0, skipSpecial: true)) ?? [])
    }
    constraints[g.name] = c
    return c
  }

  public func generate(
    _ requests: [GenerateRequest], batchSize: Int, progress: ((Int, Int) -> Void)?
  ) throws -> [Generation] {
    guard !requests.isEmpty else { return [] }
    var deltas: [LinearDelta] = [], slot: [AdapterHandle: Int] = [:]
    var reqs: [GenerationRequest] = []
    for r in requests {
      var index: Int?
      if let h = r.adapter {
        if slot[h] == nil { deltas.append(try delta(h)); slot[h] = deltas.count - 1 }
        index = slot[h]
      }
      reqs.append(
        GenerationRequest(
          promptTokens: model.encode(r.prompt), options: r.sampling,
          maxNewTokens: r.maxTokens, stopTokens: model.stopIds, stopStrings: r.stop, samples: r.samples, seed: r.seed,
          adapter: index, constraint: r.grammar.map(constraint)))
    }
    let gen = model.generator()
    gen.adapters = deltas
    do {
      return try gen.generate(reqs, batchSize: batchSize, progress: progress).map {
        Generation(
          request: $0.request, sample: $0.sample, text: model.completionText($0), tokens: $0.tokens.count,
          promptTokens: $0.promptTokens,
          finish: $0.finish.rawValue)
      }
    } catch let e as LLMError {
      throw EngineError.model(message: e.description)
    }
  }

  public func score(_ items: [ScoreRequest]) throws -> [[Double]] {
    var batch: [(prompt: [Int], continuation: [Int], delta: LinearDelta?)] = [], scored: [Int] = []
    for (n, it) in items.enumerated() {
      let c = model.encode(it.continuation)
      guard !c.isEmpty else { continue }
      batch.append((model.encode(it.prompt), c, try it.adapter.map(delta)))
      scored.append(n)
    }
    var out = [[Double]](repeating: [], count: items.count)
    do {
      for (n, ll) in zip(scored, try model.transformer.continuationLogProbs(batch)) { out[n] = ll }
    } catch let e as LLMError {
      throw EngineError.model(message: e.description)
    }
    return out
  }

  // MARK: Proposer update

  public func proposerUpdate(
    rows: [SFTRow], spec: SFTSpec, out: String, log: @escaping (String) -> Void
  ) throws -> SFTLog {
    // Trained on a private copy: the merge changes weights this engine's model must keep.
    let copy = rows.isEmpty ? model : try LanguageModel(path: model.path)
    return try ProposerUpdate.run(rows: rows, model: copy, spec: spec, out: out, log: log)
  }
}

extension TrainingSpec {
  /// The trainer's adapter config (one mapping, shared by the engine and `seb train`).
  public func loraConfig(seed: UInt64) -> LoRAConfig {
    LoRAConfig(
      rank: rank, alpha: alpha, dropout: dropout, targets: targets.compactMap { Projection(loraName: $0) }, seed: seed)
  }

  /// The trainer's optimisation config; `eos` is the pad token of SEAL's padded loss.
  public func trainingConfig(eos: Int?, seed: UInt64) throws -> TrainingConfig {
    var tc = TrainingConfig(
      learningRate: learningRate, epochs: epochs, batchSize: batchSize,
      gradientAccumulation: gradientAccumulation, schedule: .linear, maxGradNorm: maxGradNorm, seed: seed)
    if lossMask == .sealPadded {
      // SEAL pads with pad = eos and trains on the pads (reference-pipeline 5, S1); our EOS is the model's.
      guard let eos else {
        throw TrainingError.badHyperparameter(
          name: "training.lossMask", value: "seal-padded", expected: "a model with an EOS token")
      }
      tc.lossMask = .sealPadded(padToken: eos, length: padLength)
    }
    try tc.validate()
    return tc
  }
}
