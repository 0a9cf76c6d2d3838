// Engine.swift: the training forward pass (keeps every activation backward needs) and the
// backward pass of a llama-style decoder with LoRA adapters on a frozen base.
//
// Invariants:
// - The base weights are never written and never get gradients: backward only pushes dX through
//   them (dX = dY . W) and accumulates dA/dB of the adapters. It stops at the lowest adapted layer.
// - All activations live in buffers allocated once for `maxTokens` rows and reused every step
//   (llm.c style). Each buffer carries a shape comment.
// - The forward computes exactly what LLM's inference `Transformer.forward` computes (same op
//   order and RoPE table), so logits agree to float32 rounding; tests check 1e-5.
// - Loss/gradient seed: `backward(lossWeight:)` seeds every target position with the same weight,
//   the trainer passes 1 / (targets in the accumulation group) (HF Trainer's mean).
import Foundation
import LLM
import Tensor

/// The frozen base weights seen as pointers of scalar S. For Float they are the model's own
/// buffers (no copy); for Double (gradient checks) a converted copy.
public final class BaseWeights<S: TrainScalar>: @unchecked Sendable {
  struct Layer {
    var attnNorm: UnsafeMutablePointer<S>  // (C)
    /// By `Projection.index`: q (H*D, C), k (G*D, C), v (G*D, C), o (C, H*D), gate (F, C),
    /// up (F, C), down (C, F).
    var w: [UnsafeMutablePointer<S>]
    var bias: [UnsafeMutablePointer<S>?]  // (N) for q, k, v on qwen2; nil otherwise
    var qNorm: UnsafeMutablePointer<S>?  // (D) qwen3
    var kNorm: UnsafeMutablePointer<S>?  // (D) qwen3
    var ffnNorm: UnsafeMutablePointer<S>  // (C)
  }
  public let config: LlamaConfig
  var embedding: UnsafeMutablePointer<S>  // (V, C)
  var layers: [Layer]
  var outputNorm: UnsafeMutablePointer<S>  // (C)
  var output: UnsafeMutablePointer<S>  // (V, C); the embedding itself when tied
  private var owned: [AnyObject] = []

  public init(model: ModelWeights) {
    config = model.config
    var keep: [AnyObject] = [model]
    var converted: [ObjectIdentifier: UnsafeMutablePointer<S>] = [:]
    func view(_ b: FloatBuffer) -> UnsafeMutablePointer<S> {
      if S.self == Float.self { return UnsafeMutableRawPointer(b.pointer).assumingMemoryBound(to: S.self) }
      if let p = converted[ObjectIdentifier(b)] { return p }
      let c = ScalarBuffer<S>(count: b.count)
      for i in 0..<b.count { c[i] = S(b[i]) }
      keep.append(c)
      converted[ObjectIdentifier(b)] = c.pointer
      return c.pointer
    }
    embedding = view(model.tokenEmbedding)
    layers = model.layers.map { lw in
      let lins = [lw.wq, lw.wk, lw.wv, lw.wo, lw.wGate, lw.wUp, lw.wDown]
      return Layer(
        attnNorm: view(lw.attnNorm), w: lins.map { view($0.w) }, bias: lins.map { $0.bias.map(view) },
        qNorm: lw.qNorm.map(view), kNorm: lw.kNorm.map(view), ffnNorm: view(lw.ffnNorm))
    }
    outputNorm = view(model.outputNorm)
    output = view(model.output.w)
    owned = keep
  }
}

/// One adapted projection inside the engine: parameters, gradients and saved activations of
/// one attached adapter (rows of its one segment in the current step).
final class AdapterSlot<S: TrainScalar> {
  let pair: LoRAPair
  let R: Int, N: Int, K: Int
  let a: ScalarBuffer<S>  // (R, K)
  let b: ScalarBuffer<S>  // (N, R)
  let da: ScalarBuffer<S>  // (R, K)
  let db: ScalarBuffer<S>  // (N, R)
  let h: ScalarBuffer<S>  // (Ts, R) = dropout(x) . A^T of the adapter's segment
  let xd: ScalarBuffer<S>?  // (Ts, K) dropped-out input, when dropout > 0
  let mask: ScalarBuffer<S>?  // (Ts, K) 0 or 1/(1-p)
  var droppedThisStep = false

