// Proposer.swift: the model writing templates and completions (reference-pipeline 3.3-3.5, 2.1):
// prompts filled byte for byte, exploit/explore sampling, decoding under the JSON schemas, parsing
// as the reference parses, bounded retries with fresh seeds, and every attempt's raw text kept.
import Decoding
import EngineAPI
import Experiment
import Foundation
import Search
import SelfEdit

final class Proposer {
  let engine: Engine
  let config: SearchConfig
  let prompts: PromptLibrary
  let completeTemplate: String
  /// Progress lines while sequences are generated.
  var log: (String) -> Void = { _ in }

  init(engine: Engine, config: SearchConfig, prompts: PromptLibrary) throws {
    self.engine = engine
    self.config = config
    self.prompts = prompts
    completeTemplate = try prompts.text("complete-template")
  }

  /// A schema's grammar, or nil when the config decodes unconstrained.
  func grammar(_ g: OutputGrammar) -> OutputGrammar? { config.proposer.constrained ? g : nil }

  struct Request {
    var prompt: String
    var chat: Bool
    var sampling: SamplingOptions
    var maxTokens: Int
    var grammar: OutputGrammar?
  }

  /// One sample per request (seeded by `seeds`), batched; results in request order.
  func sample(_ requests: [Request], seeds: [UInt64]) throws -> [Generation] {
    guard !requests.isEmpty else { return [] }
    let reqs = try zip(requests, seeds).map { r, seed in
      GenerateRequest(
        prompt: r.chat ? try engine.chatPrompt(system: nil, user: r.prompt) : r.prompt, sampling: r.sampling,
        maxTokens: r.maxTokens, seed: seed, grammar: r.grammar)
    }
    let t0 = Date()
    var last = Date.distantPast
    let results = try engine.generate(reqs, batchSize: 8) { done, total in
      let s = Date().timeIntervalSince(t0)
      // At most one line every 10 s (and the last one).
      guard done == total || Date().timeIntervalSince(last) >= 10 else { return }
      last = Date()
      self.log(
        String(
          format: "    generated %d/%d sequences, %.1f/min, ETA %@", done, total, Double(done) / max(s, 1e-9) * 60,
          ProgressMeter.duration(s / Double(done) * Double(total - done))))
    }
    var out = [Generation?](repeating: nil, count: reqs.count)
    for r in results { out[r.request] = r }
    return out.map { $0! }
  }

  /// Samples each request until `accept` takes its text or the retries are spent; attempt a of
  /// item i is seeded by `seed(i, a)`. Returns every attempt per item, the last one decisive.
  func sampleWithRetries<T>(
    _ requests: [Request], seed: (Int, Int) -> UInt64, accept: (Int, String) -> Result<T, SearchError>
  )
    throws -> [[(result: Generation, text: String, parsed: Result<T, SearchError>)]]
  {
    var out = [[(result: Generation, text: String, parsed: Result<T, SearchError>)]](
      repeating: [], count: requests.count)
    var pending = Array(requests.indices)
    for attempt in 0...config.proposer.retries where !pending.isEmpty {
      let results = try sample(pending.map { requests[$0] }, seeds: pending.map { seed($0, attempt) })
      var still: [Int] = []
      for (i, r) in zip(pending, results) {
        let text = r.text
        let parsed = accept(i, text)
        out[i].append((r, text, parsed))
        if case .failure = parsed { still.append(i) }
      }
      pending = still
    }
    return out
  }

  // MARK: Templates

