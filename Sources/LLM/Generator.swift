// Generator.swift: many prompts x n samples through a fixed number of cache slots. Each finished
// sequence frees its slot for the next waiting one (continuous batching). Prompts are prefilled
// one sequence at a time and decode steps take every active slot at once; with packed weights a
// row's arithmetic does not depend on the batch, so results are the same for any batch size.
import Foundation
import Tensor

public struct GenerationRequest: Sendable {
  public var promptTokens: [Int]
  public var options: SamplingOptions
  public var maxNewTokens: Int
  /// Token ids that end a sequence (kept in the output, as the reference files do).
  public var stopTokens: Set<Int>
  /// Texts that end a sequence; the text is cut before the stop string.
  public var stopStrings: [String]
  public var samples: Int
  public var seed: UInt64
  /// Index into the generator's `adapters`: this sequence runs with that delta (nil: the
  /// generator's `delta`, if any). Many adapters decode in one batch over one base model.
  public var adapter: Int?
  /// Only tokens that keep this automaton alive may be sampled; the sequence ends (finish
  /// `.complete`) when it accepts. The output then always parses (see Constrained.swift).
  public var constraint: TokenConstraint?

  public init(
    promptTokens: [Int], options: SamplingOptions = .init(), maxNewTokens: Int = 64,
    stopTokens: Set<Int> = [], stopStrings: [String] = [], samples: Int = 1, seed: UInt64 = 0, adapter: Int? = nil,
    constraint: TokenConstraint? = nil
  ) {
    self.adapter = adapter
    self.constraint = constraint
    self.promptTokens = promptTokens
    self.options = options
    self.maxNewTokens = maxNewTokens
    self.stopTokens = stopTokens
    self.stopStrings = stopStrings
    self.samples = samples
    self.seed = seed
  }
}

public enum FinishReason: String, Sendable, Codable {
  case stopToken = "stop_token", stopString = "stop_string", length
  /// The constraint's automaton accepted the output.
  case complete
}

public struct GenerationResult: Sendable {
  public var request: Int
  public var sample: Int
  public var tokens: [Int]
  public var text: String
  public var finish: FinishReason
  public var promptTokens: Int
  public var prefillSeconds: Double
  public var decodeSeconds: Double
}

/// The seed of sample `i` of a request: a SplitMix64 step away from the request's seed.
public func sampleSeed(_ seed: UInt64, _ i: Int) -> UInt64 {
  var r = SplitMix64(seed: seed ^ (UInt64(i) &* 0x9E37_79B9_7F4A_7C15))
  return r.next()
}

public final class Generator {
  public let transformer: Transformer
  /// Decodes ids to text (for stop strings and results).
  public let decode: ([Int]) -> String
  public var delta: LinearDelta?
  /// Per-request deltas (`GenerationRequest.adapter` indexes this).
  public var adapters: [LinearDelta] = []

  public init(transformer: Transformer, decode: @escaping ([Int]) -> String) {
    self.transformer = transformer
    self.decode = decode
  }

  private struct Active {
    var request: Int
    var sample: Int
    var sampler: Sampler
    var tokens: [Int] = []
    var prefill: Double = 0
    var decode: Double = 0
    var pending: Int  // token to feed next
    var state: Int32 = 0  // constraint automaton state
  }