  init(pair: LoRAPair, maxT: Int, dropout: Bool) {
    self.pair = pair; R = pair.R; N = pair.N; K = pair.K
    a = ScalarBuffer(count: R * K); b = ScalarBuffer(count: N * R)
    da = ScalarBuffer(count: R * K); db = ScalarBuffer(count: N * R)
    h = ScalarBuffer(count: maxT * R)
    xd = dropout ? ScalarBuffer(count: maxT * K) : nil
    mask = dropout ? ScalarBuffer(count: maxT * K) : nil
    load()
  }
  func load() {
    for i in 0..<pair.a.count { a[i] = S(pair.a[i]) }
    for i in 0..<pair.b.count { b[i] = S(pair.b[i]) }
  }
  func store() {
    for i in 0..<pair.a.count { pair.a[i] = Float(a[i]) }
    for i in 0..<pair.b.count { pair.b[i] = Float(b[i]) }
  }
}

/// Everything one attached adapter owns in the engine: its slots, scale, dropout stream and
/// scratch. Training it packed with others draws the same dropout masks in the same order as
/// training it alone (its own stream, projections in layer order).
final class AttachedAdapter<S: TrainScalar> {
  let adapter: LoRAAdapter
  let scale: S
  let dropout: Double
  var rng: TrainRNG
  let slots: [[AdapterSlot<S>?]]  // (L, 7)
  let slotList: [AdapterSlot<S>]
  let lowestLayer: Int
  let dh: ScalarBuffer<S>  // (Ts, R)
  let dxd: ScalarBuffer<S>  // (Ts, max K) dropout input gradient

  init(adapter: LoRAAdapter, config c: LlamaConfig, maxSegment: Int, seed: UInt64?) throws {
    guard adapter.shape == c else {
      throw TrainingError.adapterMismatch(detail: "adapter was made for a different model shape")
    }
    self.adapter = adapter
    scale = S(adapter.config.scale); dropout = adapter.config.dropout
    rng = TrainRNG(seed: (seed ?? adapter.config.seed) ^ 0xD1B5_4A32_D192_ED03)
    var sl = [[AdapterSlot<S>?]](repeating: [AdapterSlot<S>?](repeating: nil, count: 7), count: c.layers)
    var list: [AdapterSlot<S>] = []
    var maxR = 1, maxK = 1
    for p in adapter.pairs {
      let (n, k) = p.projection.shape(c)
      guard p.layer >= 0, p.layer < c.layers, p.N == n, p.K == k, p.a.count == p.R * k, p.b.count == n * p.R else {
        throw TrainingError.adapterMismatch(
          detail:
            "layer \(p.layer) \(p.projection.rawValue): expected A [R, \(k)] and B [\(n), R], found R \(p.R), N \(p.N), K \(p.K)"
        )
      }
      let s = AdapterSlot<S>(pair: p, maxT: maxSegment, dropout: adapter.config.dropout > 0)
      sl[p.layer][p.projection.index] = s
      list.append(s)
      maxR = max(maxR, p.R); maxK = max(maxK, k)
    }
    slots = sl; slotList = list
    lowestLayer = adapter.pairs.map(\.layer).min() ?? c.layers
    dh = .init(count: maxSegment * maxR)
    dxd = .init(count: adapter.config.dropout > 0 ? maxSegment * maxK : 0)
  }
}

/// How much memory training may allocate: engines whose buffers would need more are refused
/// before allocating (80% of the physical memory).
public enum TrainingMemory {
  public static let limit: Double = 0.8 * Double(ProcessInfo.processInfo.physicalMemory)
}

/// One sequence of a packed step: its rows, and the attached adapter it runs with (nil: the
/// frozen base alone).
public struct EngineSegment: Sendable {
  public var adapter: Int?
  public var tokens: [Int]
  /// targets[t] is the token position t must predict (< 0: none).
  public var targets: [Int]
  /// Keys at positions >= validKeys are masked (right padding).
  public var validKeys: Int?
  public init(adapter: Int?, tokens: [Int], targets: [Int], validKeys: Int? = nil) {
    self.adapter = adapter; self.tokens = tokens; self.targets = targets; self.validKeys = validKeys
  }
}