  /// M template slots: the first round(M x fraction) exploit, the rest explore (3.3); each slot
  /// retried on an unparseable output; failures kept with their text.
  func proposeTemplates(prompt: String, slots m: Int, exploitFraction: Double, seedName: String) throws -> ProposalStage
  {
    let split = ProposerSampling.split(m, exploitFraction: exploitFraction)
    let categories = (0..<m).map { $0 < split.exploit ? "exploit" : "explore" }
    let cons = grammar(OutputSchemas.grammars(config.validationPolicy).template)
    let requests = categories.map {
      Request(
        prompt: prompt, chat: true, sampling: $0 == "exploit" ? ProposerSampling.exploit : ProposerSampling.explore,
        maxTokens: config.proposer.templateMaxTokens, grammar: cons)
    }
    let runs = try sampleWithRetries(
      requests, seed: { unitSeed(self.config.seed, "\(seedName)/slot\($0)/attempt\($1)") }
    ) { _, text in
      Result { try SelfEditTemplate.parse(text) }.mapError { $0 as? SearchError ?? .badTemplate(reason: "\($0)") }
    }
    var attempts: [ProposalAttempt] = [], templates: [ProposedTemplate] = []
    for (slot, tries) in runs.enumerated() {
      for (a, t) in tries.enumerated() {
        var failure: String?
        if case .failure(let e) = t.parsed { failure = e.localizedDescription }
        attempts.append(
          ProposalAttempt(
            slot: slot, category: categories[slot], attempt: a,
            seed: unitSeed(config.seed, "\(seedName)/slot\(slot)/attempt\(a)"),
            text: t.text, tokens: t.result.tokens, finish: t.result.finish, failure: failure))
      }
      if case .success(let tpl)? = tries.last?.parsed {
        let (spec, changed) = config.validationPolicy.apply(tpl, base: config.training)
        templates.append(
          ProposedTemplate(
            index: templates.count, slot: slot, category: categories[slot], instruction: tpl.instruction,
            hyperparameters: tpl.hyperparameters.dumps(ensureASCII: false), training: spec, clamped: changed))
      }
    }
    return ProposalStage(prompt: prompt, slots: m, attempts: attempts, templates: templates)
  }

  /// A fixed-prompt variant's one "template": the prompt text as the instruction (as the
  /// reference stores it) and the config's own hyperparameters.
  func fixedTemplate(_ variant: SearchVariant) throws -> ProposalStage {
    let name = variant.fixedPrompt!
    let text = try prompts.text(name)
    let t = config.training
    let hp = PyJSON.object([
      ("lora_rank", .int(t.rank)), ("lora_alpha", .float(t.alpha)), ("lora_dropout", .float(t.dropout)),
      ("learning_rate", .float(t.learningRate)), ("num_epochs", .int(t.epochs)),
      ("gradient_accumulation_steps", .int(t.gradientAccumulation)),
    ])
    return ProposalStage(
      prompt: name, slots: 1, attempts: [],
      templates: [
        ProposedTemplate(
          index: 0, slot: 0, category: "fixed", instruction: text,
          hyperparameters: hp.dumps(ensureASCII: false), training: t, clamped: [])
      ])
  }

  /// The seed archive's templates as proposals (measured seed scores): the file's instruction and
  /// hyperparameters, the validation policy applied as to proposed ones.
  func seedTemplates(_ seeds: [ArchiveEntry], file: String) -> ProposalStage {
    var templates: [ProposedTemplate] = []
    for (i, e) in seeds.enumerated() {
      let (spec, changed) = config.validationPolicy.apply(e.template, base: config.training)
      templates.append(
        ProposedTemplate(
          index: i, slot: i, category: "seed", instruction: e.template.instruction,
          hyperparameters: e.template.hyperparameters.dumps(ensureASCII: false), training: spec, clamped: changed))
    }
    return ProposalStage(prompt: file, slots: seeds.count, attempts: [], templates: templates)
  }

  // MARK: Completions

  /// The prompt that turns a passage into training data: the completion prompt filled with the
  /// template's instruction, or a fixed prompt filled with the passage.
  func completionPrompt(_ t: ProposedTemplate, _ p: Passage) -> String {
    if config.variant.proposesTemplates {
      return PromptLibrary.fill(
        completeTemplate, ["title": p.title, "passage": p.context, "data_creation_instruction": t.instruction])
    }
    return PromptLibrary.fill(t.instruction, ["title": p.title, "passage": p.context, "context": p.context])
  }

