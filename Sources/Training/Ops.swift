// Ops.swift: the layers of a llama-style decoder as forward/backward pairs (llm.c style).
//
// Every op is a pair of free functions over raw row-major pointers. Invariants:
// - forward writes its outputs (and the few statistics backward needs, e.g. `rstd`);
// - backward ACCUMULATES (+=) into every gradient buffer it is given, except where a doc comment
//   says "overwrites"; callers zero gradient buffers explicitly;
// - shapes use the package letters: T tokens, C channels, H query heads, G kv heads, D head
//   width, F ffn width, V vocab, R LoRA rank, N/K generic out/in widths.
// The ops are generic over `TrainScalar` so the gradient checks run the same code in Double.
// Parallelism: rows, elements or heads are split over `ThreadPool.shared` (`parallelFor`); each
// item's arithmetic is the same whatever the split (only the large products, split in Tensor's
// `sgemm`, may round differently with another thread count).
import Foundation
import LLM
import Tensor

/// Runs body(range) over [0, n) split into one contiguous range per pool thread; alone on the
/// calling thread when `n * costPerItem` is below what a fork is worth.
@inline(__always)
func parallelFor(_ n: Int, costPerItem: Int, _ body: @escaping (Range<Int>) -> Void) {
  let pool = ThreadPool.shared
  if pool.threads == 1 || n * costPerItem < 1 << 15 || n < 2 {
    body(0..<n)
    return
  }
  let parts = pool.threads
  pool.run { part in
    let r = partition(n, parts: parts, index: part)
    if !r.isEmpty { body(r) }
  }
}

// MARK: - Embedding lookup

/// out[T,C] = table[tokens[t], :]
public func embeddingForward<S: TrainScalar>(
  _ out: UnsafeMutablePointer<S>, _ table: UnsafePointer<S>, tokens: [Int], C: Int
) {
  for (t, tok) in tokens.enumerated() { (out + t * C).update(from: table + tok * C, count: C) }
}

/// dtable[V,C][tokens[t]] += dout[T,C][t]  (only needed if the embedding is trained or checked).
public func embeddingBackward<S: TrainScalar>(
  _ dtable: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, tokens: [Int], C: Int
) {
  for (t, tok) in tokens.enumerated() {
    let d = dtable + tok * C, g = dout + t * C
    for c in 0..<C { d[c] += g[c] }
  }
}

// MARK: - RMSNorm

/// out[T,C] = x * rstd * weight, rstd[T] = 1 / sqrt(mean(x^2) + eps).
public func rmsNormForward<S: TrainScalar>(
  _ out: UnsafeMutablePointer<S>, _ rstd: UnsafeMutablePointer<S>, _ x: UnsafePointer<S>,
  _ weight: UnsafePointer<S>, T: Int, C: Int, eps: S
) {
  parallelFor(T, costPerItem: 3 * C) { rows in
    for t in rows {
      let xt = x + t * C, ot = out + t * C
      var ss: S = 0
      for c in 0..<C { ss += xt[c] * xt[c] }
      let r = 1 / S.sqrt(ss / S(C) + eps)
      rstd[t] = r
      for c in 0..<C { ot[c] = xt[c] * r * weight[c] }
    }
  }
}

/// dx += rstd * (w*dy) - x * rstd^3 / C * sum(w*dy*x); dweight += dy * x * rstd (if given).
public func rmsNormBackward<S: TrainScalar>(
  _ dx: UnsafeMutablePointer<S>, _ dweight: UnsafeMutablePointer<S>?, _ dout: UnsafePointer<S>,
  _ x: UnsafePointer<S>, _ weight: UnsafePointer<S>, _ rstd: UnsafePointer<S>, T: Int, C: Int
) {
  let row = { (t: Int) in
    let xt = x + t * C, gt = dout + t * C, dxt = dx + t * C
    let r = rstd[t]
    var dot: S = 0
    for c in 0..<C { dot += weight[c] * gt[c] * xt[c] }
    let k = dot * r * r * r / S(C)
    for c in 0..<C { dxt[c] += r * weight[c] * gt[c] - xt[c] * k }
  }
  if let dw = dweight {
    // dweight sums over rows: kept serial so its order never changes.
    for t in 0..<T {
      row(t)
      let xt = x + t * C, gt = dout + t * C, r = rstd[t]
      for c in 0..<C { dw[c] += gt[c] * xt[c] * r }
    }
  } else {
    parallelFor(T, costPerItem: 4 * C) { rows in for t in rows { row(t) } }
  }
}