/// Activations of one layer, kept from forward for backward.
final class LayerActivations<S: TrainScalar> {
  let xn1: ScalarBuffer<S>  // (T, C) attention-norm output
  let rstd1: ScalarBuffer<S>  // (T)
  let q: ScalarBuffer<S>  // (T, H*D) after (q-norm and) RoPE
  let k: ScalarBuffer<S>  // (T, G*D) after (k-norm and) RoPE
  let v: ScalarBuffer<S>  // (T, G*D)
  let qPre: ScalarBuffer<S>?  // (T, H*D) before q-norm (qwen3)
  let kPre: ScalarBuffer<S>?  // (T, G*D) before k-norm (qwen3)
  let qRstd: ScalarBuffer<S>?  // (T*H)
  let kRstd: ScalarBuffer<S>?  // (T*G)
  let probs: ScalarBuffer<S>  // (H, Ts, Ts) per segment, segments one after another
  let att: ScalarBuffer<S>  // (T, H*D) attention output, o_proj input
  let mid: ScalarBuffer<S>  // (T, C) residual after attention
  let xn2: ScalarBuffer<S>  // (T, C) ffn-norm output
  let rstd2: ScalarBuffer<S>  // (T)
  let gate: ScalarBuffer<S>  // (T, F)
  let up: ScalarBuffer<S>  // (T, F)
  let act: ScalarBuffer<S>  // (T, F) silu(gate) * up, down_proj input

  /// `probRows`: the longest segment; the probabilities of all segments need at most H * probRows * T.
  init(_ c: LlamaConfig, _ T: Int, probRows: Int) {
    let C = c.dim, HD = c.qDim, GD = c.kvDim, F = c.ffnDim
    xn1 = .init(count: T * C); rstd1 = .init(count: T)
    q = .init(count: T * HD); k = .init(count: T * GD); v = .init(count: T * GD)
    qPre = c.qkNorm ? .init(count: T * HD) : nil; kPre = c.qkNorm ? .init(count: T * GD) : nil
    qRstd = c.qkNorm ? .init(count: T * c.heads) : nil; kRstd = c.qkNorm ? .init(count: T * c.kvHeads) : nil
    probs = .init(count: c.heads * probRows * T); att = .init(count: T * HD); mid = .init(count: T * C)
    xn2 = .init(count: T * C); rstd2 = .init(count: T)
    gate = .init(count: T * F); up = .init(count: T * F); act = .init(count: T * F)
  }
}

/// Forward + backward of the decoder with LoRA adapters, in scalar S. Several sequences, each
/// with its own attached adapter, run packed as one step (multi-adapter training): the frozen
/// base products run once over all their rows, each adapter's low-rank products and attention
/// run on its own rows, and each adapter's gradients see only its own sequence. Parameters are
/// copied in when an adapter is attached and out by `storeParameters(adapter:)`.
public final class LoRAEngine<S: TrainScalar> {
  public let config: LlamaConfig
  public let base: BaseWeights<S>
  /// Rows of one packed step (all segments together).
  public let maxTokens: Int
  /// Rows of one segment.
  public let maxSegment: Int
  var attached: [Int: AttachedAdapter<S>] = [:]
  var nextId = 0
  let rope: RoPETable<S>

  let resid: ScalarBuffer<S>  // (L+1, T, C): resid[l] is the input of layer l, resid[L] the last output
  let acts: [LayerActivations<S>]
  let xf: ScalarBuffer<S>  // (T, C) final-norm output (head rows only)
  let rstdF: ScalarBuffer<S>  // (T)
  let logits: ScalarBuffer<S>  // (T, V) head rows; overwritten by dlogits in backward
  let lse: ScalarBuffer<S>  // (T)
  let losses: ScalarBuffer<S>  // (T) per-position loss (0 where no target)
  let dlosses: ScalarBuffer<S>  // (T)
  // Backward scratch, shared by all layers.
  let dresid: ScalarBuffer<S>  // (T, C) gradient of the residual stream
  let dxn: ScalarBuffer<S>  // (T, C)
  let dtmp: ScalarBuffer<S>  // (T, max(C, H*D, F)) head dxf / dq-pre etc.
  let dq: ScalarBuffer<S>  // (T, H*D)
  let dk: ScalarBuffer<S>  // (T, G*D)
  let dv: ScalarBuffer<S>  // (T, G*D)
  let dkPre: ScalarBuffer<S>  // (T, G*D)
  let datt: ScalarBuffer<S>  // (T, H*D)
  let dgate: ScalarBuffer<S>  // (T, F)
  let dup: ScalarBuffer<S>  // (T, F)
  let dact: ScalarBuffer<S>  // (T, F)
  let attScratch: ScalarBuffer<S>  // (Ts, Ts)
  let tmpC: ScalarBuffer<S>  // (T, C) o_proj / down_proj outputs

  // State of the last forward, for backward.
  public private(set) var T = 0
  var targets: [Int] = []  // (T) over all segments
  var segments: [(adapter: AttachedAdapter<S>?, start: Int, count: Int, probs: Int)] = []
  var headStart = 0, headEnd = 0

