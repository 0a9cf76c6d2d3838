// Sampler.swift: turns one row of logits into a token (llama2.c's sampler section). Each sequence
// owns a Sampler with its own SplitMix64 stream, so its text depends only on its prompt, options
// and seed. Order of the filters: presence penalty -> greedy (temperature 0) or: top-k ->
// temperature -> softmax -> min-p -> top-p -> renormalise -> draw.
// Re-exported: GenerationRequest and TokenConstraint are stated in its types, so every user of LLM needs them.
@_exported import Decoding
import Foundation
import Tensor

extension SamplingOptions {
  public func validate() throws {
    if !(temperature.isFinite && temperature >= 0) {
      throw LLMError.badOption(name: "temperature", value: "\(temperature)", expected: "a finite number >= 0")
    }
    if !(topP > 0 && topP <= 1) { throw LLMError.badOption(name: "top-p", value: "\(topP)", expected: "in (0, 1]") }
    if topK < 0 { throw LLMError.badOption(name: "top-k", value: "\(topK)", expected: ">= 0") }
    if !(minP >= 0 && minP < 1) { throw LLMError.badOption(name: "min-p", value: "\(minP)", expected: "in [0, 1)") }
    if !presencePenalty.isFinite {
      throw LLMError.badOption(name: "presence-penalty", value: "\(presencePenalty)", expected: "a finite number")
    }
  }
}

public struct Sampler: Sendable {
  public let options: SamplingOptions
  public private(set) var rng: SplitMix64
  private var seen = Set<Int>()

  public init(options: SamplingOptions, seed: UInt64) {
    self.options = options
    rng = SplitMix64(seed: seed)
  }

  /// Records a generated token for the presence penalty.
  public mutating func observe(_ token: Int) { seen.insert(token) }

  /// Picks the next token from logits[0..<V] (the buffer is not modified).
  public mutating func sample(_ logits: UnsafePointer<Float>, vocabSize V: Int) -> Int {
    let o = options
    var l = [Float](UnsafeBufferPointer(start: logits, count: V))
    if o.presencePenalty != 0 { for t in seen where t < V { l[t] -= o.presencePenalty } }
    if o.temperature == 0 { return Sampler.argmax(l) }
    // Candidates sorted by logit, descending; ties by id for determinism.
    var idx = Array(0..<V)
    if o.topK > 0 && o.topK < V {
      idx.sort { l[$0] != l[$1] ? l[$0] > l[$1] : $0 < $1 }
      idx.removeSubrange(o.topK...)
    } else {
      idx.sort { l[$0] != l[$1] ? l[$0] > l[$1] : $0 < $1 }
    }
    let mx = l[idx[0]]
    var p = idx.map { Double(expf((l[$0] - mx) / o.temperature)) }
    var z = p.reduce(0, +)
    for i in p.indices { p[i] /= z }
    var keep = p.count
    if o.minP > 0 {
      let cut = Double(o.minP) * p[0]
      keep = max(1, p.prefix { $0 >= cut }.count)
    }
    if o.topP < 1 {
      var acc = 0.0
      var n = 0
      while n < keep {
        acc += p[n]
        n += 1
        if acc >= Double(o.topP) { break }
      }
      keep = max(1, n)
    }
    z = p[0..<keep].reduce(0, +)
    let u = rng.nextDouble() * z
    var acc = 0.0
    for i in 0..<keep {
      acc += p[i]
      if u < acc { return idx[i] }
    }
    return idx[keep - 1]
  }

  public static func argmax(_ l: [Float]) -> Int {
    var best = 0
    for i in 1..<l.count where l[i] > l[best] { best = i }
    return best
  }
}