// MARK: - RoPE

/// cos/sin of every (position, pair): angle = p * theta^(-2k/n), n = rotated dims per head
/// (<= D), computed in Double exactly as LLM's inference `RopeTable`, then rounded to S.
public struct RoPETable<S: TrainScalar> {
  public let T: Int, halfDims: Int
  public var cos: [S]  // (T, n/2)
  public var sin: [S]  // (T, n/2)
  public init(positions: Int, dims: Int, theta: Double) {
    T = positions; halfDims = dims / 2
    cos = [S](repeating: 0, count: T * halfDims); sin = cos
    for p in 0..<T {
      for k in 0..<halfDims {
        let a = Double(p) * Foundation.pow(theta, -2 * Double(k) / Double(dims))
        cos[p * halfDims + k] = S(Float(Foundation.cos(a))); sin[p * halfDims + k] = S(Float(Foundation.sin(a)))
      }
    }
  }
}

/// Rotates every head of x[T, nHeads*D] in place by +angle (forward) or -angle (backward: the
/// transpose of a rotation is its inverse, so the gradient is rotated back).
@inline(__always)
func ropeRotate<S: TrainScalar>(
  _ x: UnsafeMutablePointer<S>, T: Int, nHeads: Int, D: Int, table: RoPETable<S>,
  style: RopeStyle, sign: S
) {
  let half = table.halfDims
  table.cos.withUnsafeBufferPointer { cp in
    table.sin.withUnsafeBufferPointer { sp in
      for t in 0..<T {
        let c = cp.baseAddress! + t * half, s = sp.baseAddress! + t * half
        for h in 0..<nHeads {
          let v = x + t * nHeads * D + h * D
          for k in 0..<half {
            let (i, j) = style == .normal ? (2 * k, 2 * k + 1) : (k, k + half)
            let a = v[i], b = v[j], sn = sign * s[k]
            v[i] = a * c[k] - b * sn
            v[j] = a * sn + b * c[k]
          }
        }
      }
    }
  }
}

/// x[T, nHeads*D] rotated in place (position t uses row t of the table). `.normal` pairs
/// (2k, 2k+1) as llama.cpp NORM on permuted GGUF Q/K rows; `.neox` pairs (k, k+n/2) as HF.
public func ropeForward<S: TrainScalar>(
  _ x: UnsafeMutablePointer<S>, T: Int, nHeads: Int, D: Int, table: RoPETable<S>,
  style: RopeStyle
) { ropeRotate(x, T: T, nHeads: nHeads, D: D, table: table, style: style, sign: 1) }

/// Overwrites dx[T, nHeads*D] in place: the gradient w.r.t. the un-rotated input.
public func ropeBackward<S: TrainScalar>(
  _ dx: UnsafeMutablePointer<S>, T: Int, nHeads: Int, D: Int, table: RoPETable<S>,
  style: RopeStyle
) { ropeRotate(dx, T: T, nHeads: nHeads, D: D, table: table, style: style, sign: -1) }

// MARK: - Causal self-attention with GQA

/// out[T,H*D] = softmax(q k^T / sqrt(D), causal) v per head; query head h reads kv head h/(H/G).
/// probs[H,T,T] keeps the attention weights for backward (upper triangle is 0).
/// Keys at positions >= validKeys are masked too (HF attention_mask = 0 on right padding).
public func attentionForward<S: TrainScalar>(
  _ out: UnsafeMutablePointer<S>, _ probs: UnsafeMutablePointer<S>, _ q: UnsafePointer<S>,
  _ k: UnsafePointer<S>, _ v: UnsafePointer<S>, T: Int, H: Int, G: Int, D: Int,
  validKeys: Int? = nil
) {
  let nk = max(1, min(validKeys ?? T, T))
  let scale = 1 / S.sqrt(S(D)), group = H / G
  // Heads are independent (own probs, own output columns): split over the pool.
  parallelFor(H, costPerItem: 4 * T * T * D) { heads in
    for h in heads {
      let g = h / group
      let p = probs + h * T * T  // (T, T)
      // scores = q_h[T,D] . k_g[T,D]^T
      S.gemm(
        transA: false, transB: true, M: T, N: T, K: D, alpha: scale, q + h * D, lda: H * D,
        k + g * D, ldb: G * D, beta: 0, p, ldc: T)
      for t in 0..<T {
        let row = p + t * T, last = min(t, nk - 1)
        var mx = row[0]
        for j in stride(from: 1, through: last, by: 1) { mx = max(mx, row[j]) }
        let inv = 1 / S.expShifted(row, count: last + 1, shift: mx)
        for j in 0...last { row[j] *= inv }
        for j in (last + 1)..<T { row[j] = 0 }
      }
      // out_h[T,D] = P[T,T] . v_g[T,D]
      S.gemm(
        transA: false, transB: false, M: T, N: D, K: T, alpha: 1, p, lda: T, v + g * D, ldb: G * D,
        beta: 0, out + h * D, ldc: H * D)
    }
  }
}