  /// Bytes the engine allocates for its activations and scratch (every buffer below, adapters
  /// excluded): what `init` checks against `memoryLimit` before allocating anything.
  public static func estimatedBytes(_ c: LlamaConfig, maxTokens T: Int, maxSegment Ts: Int) -> Double {
    let C = Double(c.dim), V = Double(c.vocabSize), HD = Double(c.qDim), GD = Double(c.kvDim), F = Double(c.ffnDim)
    let t = Double(T), ts = Double(Ts), H = Double(c.heads), L = Double(c.layers)
    let qk = c.qkNorm ? t * (HD + GD) + t * (H + Double(c.kvHeads)) : 0
    let perLayer = t * (3 * C + 2 + HD + 2 * GD + HD + 3 * F) + H * ts * t + qk
    let rest =
      (L + 1) * t * C + t * C + t + t * V + 3 * t + 3 * t * C + t * max(C, HD, F) + t * HD + 3 * t * GD + t * HD + 3 * t
      * F + ts * ts
    return (L * perLayer + rest) * Double(MemoryLayout<S>.stride)
  }

  /// An engine with no adapter attached, for packed steps of up to `maxTokens` rows whose
  /// sequences hold at most `maxSegment` tokens (default: `maxTokens`).
  public init(
    base: BaseWeights<S>, maxTokens: Int, maxSegment: Int? = nil, memoryLimit: Double = TrainingMemory.limit
  ) throws {
    let c = base.config
    let seg = maxSegment ?? maxTokens
    guard maxTokens >= 1, seg >= 1, seg <= maxTokens else {
      throw TrainingError.badHyperparameter(
        name: "maxTokens", value: "\(maxTokens) (segment \(seg))", expected: ">= 1, segment in 1...maxTokens")
    }
    // Estimate before allocating: attention keeps (H, T, T) per layer, so long sequences grow fast.
    let need = Self.estimatedBytes(c, maxTokens: maxTokens, maxSegment: seg)
    guard need <= memoryLimit else {
      throw TrainingError.insufficientMemory(
        what: "training activations for \(seg)-token sequences (\(maxTokens) rows a step)", neededBytes: need,
        availableBytes: memoryLimit)
    }
    config = c; self.base = base; self.maxTokens = maxTokens; self.maxSegment = seg
    let T = maxTokens, C = c.dim, V = c.vocabSize, HD = c.qDim, GD = c.kvDim, F = c.ffnDim
    rope = RoPETable(positions: seg, dims: c.ropeDims, theta: Double(c.ropeTheta))
    resid = .init(count: (c.layers + 1) * T * C)
    // Attention probabilities of all segments: sum of Ts^2 <= maxSegment * maxTokens.
    acts = (0..<c.layers).map { _ in LayerActivations(c, T, probRows: seg) }
    xf = .init(count: T * C); rstdF = .init(count: T); logits = .init(count: T * V)
    lse = .init(count: T); losses = .init(count: T); dlosses = .init(count: T)
    dresid = .init(count: T * C); dxn = .init(count: T * C); dtmp = .init(count: T * max(C, HD, F))
    dq = .init(count: T * HD); dk = .init(count: T * GD); dv = .init(count: T * GD); dkPre = .init(count: T * GD)
    datt = .init(count: T * HD); dgate = .init(count: T * F); dup = .init(count: T * F); dact = .init(count: T * F)
    attScratch = .init(count: seg * seg)
    tmpC = .init(count: T * C)
  }

  /// One engine for one adapter (id 0), for sequences of at most `maxTokens` tokens.
  public convenience init(base: BaseWeights<S>, adapter: LoRAAdapter, maxTokens: Int, seed: UInt64? = nil) throws {
    try self.init(base: base, maxTokens: maxTokens)
    _ = try attach(adapter, seed: seed)
  }

  /// Attaches an adapter (its parameters copied in, fresh gradients, its own dropout stream
  /// seeded by `seed` or its config's seed) and returns its id.
  public func attach(_ adapter: LoRAAdapter, seed: UInt64? = nil) throws -> Int {
    let a = try AttachedAdapter<S>(adapter: adapter, config: config, maxSegment: maxSegment, seed: seed)
    let id = nextId
    nextId += 1
    attached[id] = a
    return id
  }

  /// Forgets an adapter (call `storeParameters(adapter:)` first to keep its trained values).
  public func detach(_ id: Int) { attached[id] = nil }

