// Transformer.swift: the batched forward pass over a KV cache (inference; training has its own
// forward that keeps activations, in the Training module).
//
// A call takes several sequences ("slots" of the cache), each with some new tokens; all new tokens
// are flattened into R rows so every projection is one matrix product over [R, C]. Attention is
// per sequence against that slot's cached keys/values. Large R goes through cblas_sgemm on float32
// weights; R <= packedMaxRows uses the packed quantized kernels (same weight values).
import Foundation
import Tensor

/// The seven projections of a block, by PEFT name.
public enum Projection: String, CaseIterable, Sendable {
  case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
  case gate = "gate_proj", up = "up_proj", down = "down_proj"
}

/// Something added to a projection's output, y[M, N] += f(x[M, K]); a LoRA adapter is one.
/// The base weights are never copied or changed.
public protocol LinearDelta: AnyObject {
  func affects(layer: Int, projection: Projection) -> Bool
  func apply(layer: Int, projection: Projection, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, M: Int)
}

/// Per-slot key/value history (llama2.c's RunState cache).
public final class KVCache: @unchecked Sendable {
  public let config: LlamaConfig
  public let slots: Int  // B
  public let capacity: Int  // Tmax
  let keys: FloatBuffer  // [L, B, Tmax, G*D]
  let values: FloatBuffer  // [L, B, Tmax, G*D]
  /// Positions filled per slot.
  public internal(set) var lengths: [Int]

  public init(config: LlamaConfig, slots: Int, capacity: Int) {
    self.config = config
    self.slots = slots
    self.capacity = capacity
    let n = config.layers * slots * capacity * config.kvDim
    keys = FloatBuffer(count: n)
    values = FloatBuffer(count: n)
    lengths = [Int](repeating: 0, count: slots)
  }

  public func reset(slot: Int) { lengths[slot] = 0 }
  public func resetAll() { for i in 0..<slots { lengths[i] = 0 } }

  @inline(__always) func offset(layer: Int, slot: Int, pos: Int) -> Int {
    ((layer * slots + slot) * capacity + pos) * config.kvDim
  }
}

public enum LogitsMode: Sendable {
  /// Logits of each sequence's last new token (generation).
  case last
  /// Logits of every new token (scoring, verification).
  case all
}

public final class Transformer: @unchecked Sendable {
  public let weights: ModelWeights
  public var config: LlamaConfig { weights.config }
  public let rope: RopeTable
  /// Rows at or below this use the packed kernels (when the matrix has a packed copy).
  public var packedMaxRows = 16
  public var pool: ThreadPool { ThreadPool.shared }

  public init(weights: ModelWeights) {
    self.weights = weights
    rope = RopeTable(dims: weights.config.ropeDims, theta: weights.config.ropeTheta, capacity: 256)
  }

  /// Rows of one forward and the delta each run of rows gets: one run over all rows for a single
  /// delta, one run per sequence (consecutive sequences with the same delta merged) for many.
  typealias DeltaRows = [(start: Int, count: Int, delta: LinearDelta)]

  /// y[M, N] = x[M, K] . W^T + b (+ the delta of each run of rows)
  @inline(__always)
  func linear(
    _ l: Linear, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, M: Int,
    layer: Int, projection: Projection?, deltas: DeltaRows
  ) {
    if M <= packedMaxRows, let p = l.packed {
      packedMatmul(y, x, p, M: M, pool: pool)
    } else {
      matmulNT(y, x, l.w.pointer, M: M, N: l.outFeatures, K: l.inFeatures)
    }
    if let b = l.bias {
      for m in 0..<M { for n in 0..<l.outFeatures { y[m * l.outFeatures + n] += b[n] } }
    }
    guard let projection else { return }
    for run in deltas where run.delta.affects(layer: layer, projection: projection) {
      run.delta.apply(
        layer: layer, projection: projection, x: x + run.start * l.inFeatures,
        y: y + run.start * l.outFeatures, M: run.count)
    }
  }