  /// C completions of every template on every passage (3.4; fixed prompts 3.5 / 2.1), batched,
  /// retried while a completion gives no training sequence.
  func complete(
    templates: [ProposedTemplate], passages: [Passage], completions c: Int, seedName: String
  ) throws -> CompletionStage {
    var keys: [(t: Int, a: Int, c: Int)] = []
    for t in templates.indices { for a in passages.indices { for k in 0..<c { keys.append((t, a, k)) } } }
    let variant = config.variant
    let cons = grammar(OutputSchemas.grammars(config.validationPolicy).trainingSequences)
    let requests: [Request] = keys.map { key in
      let prompt = completionPrompt(templates[key.t], passages[key.a])
      if variant.proposesTemplates {
        let exploit = ProposerSampling.completionUsesExploit(
          key.c, of: c, exploitFraction: config.proposer.exploitFraction)
        return Request(
          prompt: prompt, chat: true, sampling: exploit ? ProposerSampling.exploit : ProposerSampling.completionExplore,
          maxTokens: config.proposer.completionMaxTokens, grammar: cons)
      }
      // Fixed prompts: T 1.0, top-p 0.95, no schema; the search repo sends them as a chat message,
      // SEAL (restem, restem-seal) as raw text.
      return Request(
        prompt: prompt, chat: !variant.isReSTEM, sampling: SamplingOptions(temperature: 1.0, topP: 0.95),
        maxTokens: config.proposer.completionMaxTokens, grammar: nil)
    }
    func name(_ i: Int, _ a: Int) -> String { "\(seedName)/t\(keys[i].t)/a\(keys[i].a)/c\(keys[i].c)/attempt\(a)" }
    let runs = try sampleWithRetries(requests, seed: { unitSeed(self.config.seed, name($0, $1)) }) { i, text in
      self.sequences(text, passage: passages[keys[i].a])
    }
    var out: [CompletionRecord] = []
    for (i, tries) in runs.enumerated() {
      let last = tries.last!
      var seqs: [String] = [], failure: String?
      switch last.parsed {
      case .success(let s): seqs = s
      case .failure(let e): failure = e.localizedDescription
      }
      let category =
        variant.proposesTemplates
        ? (ProposerSampling.completionUsesExploit(keys[i].c, of: c, exploitFraction: config.proposer.exploitFraction)
          ? "exploit" : "explore") : "fixed"
      out.append(
        CompletionRecord(
          template: keys[i].t, passage: keys[i].a, completion: keys[i].c, category: category,
          seed: unitSeed(config.seed, name(i, tries.count - 1)), attempts: tries.count, text: last.text,
          tokens: last.result.tokens, finish: last.result.finish, sequences: seqs,
          dataTokens: try seqs.reduce(0) { $0 + (try engine.countTokens($1)) }, failure: failure))
    }
    return CompletionStage(completions: out)
  }

  /// Training sequences of a completion, parsed as the variant's reference parses it; no
  /// non-blank sequence is a failure (the reference's silent "dummy" self-edit, 3.6).
  func sequences(_ text: String, passage p: Passage) -> Result<[String], SearchError> {
    let seqs: [String]
    switch config.variant {
    case .restemSEAL where TrainingSequences.pyStrip(text).isEmpty:
      // SEAL drops empty completions (its generation refuses them, query_server filters them out).
      return .failure(.badInput(what: "completion", expected: "a non-empty completion", found: "empty"))
    case .restem, .restemSEAL:
      seqs = TrainingSequences.seal(
        completion: text, context: p.context, title: p.title, options: TrainingSequences.SEALOptions())
    case .rewrite, .implications:
      seqs = CompletionText.baselineLines(text)
    default:
      switch CompletionText.trainingSequences(text) {
      case .success(let s): seqs = s
      case .failure(let e): return .failure(e)
      }
    }
    let kept = seqs.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    guard !kept.isEmpty else {
      return .failure(
        .badInput(what: "completion", expected: "at least one non-blank training sequence", found: "none"))
    }
    return .success(seqs)
  }
}