  func state(_ id: Int) -> AttachedAdapter<S> {
    guard let a = attached[id] else { preconditionFailure("adapter \(id) is not attached") }
    return a
  }

  /// Copies an adapter's parameters back into its pairs (the trained values).
  public func storeParameters(adapter id: Int = 0) { for s in state(id).slotList { s.store() } }
  /// Reloads an adapter's parameters from its pairs.
  public func loadParameters(adapter id: Int = 0) { for s in state(id).slotList { s.load() } }
  public func zeroGrad(adapter id: Int = 0) { for s in state(id).slotList { s.da.zero(); s.db.zero() } }

  // MARK: forward

  /// Runs one sequence with adapter 0. With `allLogits` the head runs on every row (for logits
  /// tests), otherwise only on rows first...last target.
  /// Returns the sum of the per-target losses and the number of targets.
  @discardableResult
  public func forward(
    tokens: [Int], targets: [Int], validKeys: Int? = nil, training: Bool = true, allLogits: Bool = false
  ) throws -> (lossSum: Double, count: Int) {
    let id: Int? = attached[0] == nil ? nil : 0
    return try forward(
      [EngineSegment(adapter: id, tokens: tokens, targets: targets, validKeys: validKeys)],
      training: training, allLogits: allLogits)[0]
  }

  /// Runs several sequences packed in one step, each with its adapter (each adapter at most
  /// once). Returns (sum of per-target losses, number of targets) per segment.
  public func forward(
    _ segs: [EngineSegment], training: Bool = true, allLogits: Bool = false
  ) throws -> [(lossSum: Double, count: Int)] {
    let c = config
    let C = c.dim, V = c.vocabSize, H = c.heads, G = c.kvHeads, D = c.headDim, F = c.ffnDim
    let T = segs.reduce(0) { $0 + $1.tokens.count }
    guard !segs.isEmpty, T <= maxTokens else {
      throw TrainingError.badSequence(
        index: 0, reason: "\(T) tokens in \(segs.count) sequences; expected 1...\(maxTokens)")
    }
    var layout: [(adapter: AttachedAdapter<S>?, start: Int, count: Int, probs: Int)] = []
    var seen = Set<Int>(), row = 0, probRow = 0
    for (i, s) in segs.enumerated() {
      let n = s.tokens.count
      guard n >= 1, n <= maxSegment else {
        throw TrainingError.badSequence(index: i, reason: "\(n) tokens; expected 1...\(maxSegment)")
      }
      guard s.targets.count == n else {
        throw TrainingError.badSequence(index: i, reason: "\(s.targets.count) targets for \(n) tokens")
      }
      if let t = s.tokens.first(where: { $0 < 0 || $0 >= V }) {
        throw TrainingError.badSequence(index: i, reason: "token id \(t) outside the vocabulary [0, \(V))")
      }
      if let t = s.targets.first(where: { $0 >= V }) {
        throw TrainingError.badSequence(index: i, reason: "target id \(t) outside the vocabulary [0, \(V))")
      }
      var st: AttachedAdapter<S>? = nil
      if let id = s.adapter {
        guard let a = attached[id], seen.insert(id).inserted else {
          throw TrainingError.badSequence(index: i, reason: "adapter \(id) is not attached or runs twice in one step")
        }
        st = a
      }
      layout.append((st, row, n, probRow))
      row += n; probRow += n * n
    }
    self.T = T; segments = layout
    targets = segs.flatMap(\.targets)
    let eps = S(c.rmsEps)
    embeddingForward(resid.pointer, base.embedding, tokens: segs.flatMap(\.tokens), C: C)
    for l in 0..<c.layers {
      let a = acts[l], lw = base.layers[l]
      let x = resid.pointer + l * maxTokens * C, xNext = resid.pointer + (l + 1) * maxTokens * C
      rmsNormForward(a.xn1.pointer, a.rstd1.pointer, x, lw.attnNorm, T: T, C: C, eps: eps)
      let qOut = a.qPre?.pointer ?? a.q.pointer, kOut = a.kPre?.pointer ?? a.k.pointer
      project(l, .q, a.xn1.pointer, qOut, T: T, training: training)
      project(l, .k, a.xn1.pointer, kOut, T: T, training: training)
      project(l, .v, a.xn1.pointer, a.v.pointer, T: T, training: training)
      if let qn = lw.qNorm, let kn = lw.kNorm, let qr = a.qRstd, let kr = a.kRstd {
        rmsNormForward(a.q.pointer, qr.pointer, qOut, qn, T: T * H, C: D, eps: eps)
        rmsNormForward(a.k.pointer, kr.pointer, kOut, kn, T: T * G, C: D, eps: eps)
      }
      for (s, sg) in zip(segs, layout) {
        let q = a.q.pointer + sg.start * c.qDim, k = a.k.pointer + sg.start * c.kvDim
        // Positions restart at 0 in every segment: each sequence is its own batch row.
        ropeForward(q, T: sg.count, nHeads: H, D: D, table: rope, style: c.ropeStyle)
        ropeForward(k, T: sg.count, nHeads: G, D: D, table: rope, style: c.ropeStyle)
        attentionForward(
          a.att.pointer + sg.start * c.qDim, a.probs.pointer + sg.probs * H, q, k, a.v.pointer + sg.start * c.kvDim,
          T: sg.count, H: H, G: G, D: D, validKeys: s.validKeys)
      }
      project(l, .o, a.att.pointer, tmpC.pointer, T: T, training: training)
      residualForward(a.mid.pointer, x, tmpC.pointer, count: T * C)
      rmsNormForward(a.xn2.pointer, a.rstd2.pointer, a.mid.pointer, lw.ffnNorm, T: T, C: C, eps: eps)
      project(l, .gate, a.xn2.pointer, a.gate.pointer, T: T, training: training)
      project(l, .up, a.xn2.pointer, a.up.pointer, T: T, training: training)
      swigluForward(a.act.pointer, a.gate.pointer, a.up.pointer, count: T * F)
      project(l, .down, a.act.pointer, tmpC.pointer, T: T, training: training)
      residualForward(xNext, a.mid.pointer, tmpC.pointer, count: T * C)
    }
    // Head only on the rows first...last target of all segments (or all rows when asked).
    var first = T, last = -1
    for (t, y) in targets.enumerated() where y >= 0 { first = min(first, t); last = t }
    if allLogits { first = 0; last = T - 1 }
    headStart = first; headEnd = last + 1
    let n = max(0, headEnd - headStart)
    losses.zero()
    if n > 0 {
      let xL = resid.pointer + c.layers * maxTokens * C + headStart * C
      rmsNormForward(xf.pointer, rstdF.pointer, xL, base.outputNorm, T: n, C: C, eps: eps)
      linearForward(logits.pointer, xf.pointer, base.output, nil, T: n, N: V, K: C)
      crossEntropyForward(
        losses.pointer + headStart, lse.pointer, logits.pointer, targets: Array(targets[headStart..<headEnd]), V: V)
    }
    return layout.map { sg in
      var sum = 0.0, count = 0
      for t in sg.start..<(sg.start + sg.count) where targets[t] >= 0 { sum += Double(losses[t]); count += 1 }
      return (sum, count)
    }
  }