/// dq[T,H*D], dk[T,G*D], dv[T,G*D] += gradients; `scratch` is (T, T) (used when running alone).
/// Heads run in parallel; each head's dk/dv contribution goes to its own buffer and the heads of
/// a group are then added in head order, so the sums do not depend on the thread count.
public func attentionBackward<S: TrainScalar>(
  _ dq: UnsafeMutablePointer<S>, _ dk: UnsafeMutablePointer<S>, _ dv: UnsafeMutablePointer<S>,
  _ scratch: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, _ probs: UnsafePointer<S>,
  _ q: UnsafePointer<S>, _ k: UnsafePointer<S>, _ v: UnsafePointer<S>,
  T: Int, H: Int, G: Int, D: Int
) {
  let scale = 1 / S.sqrt(S(D)), group = H / G
  let dkH = UnsafeMutablePointer<S>.allocate(capacity: H * T * D)  // (H, T, D) per-head dk
  let dvH = UnsafeMutablePointer<S>.allocate(capacity: H * T * D)  // (H, T, D) per-head dv
  defer { dkH.deallocate(); dvH.deallocate() }
  let alone = ThreadPool.shared.threads == 1
  parallelFor(H, costPerItem: 8 * T * T * D) { heads in
    let dp = alone ? scratch : UnsafeMutablePointer<S>.allocate(capacity: T * T)  // (T, T): dP, then dS
    defer { if !alone { dp.deallocate() } }
    for h in heads {
      let g = h / group
      let p = probs + h * T * T
      // dP = dout_h[T,D] . v_g[T,D]^T
      S.gemm(
        transA: false, transB: true, M: T, N: T, K: D, alpha: 1, dout + h * D, lda: H * D,
        v + g * D, ldb: G * D, beta: 0, dp, ldc: T)
      // dv_h = P^T . dout_h
      S.gemm(
        transA: true, transB: false, M: T, N: D, K: T, alpha: 1, p, lda: T, dout + h * D,
        ldb: H * D, beta: 0, dvH + h * T * D, ldc: D)
      // dS = P * (dP - sum_j P dP), the softmax Jacobian; masked entries have P = 0 so dS = 0.
      for t in 0..<T {
        let pr = p + t * T, dr = dp + t * T
        var dot: S = 0
        for j in 0..<T { dot += pr[j] * dr[j] }
        for j in 0..<T { dr[j] = pr[j] * (dr[j] - dot) }
      }
      // dq_h += scale * dS . k_g ;  dk_h = scale * dS^T . q_h
      S.gemm(
        transA: false, transB: false, M: T, N: D, K: T, alpha: scale, dp, lda: T, k + g * D,
        ldb: G * D, beta: 1, dq + h * D, ldc: H * D)
      S.gemm(
        transA: true, transB: false, M: T, N: D, K: T, alpha: scale, dp, lda: T, q + h * D,
        ldb: H * D, beta: 0, dkH + h * T * D, ldc: D)
    }
  }
  // dk_g, dv_g += the heads of group g, in head order.
  parallelFor(T, costPerItem: 2 * H * D) { rows in
    for t in rows {
      for h in 0..<H {
        let g = h / group
        let dkt = dk + t * G * D + g * D, dvt = dv + t * G * D + g * D
        let sk = dkH + (h * T + t) * D, sv = dvH + (h * T + t) * D
        for d in 0..<D { dkt[d] += sk[d]; dvt[d] += sv[d] }
      }
    }
  }
}

// MARK: - SwiGLU

/// out[n] = silu(gate[n]) * up[n], silu(x) = x * sigmoid(x).
public func swigluForward<S: TrainScalar>(
  _ out: UnsafeMutablePointer<S>, _ gate: UnsafePointer<S>, _ up: UnsafePointer<S>, count: Int
) {
  parallelFor(count, costPerItem: 8) { r in
    S.sigmoid(out + r.lowerBound, gate + r.lowerBound, count: r.count)  // out = sigmoid(gate)
    for i in r { out[i] = gate[i] * out[i] * up[i] }
  }
}