  /// Runs new tokens of several sequences through the model, appending to their cache slots.
  /// Returns logits [rows, V]: one row per sequence (`.last`) or per new token (`.all`, in input order).
  /// `delta` applies to every row; `deltas` (one per batch entry) gives each sequence its own
  /// (multi-adapter batches: the base products stay shared).
  public func forward(
    _ batch: [(slot: Int, tokens: [Int])], cache: KVCache, logits mode: LogitsMode = .last,
    delta: LinearDelta? = nil, deltas: [LinearDelta?]? = nil
  ) throws -> FloatBuffer {
    if let deltas, deltas.count != batch.count {
      throw LLMError.badOption(name: "deltas", value: "\(deltas.count)", expected: "one per sequence (\(batch.count))")
    }
    let c = config
    let C = c.dim, H = c.heads, G = c.kvHeads, D = c.headDim, F = c.ffnDim, V = c.vocabSize
    let HD = c.qDim, GD = c.kvDim
    // Validate before touching any state.
    var R = 0
    for (slot, tokens) in batch {
      guard slot >= 0 && slot < cache.slots else {
        throw LLMError.badOption(name: "slot", value: "\(slot)", expected: "0..<\(cache.slots)")
      }
      for t in tokens where t < 0 || t >= V { throw LLMError.tokenOutOfRange(token: t, vocabSize: V) }
      let need = cache.lengths[slot] + tokens.count
      if need > cache.capacity { throw LLMError.contextOverflow(needed: need, capacity: cache.capacity) }
      R += tokens.count
    }
    if R == 0 { return FloatBuffer(count: 0) }
    rope.ensure(batch.map { cache.lengths[$0.slot] + $0.tokens.count }.max() ?? 0)

    let x = FloatBuffer(count: R * C)  // [R, C] residual stream
    let xn = FloatBuffer(count: R * C)  // [R, C] normed
    let q = FloatBuffer(count: R * HD)  // [R, H*D]
    let k = FloatBuffer(count: R * GD)  // [R, G*D]
    let v = FloatBuffer(count: R * GD)  // [R, G*D]
    let att = FloatBuffer(count: R * HD)  // [R, H*D]
    let tmp = FloatBuffer(count: R * max(C, F))  // [R, max(C, F)]
    let gate = FloatBuffer(count: R * F)  // [R, F]
    let up = FloatBuffer(count: R * F)  // [R, F]
    // Raw pointers outlive their last visible use below; keep the owners alive to the end.
    defer { withExtendedLifetime((x, xn, q, k, v, att, tmp, gate, up)) {} }
    var runs: DeltaRows = []
    var positions = [Int32](repeating: 0, count: R)  // [R]
    var rowStart = [Int](repeating: 0, count: batch.count)
    var r = 0
    for (i, (slot, tokens)) in batch.enumerated() {
      rowStart[i] = r
      for (j, t) in tokens.enumerated() {
        (x.pointer + r * C).update(from: weights.tokenEmbedding.pointer + t * C, count: C)
        positions[r] = Int32(cache.lengths[slot] + j)
        r += 1
      }
    }

    if let delta { runs = [(0, R, delta)] }
    if let deltas {
      for (i, d) in deltas.enumerated() {
        guard let d else { continue }
        let n = batch[i].tokens.count
        if let last = runs.last, last.delta === d, last.start + last.count == rowStart[i] {
          runs[runs.count - 1].count += n
        } else {
          runs.append((rowStart[i], n, d))
        }
      }
    }
    for (li, lw) in weights.layers.enumerated() {
      rmsnormForward(xn.pointer, x.pointer, lw.attnNorm.pointer, M: R, C: C, eps: c.rmsEps)
      linear(lw.wq, xn.pointer, q.pointer, M: R, layer: li, projection: .q, deltas: runs)
      linear(lw.wk, xn.pointer, k.pointer, M: R, layer: li, projection: .k, deltas: runs)
      linear(lw.wv, xn.pointer, v.pointer, M: R, layer: li, projection: .v, deltas: runs)
      if let qn = lw.qNorm, let kn = lw.kNorm {
        rmsnormForward(q.pointer, q.pointer, qn.pointer, M: R * H, C: D, eps: c.rmsEps)
        rmsnormForward(k.pointer, k.pointer, kn.pointer, M: R * G, C: D, eps: c.rmsEps)
      }
      positions.withUnsafeBufferPointer { pp in
        ropeForward(q.pointer, positions: pp.baseAddress!, M: R, heads: H, D: D, table: rope, style: c.ropeStyle)
        ropeForward(k.pointer, positions: pp.baseAddress!, M: R, heads: G, D: D, table: rope, style: c.ropeStyle)
      }
      for (i, (slot, tokens)) in batch.enumerated() {
        let p0 = cache.lengths[slot]
        for j in 0..<tokens.count {
          let rr = rowStart[i] + j
          (cache.keys.pointer + cache.offset(layer: li, slot: slot, pos: p0 + j)).update(
            from: k.pointer + rr * GD, count: GD)
          (cache.values.pointer + cache.offset(layer: li, slot: slot, pos: p0 + j)).update(
            from: v.pointer + rr * GD, count: GD)
        }
      }
      attention(batch: batch, rowStart: rowStart, layer: li, cache: cache, q: q.pointer, out: att.pointer)
      linear(lw.wo, att.pointer, tmp.pointer, M: R, layer: li, projection: .o, deltas: runs)
      for i in 0..<(R * C) { x[i] += tmp[i] }
      rmsnormForward(xn.pointer, x.pointer, lw.ffnNorm.pointer, M: R, C: C, eps: c.rmsEps)
      linear(lw.wGate, xn.pointer, gate.pointer, M: R, layer: li, projection: .gate, deltas: runs)
      linear(lw.wUp, xn.pointer, up.pointer, M: R, layer: li, projection: .up, deltas: runs)
      swigluFast(gate.pointer, gate.pointer, up.pointer, count: R * F)
      linear(lw.wDown, gate.pointer, tmp.pointer, M: R, layer: li, projection: .down, deltas: runs)
      for i in 0..<(R * C) { x[i] += tmp[i] }
    }
    for (slot, tokens) in batch { cache.lengths[slot] += tokens.count }

    // Final norm and head, only on the rows whose logits are wanted.
    let rows: [Int] = mode == .all ? Array(0..<R) : batch.indices.map { rowStart[$0] + batch[$0].tokens.count - 1 }
    let sel = FloatBuffer(count: rows.count * C)  // [rows, C]
    for (i, rr) in rows.enumerated() { (sel.pointer + i * C).update(from: x.pointer + rr * C, count: C) }
    rmsnormForward(sel.pointer, sel.pointer, weights.outputNorm.pointer, M: rows.count, C: C, eps: c.rmsEps)
    let out = FloatBuffer(count: rows.count * V)  // [rows, V]
    linear(weights.output, sel.pointer, out.pointer, M: rows.count, layer: -1, projection: nil, deltas: [])
    withExtendedLifetime(sel) {}
    return out
  }