  /// Logits of row t (0-based over all rows of the last forward, in headStart..<headEnd).
  public func logitsRow(_ t: Int) -> [S] {
    guard t >= headStart, t < headEnd else { return [] }
    let V = config.vocabSize
    return Array(UnsafeBufferPointer(start: logits.pointer + (t - headStart) * V, count: V))
  }

  /// Per-position losses of the last forward (0 where there is no target), all rows.
  public var lastLosses: [S] { Array(UnsafeBufferPointer(start: losses.pointer, count: T)) }

  /// out[T,N] = x W^T (+ b) over all rows, then + scale * B dropout(A x) on each segment's rows
  /// with its own adapter, for projection p of layer l.
  @inline(__always)
  func project(
    _ l: Int, _ p: Projection, _ x: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, T: Int, training: Bool
  ) {
    let (N, K) = p.shape(config)
    let lw = base.layers[l]
    linearForward(out, x, lw.w[p.index], lw.bias[p.index].map { UnsafePointer($0) }, T: T, N: N, K: K)
    for sg in segments {
      guard let ad = sg.adapter, let s = ad.slots[l][p.index] else { continue }
      let xs = x + sg.start * K, os = out + sg.start * N
      var input = xs
      s.droppedThisStep = false
      if training, ad.dropout > 0, let xd = s.xd, let m = s.mask {
        dropoutForward(xd.pointer, m.pointer, xs, count: sg.count * K, p: ad.dropout, rng: &ad.rng)
        input = UnsafePointer(xd.pointer)
        s.droppedThisStep = true
      }
      loraForward(os, s.h.pointer, input, s.a.pointer, s.b.pointer, scale: ad.scale, T: sg.count, N: N, K: K, R: s.R)
    }
  }

  // MARK: backward

