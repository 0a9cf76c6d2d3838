// LanguageModel.swift: the one way to load a model: GGUF file, tokenizer, weights, transformer,
// and what the file's metadata says about generation (end-of-generation ids, chat prompts).
// Used by `seb`, `seb-bench`, the harness and the tests, so no command spells model specifics.
import Foundation
import GGUF
import Tensor
import Tokenizer

public final class LanguageModel: @unchecked Sendable {
  public let path: String
  public let file: GGUFFile
  public let tokenizer: Tokenizer
  public let weights: ModelWeights
  public let transformer: Transformer
  public let loadSeconds: Double

  /// Loads `path`; `pack: false` skips the quantized decode copies (training-only use).
  public init(path: String, pack: Bool = true) throws {
    guard FileManager.default.fileExists(atPath: path) else {
      throw LLMError.modelFileMissing(path: path)
    }
    let t0 = Date()
    self.path = path
    file = try GGUFFile(path: path)
    tokenizer = try Tokenizer(gguf: file)
    weights = try ModelWeights(gguf: file, pack: pack)
    if let bad = weights.firstNonFiniteTensor() { throw LLMError.nonFinite(what: "\(path): tensor \(bad)") }
    transformer = Transformer(weights: weights)
    loadSeconds = Date().timeIntervalSince(t0)
  }

  public init(file: GGUFFile, tokenizer: Tokenizer, weights: ModelWeights) {
    path = file.displayName
    self.file = file
    self.tokenizer = tokenizer
    self.weights = weights
    transformer = Transformer(weights: weights)
    loadSeconds = 0
  }

  public var config: LlamaConfig { weights.config }
  /// Ids that end generation, from the file's tokenizer metadata (EOS and end-of-turn controls).
  public var stopIds: Set<Int> { tokenizer.endOfGenerationIds }
  /// The EOS id (the pad token of SEAL's padded loss and the token TRL appends).
  public var eosId: Int? { tokenizer.eosId }
  /// The architecture and file name, for manifests.
  public var name: String { URL(fileURLWithPath: path).lastPathComponent }

  /// Prompt text of a chat (the model's own template); encode with `encode`.
  public func chatPrompt(system: String? = nil, user: String) -> String {
    var msgs: [ChatMessage] = []
    if let system { msgs.append(.system(system)) }
    msgs.append(.user(user))
    return tokenizer.chatPrompt(msgs, addGenerationPrompt: true)
  }

  public func encode(_ text: String) -> [Int] { tokenizer.encode(text) }
  public func decode(_ ids: [Int]) -> String { (try? tokenizer.decode(ids)) ?? "" }

  /// The text of a generation: a trailing end-of-generation token dropped, then decoded.
  public func completionText(_ r: GenerationResult) -> String {
    var toks = r.tokens
    if let last = toks.last, stopIds.contains(last) { toks.removeLast() }
    return decode(toks)
  }

  /// A generator over this model (one KV cache per call).
  public func generator(delta: LinearDelta? = nil) -> Generator {
    let g = Generator(transformer: transformer, decode: { [tokenizer] in (try? tokenizer.decode($0)) ?? "" })
    g.delta = delta
    return g
  }

  /// Per-token log-probabilities of `continuation` after `prompt` (one forward pass).
  public func continuationLogProbs(prompt: [Int], continuation: [Int], delta: LinearDelta? = nil) throws -> [Double] {
    try transformer.continuationLogProbs(prompt: prompt, continuation: continuation, delta: delta)
  }
}

extension Transformer {
  /// Per-token log-probabilities of `continuation` given `prompt`. Both must be non-empty and fit
  /// the context; non-finite logits are an error, never a silent NaN.
  public func continuationLogProbs(prompt: [Int], continuation: [Int], delta: LinearDelta? = nil) throws -> [Double] {
    try continuationLogProbs([(prompt, continuation, delta)])[0]
  }

  /// The same for many pairs, each with its own delta (nil: the base model): `perForward`
  /// sequences share one forward pass and its base products.
  public func continuationLogProbs(
    _ items: [(prompt: [Int], continuation: [Int], delta: LinearDelta?)], perForward: Int = 16
  ) throws -> [[Double]] {
    for it in items {
      guard !it.prompt.isEmpty, !it.continuation.isEmpty else { throw LLMError.emptyPrompt }
      let n = it.prompt.count + it.continuation.count
      guard n <= config.contextLength else { throw LLMError.contextOverflow(needed: n, capacity: config.contextLength) }
    }
    let V = config.vocabSize
    var out: [[Double]] = []
    for start in stride(from: 0, to: items.count, by: max(1, perForward)) {
      let part = items[start..<min(items.count, start + max(1, perForward))]
      let ids = part.map { $0.prompt + $0.continuation }
      let cache = KVCache(config: config, slots: part.count, capacity: ids.map(\.count).max() ?? 1)
      let logits = try forward(ids.enumerated().map { ($0, $1) }, cache: cache, logits: .all, deltas: part.map(\.delta))
      var row = 0
      for (it, seq) in zip(part, ids) {
        out.append(
          try it.continuation.indices.map { i in
            let r = logits.pointer + (row + it.prompt.count + i - 1) * V
            let lp = Double(r[it.continuation[i]]) - logSumExp(r, V)
            guard lp.isFinite else { throw LLMError.nonFinite(what: "log-probability of continuation token \(i)") }
            return lp
          })
        row += seq.count
      }
    }
    return out
  }
}

extension ModelWeights {
  /// The name of the first tensor holding a NaN or an infinity (a corrupt file that still parses),
  /// in llama.cpp's naming; nil when every value is finite. One pass over the float32 copies.
  public func firstNonFiniteTensor() -> String? {
    func bad(_ b: FloatBuffer?) -> Bool {
      guard let b else { return false }
      for i in 0..<b.count where !b.pointer[i].isFinite { return true }
      return false
    }
    if bad(tokenEmbedding) { return "token_embd.weight" }
    for (i, l) in layers.enumerated() {
      let named: [(String, FloatBuffer?)] = [
        ("attn_norm", l.attnNorm), ("attn_q", l.wq.w), ("attn_k", l.wk.w), ("attn_v", l.wv.w), ("attn_output", l.wo.w),
        ("attn_q_norm", l.qNorm), ("attn_k_norm", l.kNorm), ("ffn_norm", l.ffnNorm), ("ffn_gate", l.wGate.w),
        ("ffn_up", l.wUp.w), ("ffn_down", l.wDown.w), ("attn_q.bias", l.wq.bias), ("attn_k.bias", l.wk.bias),
        ("attn_v.bias", l.wv.bias),
      ]
      for (n, b) in named where bad(b) { return "blk.\(i).\(n)" + (n.contains(".") ? "" : ".weight") }
    }
    if bad(outputNorm) { return "output_norm.weight" }
    if !tiedEmbeddings && bad(output.w) { return "output.weight" }
    return nil
  }
}