  /// Runs every request; results come back ordered by (request, sample).
  /// `progress(done, total)` is called as sequences finish.
  public func generate(
    _ requests: [GenerationRequest], batchSize: Int = 8,
    progress: ((Int, Int) -> Void)? = nil
  ) throws -> [GenerationResult] {
    let V = transformer.config.vocabSize
    for r in requests {
      try r.options.validate()
      if r.promptTokens.isEmpty { throw LLMError.emptyPrompt }
      if r.maxNewTokens < 0 {
        throw LLMError.badOption(name: "max-tokens", value: "\(r.maxNewTokens)", expected: ">= 0")
      }
      for t in r.promptTokens where t < 0 || t >= V { throw LLMError.tokenOutOfRange(token: t, vocabSize: V) }
      if let a = r.adapter, a < 0 || a >= adapters.count {
        throw LLMError.badOption(
          name: "adapter", value: "\(a)", expected: "0..<\(adapters.count) (the generator's adapters)")
      }
      if let c = r.constraint {
        guard c.vocabSize == V else {
          throw LLMError.badOption(name: "constraint", value: "\(c.vocabSize) tokens", expected: "the model's \(V)")
        }
        let need = Int(c.dfa.distance[Int(c.dfa.start)])
        guard r.maxNewTokens >= need else {
          throw LLMError.badOption(
            name: "max-tokens", value: "\(r.maxNewTokens)",
            expected: ">= \(need), the shortest output the constraint accepts")
        }
      }
    }
    func deltaOf(_ request: Int) -> LinearDelta? { requests[request].adapter.map { adapters[$0] } ?? delta }
    let slots = max(1, min(batchSize, transformer.packedMaxRows))
    let capacity = (requests.map { $0.promptTokens.count + $0.maxNewTokens }.max() ?? 1) + 1
    if capacity - 1 > transformer.config.contextLength {
      throw LLMError.contextOverflow(needed: capacity - 1, capacity: transformer.config.contextLength)
    }
    let cache = KVCache(config: transformer.config, slots: slots, capacity: capacity)
    var queue: [(Int, Int)] = []
    for (i, r) in requests.enumerated() { for s in 0..<r.samples { queue.append((i, s)) } }
    let total = queue.count
    var next = 0
    var active = [Active?](repeating: nil, count: slots)
    var results: [GenerationResult] = []

    func finish(_ slot: Int, _ reason: FinishReason, text: String) {
      let a = active[slot]!
      let r = requests[a.request]
      results.append(
        GenerationResult(
          request: a.request, sample: a.sample, tokens: a.tokens, text: text, finish: reason,
          promptTokens: r.promptTokens.count, prefillSeconds: a.prefill, decodeSeconds: a.decode))
      active[slot] = nil
      progress?(results.count, total)
    }

    // Returns true if the sequence ended with this token.
    func accept(_ slot: Int, _ token: Int) -> Bool {
      let r = requests[active[slot]!.request]
      active[slot]!.tokens.append(token)
      active[slot]!.sampler.observe(token)
      active[slot]!.pending = token
      if let c = r.constraint {
        let q = c.row(active[slot]!.state)[token]
        precondition(q >= 0, "the sampler chose a token the constraint masked")
        active[slot]!.state = q
        if c.dfa.accepting[Int(q)] {
          finish(slot, .complete, text: decode(active[slot]!.tokens))
          return true
        }
      }
      if r.stopTokens.contains(token) {
        finish(slot, .stopToken, text: decode(active[slot]!.tokens))
        return true
      }
      if !r.stopStrings.isEmpty {
        let text = decode(active[slot]!.tokens)
        if let cut = r.stopStrings.compactMap({ text.range(of: $0)?.lowerBound }).min() {
          finish(slot, .stopString, text: String(text[..<cut]))
          return true
        }
      }
      if active[slot]!.tokens.count >= r.maxNewTokens {
        finish(slot, .length, text: decode(active[slot]!.tokens))
        return true
      }
      return false
    }

    // Samples the next token of a slot, the constraint's forbidden tokens masked first.
    let masked = UnsafeMutablePointer<Float>.allocate(capacity: V)  // (V)
    defer { masked.deallocate() }
    func pick(_ slot: Int, _ logits: UnsafePointer<Float>) throws -> Int {
      let a = active[slot]!
      // A NaN or infinity in the logits (weights or an adapter gone bad while running) would be
      // sampled as if it were a token: stop with the request and step instead.
      var finite = true
      for t in 0..<V where !logits[t].isFinite { finite = false; break }
      guard finite else {
        throw LLMError.nonFinite(what: "logits of request \(a.request) at generated token \(a.tokens.count)")
      }
      guard let c = requests[a.request].constraint else { return active[slot]!.sampler.sample(logits, vocabSize: V) }
      masked.update(from: logits, count: V)
      c.mask(masked, state: a.state, tokensLeft: requests[a.request].maxNewTokens - a.tokens.count)
      return active[slot]!.sampler.sample(masked, vocabSize: V)
    }

    while true {
      // Refill free slots.
      for slot in 0..<slots where active[slot] == nil && next < queue.count {
        let (ri, si) = queue[next]
        next += 1
        let r = requests[ri]
        cache.reset(slot: slot)
        active[slot] = Active(
          request: ri, sample: si, sampler: Sampler(options: r.options, seed: sampleSeed(r.seed, si)), pending: -1)
        if r.maxNewTokens == 0 { finish(slot, .length, text: ""); continue }
        let t0 = Date()
        let logits = try transformer.forward([(slot, r.promptTokens)], cache: cache, logits: .last, delta: deltaOf(ri))
        let tok = try pick(slot, logits.pointer)
        active[slot]!.prefill = Date().timeIntervalSince(t0)
        _ = accept(slot, tok)
      }
      let live = (0..<slots).filter { active[$0] != nil }
      // Every slot may have finished at its first token while requests still wait: refill.
      if live.isEmpty { if next < queue.count { continue } else { break } }
      let t0 = Date()
      let logits = try transformer.forward(
        live.map { ($0, [active[$0]!.pending]) }, cache: cache, logits: .last,
        deltas: live.map { deltaOf(active[$0]!.request) })
      let dt = Date().timeIntervalSince(t0) / Double(live.count)
      for (i, slot) in live.enumerated() {
        active[slot]!.decode += dt
        let tok = try pick(slot, logits.pointer + i * V)
        _ = accept(slot, tok)
      }
    }
    precondition(results.count == total, "generator lost sequences: \(results.count) of \(total)")
    return results.sorted { ($0.request, $0.sample) < ($1.request, $1.sample) }
  }
}