  /// Backward of the last forward with adapter 0: dA/dB += d(sum_t w * loss_t)/d(.), with the
  /// same weight w = `lossWeight` on every target position.
  public func backward(lossWeight: S) { backward(lossWeights: [S](repeating: lossWeight, count: segments.count)) }

  /// Backward of the last packed forward: every target row of segment i is weighted by
  /// `lossWeights[i]` and each adapter's dA/dB accumulate the gradient of its own segment only.
  public func backward(lossWeights: [S]) {
    let c = config
    let T = self.T, C = c.dim, V = c.vocabSize, H = c.heads, G = c.kvHeads, D = c.headDim, F = c.ffnDim
    precondition(lossWeights.count == segments.count, "one loss weight per segment")
    let n = headEnd - headStart
    let present = segments.compactMap(\.adapter)
    guard n > 0, present.contains(where: { !$0.slotList.isEmpty }) else { return }
    let lowestLayer = present.map(\.lowestLayer).min() ?? c.layers
    for (sg, w) in zip(segments, lossWeights) {
      for t in sg.start..<(sg.start + sg.count) { dlosses[t] = targets[t] >= 0 ? w : 0 }
    }
    // Head: dlogits (in place over logits), dxf, final norm.
    crossEntropyBackward(
      logits.pointer, logits.pointer, lse.pointer, dlosses.pointer + headStart,
      targets: Array(targets[headStart..<headEnd]), V: V, overwrite: true)
    let dxf = dtmp.pointer
    dxf.update(repeating: 0, count: n * C)
    linearBackwardInput(dxf, logits.pointer, base.output, T: n, N: V, K: C)
    dresid.zero()
    let xL = resid.pointer + c.layers * maxTokens * C + headStart * C
    rmsNormBackward(dresid.pointer + headStart * C, nil, dxf, xL, base.outputNorm, rstdF.pointer, T: n, C: C)

    var l = c.layers - 1
    while l >= lowestLayer {
      let a = acts[l], lw = base.layers[l]
      let x = resid.pointer + l * maxTokens * C
      let bottom = l == lowestLayer
      let attnAdapted = present.contains { ad in [Projection.q, .k, .v, .o].contains { ad.slots[l][$0.index] != nil } }
      // dresid holds d(resid[l+1]) = d(mid) from the skip connection plus the ffn path below.
      dact.pointer.update(repeating: 0, count: T * F)
      projectBackward(l, .down, dresid.pointer, a.act.pointer, dact.pointer, T: T)
      dgate.pointer.update(repeating: 0, count: T * F)
      dup.pointer.update(repeating: 0, count: T * F)
      swigluBackward(dgate.pointer, dup.pointer, dact.pointer, a.gate.pointer, a.up.pointer, count: T * F)
      let needBelowFFN = !(bottom && !attnAdapted)
      if needBelowFFN { dxn.pointer.update(repeating: 0, count: T * C) }
      projectBackward(l, .gate, dgate.pointer, a.xn2.pointer, needBelowFFN ? dxn.pointer : nil, T: T)
      projectBackward(l, .up, dup.pointer, a.xn2.pointer, needBelowFFN ? dxn.pointer : nil, T: T)
      if !needBelowFFN { break }
      rmsNormBackward(dresid.pointer, nil, dxn.pointer, a.mid.pointer, lw.ffnNorm, a.rstd2.pointer, T: T, C: C)
      // Attention block.
      datt.pointer.update(repeating: 0, count: T * c.qDim)
      projectBackward(l, .o, dresid.pointer, a.att.pointer, datt.pointer, T: T)
      dq.pointer.update(repeating: 0, count: T * c.qDim)
      dk.pointer.update(repeating: 0, count: T * c.kvDim)
      dv.pointer.update(repeating: 0, count: T * c.kvDim)
      for sg in segments {
        let qo = sg.start * c.qDim, ko = sg.start * c.kvDim
        attentionBackward(
          dq.pointer + qo, dk.pointer + ko, dv.pointer + ko, attScratch.pointer, datt.pointer + qo,
          a.probs.pointer + sg.probs * H, a.q.pointer + qo, a.k.pointer + ko, a.v.pointer + ko,
          T: sg.count, H: H, G: G, D: D)
        ropeBackward(dq.pointer + qo, T: sg.count, nHeads: H, D: D, table: rope, style: c.ropeStyle)
        ropeBackward(dk.pointer + ko, T: sg.count, nHeads: G, D: D, table: rope, style: c.ropeStyle)
      }
      var dqIn = dq.pointer, dkIn = dk.pointer
      if let qn = lw.qNorm, let kn = lw.kNorm, let qp = a.qPre, let kp = a.kPre, let qr = a.qRstd, let kr = a.kRstd {
        let dqPre = dtmp.pointer
        dqPre.update(repeating: 0, count: T * c.qDim)
        dkPre.zero()
        rmsNormBackward(dqPre, nil, dq.pointer, qp.pointer, qn, qr.pointer, T: T * H, C: D)
        rmsNormBackward(dkPre.pointer, nil, dk.pointer, kp.pointer, kn, kr.pointer, T: T * G, C: D)
        dqIn = dqPre; dkIn = dkPre.pointer
      }
      if !bottom { dxn.pointer.update(repeating: 0, count: T * C) }
      let dxIn: UnsafeMutablePointer<S>? = bottom ? nil : dxn.pointer
      projectBackward(l, .q, dqIn, a.xn1.pointer, dxIn, T: T)
      projectBackward(l, .k, dkIn, a.xn1.pointer, dxIn, T: T)
      projectBackward(l, .v, dv.pointer, a.xn1.pointer, dxIn, T: T)
      if bottom { break }
      rmsNormBackward(dresid.pointer, nil, dxn.pointer, x, lw.attnNorm, a.rstd1.pointer, T: T, C: C)
      l -= 1
    }
  }