/// dgate += dout * up * silu'(gate), dup += dout * silu(gate); silu' = s (1 + x (1 - s)).
public func swigluBackward<S: TrainScalar>(
  _ dgate: UnsafeMutablePointer<S>, _ dup: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>,
  _ gate: UnsafePointer<S>, _ up: UnsafePointer<S>, count: Int
) {
  parallelFor(count, costPerItem: 10) { r in
    let chunk = 1024
    let sg = UnsafeMutablePointer<S>.allocate(capacity: chunk)  // (chunk) sigmoid(gate)
    defer { sg.deallocate() }
    var i0 = r.lowerBound
    while i0 < r.upperBound {
      let n = min(chunk, r.upperBound - i0)
      S.sigmoid(sg, gate + i0, count: n)
      for k in 0..<n {
        let i = i0 + k, g = gate[i], s = sg[k]
        dgate[i] += dout[i] * up[i] * s * (1 + g * (1 - s))
        dup[i] += dout[i] * g * s
      }
      i0 += n
    }
  }
}

// MARK: - Residual

/// out = a + b (out may alias a).
public func residualForward<S: TrainScalar>(
  _ out: UnsafeMutablePointer<S>, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, count: Int
) { for i in 0..<count { out[i] = a[i] + b[i] } }

/// da += dout, db += dout.
public func residualBackward<S: TrainScalar>(
  _ da: UnsafeMutablePointer<S>, _ db: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, count: Int
) { for i in 0..<count { da[i] += dout[i]; db[i] += dout[i] } }

// MARK: - Linear (frozen base) and LoRA

/// out[T,N] = x[T,K] . w[N,K]^T (+ bias[N]). `w` is [out, in] like torch.nn.Linear.
public func linearForward<S: TrainScalar>(
  _ out: UnsafeMutablePointer<S>, _ x: UnsafePointer<S>, _ w: UnsafePointer<S>,
  _ bias: UnsafePointer<S>?, T: Int, N: Int, K: Int
) {
  S.gemm(transA: false, transB: true, M: T, N: N, K: K, alpha: 1, x, lda: K, w, ldb: K, beta: 0, out, ldc: N)
  if let b = bias { for t in 0..<T { for n in 0..<N { out[t * N + n] += b[n] } } }
}

/// dx[T,K] += dout[T,N] . w[N,K]. The frozen base never needs dW: that is the point of LoRA.
public func linearBackwardInput<S: TrainScalar>(
  _ dx: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, _ w: UnsafePointer<S>, T: Int, N: Int, K: Int
) {
  S.gemm(transA: false, transB: false, M: T, N: K, K: N, alpha: 1, dout, lda: N, w, ldb: K, beta: 1, dx, ldc: K)
}

/// dw[N,K] += dout^T . x; dbias[N] += sum_t dout (used by gradient checks of a trainable Linear).
public func linearBackwardWeight<S: TrainScalar>(
  _ dw: UnsafeMutablePointer<S>, _ dbias: UnsafeMutablePointer<S>?, _ dout: UnsafePointer<S>,
  _ x: UnsafePointer<S>, T: Int, N: Int, K: Int
) {
  S.gemm(transA: true, transB: false, M: N, N: K, K: T, alpha: 1, dout, lda: N, x, ldb: K, beta: 1, dw, ldc: K)
  if let db = dbias { for t in 0..<T { for n in 0..<N { db[n] += dout[t * N + n] } } }
}

/// LoRA branch (PEFT): out[T,N] += scale * (xd[T,K] . A[R,K]^T) . B[N,R]^T with scale = alpha/r;
/// xd is the adapter input after dropout. Keeps h[T,R] = xd A^T for backward.
public func loraForward<S: TrainScalar>(
  _ out: UnsafeMutablePointer<S>, _ h: UnsafeMutablePointer<S>, _ xd: UnsafePointer<S>,
  _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, scale: S, T: Int, N: Int, K: Int, R: Int
) {
  S.gemm(transA: false, transB: true, M: T, N: R, K: K, alpha: 1, xd, lda: K, a, ldb: K, beta: 0, h, ldc: R)
  S.gemm(transA: false, transB: true, M: T, N: N, K: R, alpha: scale, h, lda: R, b, ldb: R, beta: 1, out, ldc: N)
}