  /// Causal attention of each sequence's new rows against its cached keys/values.
  func attention(
    batch: [(slot: Int, tokens: [Int])], rowStart: [Int], layer: Int, cache: KVCache,
    q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>
  ) {
    let c = config
    let H = c.heads, G = c.kvHeads, D = c.headDim, HD = c.qDim, GD = c.kvDim
    let group = H / G
    let scale = 1 / Float(D).squareRoot()
    // Decode rows (one new token) of all sequences: (sequence, head) items split over the pool.
    let decodeSeqs = batch.indices.filter { batch[$0].tokens.count == 1 }
    if !decodeSeqs.isEmpty {
      let maxP = decodeSeqs.map { cache.lengths[batch[$0].slot] + 1 }.max()!
      let items = decodeSeqs.count * H
      let threads = pool.threads
      let work = { (part: Int) in
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: maxP)
        defer { scores.deallocate() }
        for item in partition(items, parts: threads, index: part) {
          let i = decodeSeqs[item / H], h = item % H, g = h / group
          let slot = batch[i].slot
          let P = cache.lengths[slot] + 1
          let kBase = UnsafePointer(cache.keys.pointer + cache.offset(layer: layer, slot: slot, pos: 0) + g * D)
          let vBase = UnsafePointer(cache.values.pointer + cache.offset(layer: layer, slot: slot, pos: 0) + g * D)
          let qh = q + rowStart[i] * HD + h * D
          decodeHead(qh, kBase, vBase, out + rowStart[i] * HD + h * D, scores, P: P, D: D, stride: GD, scale: scale)
        }
      }
      if items * maxP * D >= 1 << 16 {
        pool.run(work)
      } else {
        for part in 0..<threads { work(part) }  // too small to be worth a fork
      }
    }
    // Prefill rows: heads split over the pool, each head in blocks of rows against the keys they
    // can see (causal); the [128, P] x [P, 64] products inside a job run on its own thread.
    let prefill = batch.indices.filter { batch[$0].tokens.count > 1 }
    if prefill.isEmpty { return }
    let threads = pool.threads
    let items = prefill.count * H
    pool.run { part in
      var scores: UnsafeMutablePointer<Float>?
      var capacity = 0
      defer { scores?.deallocate() }
      for item in partition(items, parts: threads, index: part) {
        let i = prefill[item / H], h = item % H, g = h / group
        let (slot, tokens) = batch[i]
        let n = tokens.count
        let p0 = cache.lengths[slot]
        let kBase = cache.keys.pointer + cache.offset(layer: layer, slot: slot, pos: 0)
        let vBase = cache.values.pointer + cache.offset(layer: layer, slot: slot, pos: 0)
        let qRows = q + rowStart[i] * HD
        let oRows = out + rowStart[i] * HD
        let blockRows = 128
        if capacity < blockRows * (p0 + n) {
          scores?.deallocate()
          capacity = blockRows * (p0 + n)
          scores = .allocate(capacity: capacity)  // [rows, P]
        }
        let sc = scores!
        var j0 = 0
        while j0 < n {
          let rows = min(blockRows, n - j0)
          let visibleEnd = p0 + j0 + rows  // keys [0, visibleEnd) are visible to some row of the block
          // scores[rows, visibleEnd] = q_h[rows, D] . K_g[visibleEnd, D]^T * scale
          sgemm(
            transA: false, transB: true, M: rows, N: visibleEnd, K: D, alpha: scale, qRows + j0 * HD + h * D, lda: HD,
            kBase + g * D, ldb: GD, beta: 0, sc, ldc: visibleEnd)
          for r in 0..<rows {
            let row = sc + r * visibleEnd
            let visible = p0 + j0 + r + 1  // causal: positions <= its own
            softmaxFast(row, visible)
            for p in visible..<visibleEnd { row[p] = 0 }
          }
          // out_h[rows, D] = scores[rows, visibleEnd] . V_g[visibleEnd, D]
          sgemm(
            transA: false, transB: false, M: rows, N: D, K: visibleEnd, alpha: 1, sc, lda: visibleEnd,
            vBase + g * D, ldb: GD, beta: 0, oRows + j0 * HD + h * D, ldc: HD)
          j0 += rows
        }
      }
    }
  }
}

/// One query row of one head against P cached positions (keys/values at `stride` apart).
@inline(__always)
func decodeHead(
  _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
  _ scores: UnsafeMutablePointer<Float>, P: Int, D: Int, stride: Int, scale: Float
) {
  if D % 8 == 0 {
    for p in 0..<P {
      let kp = k + p * stride
      var acc = SIMD8<Float>()
      var d = 0
      while d < D {
        acc.addProduct(load8(q + d), load8(kp + d))
        d += 8
      }
      scores[p] = acc.sum() * scale
    }
    softmaxFast(scores, P)
    var d = 0
    while d < D {
      var acc = SIMD8<Float>()
      for p in 0..<P { acc.addProduct(SIMD8(repeating: scores[p]), load8(v + p * stride + d)) }
      UnsafeMutableRawPointer(out + d).storeBytes(of: acc, as: SIMD8<Float>.self)
      d += 8
    }
  } else {
    for p in 0..<P {
      var s: Float = 0
      for d in 0..<D { s += q[d] * k[p * stride + d] }
      scores[p] = s * scale
    }
    softmaxFast(scores, P)
    for d in 0..<D {
      var s: Float = 0
      for p in 0..<P { s += scores[p] * v[p * stride + d] }
      out[d] = s
    }
  }
}