  /// dx[T,K] += dout . W over all rows (if dx is given), then each segment's adapter's dA, dB
  /// (and its low-rank part of dx) from its own rows, for projection p of layer l.
  @inline(__always)
  func projectBackward(
    _ l: Int, _ p: Projection, _ dout: UnsafePointer<S>, _ x: UnsafePointer<S>,
    _ dx: UnsafeMutablePointer<S>?, T: Int
  ) {
    let (N, K) = p.shape(config)
    if let dx { linearBackwardInput(dx, dout, base.layers[l].w[p.index], T: T, N: N, K: K) }
    for sg in segments {
      guard let ad = sg.adapter, let s = ad.slots[l][p.index] else { continue }
      let ds = dout + sg.start * N, xs = x + sg.start * K, dxs = dx.map { $0 + sg.start * K }
      if s.droppedThisStep, let xd = s.xd, let m = s.mask {
        if dxs != nil { ad.dxd.pointer.update(repeating: 0, count: sg.count * K) }
        loraBackward(
          s.da.pointer, s.db.pointer, dxs == nil ? nil : ad.dxd.pointer, ad.dh.pointer, ds, xd.pointer, s.h.pointer,
          s.a.pointer, s.b.pointer, scale: ad.scale, T: sg.count, N: N, K: K, R: s.R)
        if let dxs { dropoutBackward(dxs, ad.dxd.pointer, m.pointer, count: sg.count * K) }
      } else {
        loraBackward(
          s.da.pointer, s.db.pointer, dxs, ad.dh.pointer, ds, xs, s.h.pointer, s.a.pointer, s.b.pointer,
          scale: ad.scale, T: sg.count, N: N, K: K, R: s.R)
      }
    }
  }

  // MARK: parameters for the optimizer

  /// (parameter, gradient, count) for every trainable tensor of an adapter, in a fixed order.
  public func parameterTensors(
    adapter id: Int = 0
  ) -> [(p: UnsafeMutablePointer<S>, g: UnsafeMutablePointer<S>, n: Int)] {
    state(id).slotList.flatMap {
      [($0.a.pointer, $0.da.pointer, $0.a.count), ($0.b.pointer, $0.db.pointer, $0.b.count)]
    }
  }
  var parameterTensors: [(p: UnsafeMutablePointer<S>, g: UnsafeMutablePointer<S>, n: Int)] {
    parameterTensors(adapter: 0)
  }

  /// Gradient of pair i (in `adapter.pairs` order) of an adapter as (dA, dB), for tests.
  public func gradients(pair i: Int, adapter id: Int = 0) -> (da: [S], db: [S]) {
    (state(id).slotList[i].da.array, state(id).slotList[i].db.array)
  }
  /// Parameters of pair i as (A, B) in scalar S, mutable for finite differences.
  public func setParameter(pair i: Int, isB: Bool, index: Int, value: S, adapter id: Int = 0) {
    if isB { state(id).slotList[i].b[index] = value } else { state(id).slotList[i].a[index] = value }
  }
  public func parameter(pair i: Int, isB: Bool, index: Int, adapter id: Int = 0) -> S {
    isB ? state(id).slotList[i].b[index] : state(id).slotList[i].a[index]
  }
}