/// dA[R,K] += dh^T xd, dB[N,R] += scale dout^T h, dxd[T,K] += dh A (if given), where
/// dh[T,R] = scale * dout B is written into `dh` (scratch, overwritten).
public func loraBackward<S: TrainScalar>(
  _ da: UnsafeMutablePointer<S>, _ db: UnsafeMutablePointer<S>, _ dxd: UnsafeMutablePointer<S>?,
  _ dh: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, _ xd: UnsafePointer<S>,
  _ h: UnsafePointer<S>, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
  scale: S, T: Int, N: Int, K: Int, R: Int
) {
  S.gemm(transA: true, transB: false, M: N, N: R, K: T, alpha: scale, dout, lda: N, h, ldb: R, beta: 1, db, ldc: R)
  S.gemm(transA: false, transB: false, M: T, N: R, K: N, alpha: scale, dout, lda: N, b, ldb: R, beta: 0, dh, ldc: R)
  S.gemm(transA: true, transB: false, M: R, N: K, K: T, alpha: 1, dh, lda: R, xd, ldb: K, beta: 1, da, ldc: K)
  if let dx = dxd {
    S.gemm(transA: false, transB: false, M: T, N: K, K: R, alpha: 1, dh, lda: R, a, ldb: K, beta: 1, dx, ldc: K)
  }
}

/// Inverted dropout as in torch: mask[n] = 0 with probability p, else 1/(1-p); out = x * mask.
public func dropoutForward<S: TrainScalar>(
  _ out: UnsafeMutablePointer<S>, _ mask: UnsafeMutablePointer<S>, _ x: UnsafePointer<S>,
  count: Int, p: Double, rng: inout TrainRNG
) {
  let keep = S(1 / (1 - p))
  for i in 0..<count {
    let m: S = Double(rng.nextUnitFloat()) < p ? 0 : keep
    mask[i] = m; out[i] = x[i] * m
  }
}

/// dx += dout * mask.
public func dropoutBackward<S: TrainScalar>(
  _ dx: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, _ mask: UnsafePointer<S>, count: Int
) { for i in 0..<count { dx[i] += dout[i] * mask[i] } }

// MARK: - Output head and cross-entropy

/// losses[T] = logsumexp(logits[t]) - logits[t, target[t]], lse[T] kept for backward.
/// target < 0 means "no target at t" (HF's -100): loss 0.
public func crossEntropyForward<S: TrainScalar>(
  _ losses: UnsafeMutablePointer<S>, _ lse: UnsafeMutablePointer<S>, _ logits: UnsafePointer<S>,
  targets: [Int], V: Int
) {
  parallelFor(targets.count, costPerItem: 10 * V) { rows in
    for t in rows {
      let y = targets[t]
      let row = logits + t * V
      var mx = row[0]
      for j in 1..<V { mx = max(mx, row[j]) }
      // Summed in Double: 49,152 float32 terms summed in float32 lose ~1e-5 of the loss.
      var sum = 0.0
      for j in 0..<V { sum += Double(S.exp(row[j] - mx)) }
      let l = mx + S(Foundation.log(sum))
      lse[t] = l
      losses[t] = y >= 0 ? l - row[y] : 0
    }
  }
}

/// dlogits[T,V] += dlosses[t] * (softmax(logits[t]) - onehot(target[t])) for rows with a target.
/// With `overwrite: true` it writes instead (rows without a target become 0), which allows
/// dlogits == logits (in place): each element is read before it is written.
public func crossEntropyBackward<S: TrainScalar>(
  _ dlogits: UnsafeMutablePointer<S>, _ logits: UnsafePointer<S>, _ lse: UnsafePointer<S>,
  _ dlosses: UnsafePointer<S>, targets: [Int], V: Int, overwrite: Bool = false
) {
  parallelFor(targets.count, costPerItem: 10 * V) { rows in
    for t in rows {
      let y = targets[t]
      let row = logits + t * V, drow = dlogits + t * V
      if y < 0 {
        if overwrite { drow.update(repeating: 0, count: V) }
        continue
      }
      let g = dlosses[t], l = lse[t]
      if overwrite {
        for j in 0..<V { drow[j] = g * S.exp(row[j] - l) }
      } else {
        for j in 0..<V { drow[j] += g * S.exp(row[j] - l) }
      }
      drow[y] -= g
    }
  }
}
