// Finite-difference gradient checks, in Double (the ops are generic, so this is the same code the
// Float trainer runs): every op's backward, then a whole tiny model's LoRA gradients.
import Foundation
import LLM
import Testing
import Training

/// Max over entries of |analytic - numeric| / max(1e-6, |analytic| + |numeric|) (central differences).
func maxRelativeError(_ x: inout [Double], analytic: [Double], h: Double = 1e-6, _ f: ([Double]) -> Double) -> Double {
  var worst = 0.0
  for i in 0..<x.count {
    let old = x[i]
    x[i] = old + h; let fp = f(x)
    x[i] = old - h; let fm = f(x)
    x[i] = old
    let num = (fp - fm) / (2 * h)
    worst = max(worst, abs(num - analytic[i]) / max(1e-6, abs(num) + abs(analytic[i])))
  }
  return worst
}

func randomArray(_ n: Int, _ rng: inout TrainRNG, scale: Double = 1) -> [Double] {
  (0..<n).map { _ in (Double(rng.nextUnitFloat()) * 2 - 1) * scale }
}

/// sum(out * weights): a scalar whose gradient w.r.t. out is `weights`.
func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

@Suite("Gradient checks per op (float64)")
struct OpGradientTests {
  @Test("RMSNorm backward matches finite differences for input and weight")
  func rmsNorm() {
    var rng = TrainRNG(seed: 1)
    let T = 3, C = 5
    var x = randomArray(T * C, &rng), w = randomArray(C, &rng), R = randomArray(T * C, &rng)
    func f(_ x: [Double], _ w: [Double]) -> Double {
      var out = [Double](repeating: 0, count: T * C), rs = [Double](repeating: 0, count: T)
      rmsNormForward(&out, &rs, x, w, T: T, C: C, eps: 1e-5)
      return dot(out, R)
    }
    var out = [Double](repeating: 0, count: T * C), rs = [Double](repeating: 0, count: T)
    rmsNormForward(&out, &rs, x, w, T: T, C: C, eps: 1e-5)
    var dx = [Double](repeating: 0, count: T * C), dw = [Double](repeating: 0, count: C)
    dw.withUnsafeMutableBufferPointer { dwp in rmsNormBackward(&dx, dwp.baseAddress!, &R, x, w, rs, T: T, C: C) }
    let wc = w, xc = x
    #expect(maxRelativeError(&x, analytic: dx) { f($0, wc) } < 1e-6)
    #expect(maxRelativeError(&w, analytic: dw) { f(xc, $0) } < 1e-6)
  }

  @Test("RoPE backward (inverse rotation) matches finite differences, both pairings")
  func rope() {
    for style in [RopeStyle.normal, .neox] {
      var rng = TrainRNG(seed: 2)
      let T = 4, nH = 2, D = 6
      var x = randomArray(T * nH * D, &rng)
      let R = randomArray(T * nH * D, &rng)
      let table = RoPETable<Double>(positions: T, dims: D, theta: 100)
      func f(_ x: [Double]) -> Double {
        var y = x
        ropeForward(&y, T: T, nHeads: nH, D: D, table: table, style: style)
        return dot(y, R)
      }
      var dx = R
      ropeBackward(&dx, T: T, nHeads: nH, D: D, table: table, style: style)
      #expect(maxRelativeError(&x, analytic: dx, f) < 1e-6)
    }
  }

  @Test("causal GQA attention backward matches finite differences for q, k and v (also with padded keys)")
  func attention() {
    for validKeys in [nil, 3] as [Int?] {
      var rng = TrainRNG(seed: 3)
      let T = 5, H = 4, G = 2, D = 3
      var q = randomArray(T * H * D, &rng), k = randomArray(T * G * D, &rng), v = randomArray(T * G * D, &rng)
      var R = randomArray(T * H * D, &rng)
      func f(_ q: [Double], _ k: [Double], _ v: [Double]) -> Double {
        var out = [Double](repeating: 0, count: T * H * D), p = [Double](repeating: 0, count: H * T * T)
        attentionForward(&out, &p, q, k, v, T: T, H: H, G: G, D: D, validKeys: validKeys)
        return dot(out, R)
      }
      var out = [Double](repeating: 0, count: T * H * D), p = [Double](repeating: 0, count: H * T * T)
      attentionForward(&out, &p, q, k, v, T: T, H: H, G: G, D: D, validKeys: validKeys)
      var dq = [Double](repeating: 0, count: q.count), dk = [Double](repeating: 0, count: k.count)
      var dv = [Double](repeating: 0, count: v.count), s = [Double](repeating: 0, count: T * T)
      attentionBackward(&dq, &dk, &dv, &s, &R, p, q, k, v, T: T, H: H, G: G, D: D)
      let (qc, kc, vc) = (q, k, v)
      #expect(maxRelativeError(&q, analytic: dq) { f($0, kc, vc) } < 1e-6)
      #expect(maxRelativeError(&k, analytic: dk) { f(qc, $0, vc) } < 1e-6)
      #expect(maxRelativeError(&v, analytic: dv) { f(qc, kc, $0) } < 1e-6)
    }
  }

  @Test("SwiGLU backward matches finite differences for gate and up")
  func swiglu() {
    var rng = TrainRNG(seed: 4)
    let n = 9
    var g = randomArray(n, &rng, scale: 3), u = randomArray(n, &rng), R = randomArray(n, &rng)
    func f(_ g: [Double], _ u: [Double]) -> Double {
      var o = [Double](repeating: 0, count: n)
      Training.swigluForward(&o, g, u, count: n)
      return dot(o, R)
    }
    var dg = [Double](repeating: 0, count: n), du = [Double](repeating: 0, count: n)
    Training.swigluBackward(&dg, &du, &R, g, u, count: n)
    let (gc, uc) = (g, u)
    #expect(maxRelativeError(&g, analytic: dg) { f($0, uc) } < 1e-6)
    #expect(maxRelativeError(&u, analytic: du) { f(gc, $0) } < 1e-6)
  }

  @Test("cross-entropy backward matches finite differences; rows without a target get no gradient")
  func crossEntropy() {
    var rng = TrainRNG(seed: 5)
    let T = 3, V = 7
    let targets = [2, -1, 6]
    var logits = randomArray(T * V, &rng, scale: 3), wts = [0.5, 0.7, 0.25]
    func f(_ z: [Double]) -> Double {
      var l = [Double](repeating: 0, count: T), lse = [Double](repeating: 0, count: T)
      crossEntropyForward(&l, &lse, z, targets: targets, V: V)
      return dot(l, wts)
    }
    var l = [Double](repeating: 0, count: T), lse = [Double](repeating: 0, count: T)
    crossEntropyForward(&l, &lse, logits, targets: targets, V: V)
    var dz = [Double](repeating: 0, count: T * V)
    crossEntropyBackward(&dz, logits, lse, &wts, targets: targets, V: V)
    #expect(maxRelativeError(&logits, analytic: dz, f) < 1e-6)
    #expect(dz[V..<(2 * V)].allSatisfy { $0 == 0 })
  }

  @Test("Linear + LoRA backward matches finite differences for x, A, B (and dropout routes dX)")
  func linearLoRA() {
    var rng = TrainRNG(seed: 6)
    let T = 3, N = 4, K = 5, R = 2, scale = 1.5
    var x = randomArray(T * K, &rng), a = randomArray(R * K, &rng), b = randomArray(N * R, &rng)
    let w = randomArray(N * K, &rng), bias = randomArray(N, &rng), mask = (0..<(T * K)).map { $0 % 3 == 0 ? 0.0 : 1.25 }
    var Rw = randomArray(T * N, &rng)
    func f(_ x: [Double], _ a: [Double], _ b: [Double]) -> Double {
      var out = [Double](repeating: 0, count: T * N), h = [Double](repeating: 0, count: T * R)
      linearForward(&out, x, w, bias, T: T, N: N, K: K)
      let xd = zip(x, mask).map { $0 * $1 }
      loraForward(&out, &h, xd, a, b, scale: scale, T: T, N: N, K: K, R: R)
      return dot(out, Rw)
    }
    var out = [Double](repeating: 0, count: T * N), h = [Double](repeating: 0, count: T * R)
    linearForward(&out, x, w, bias, T: T, N: N, K: K)
    let xd = zip(x, mask).map { $0 * $1 }
    loraForward(&out, &h, xd, a, b, scale: scale, T: T, N: N, K: K, R: R)
    var dx = [Double](repeating: 0, count: T * K), dxd = dx, da = [Double](repeating: 0, count: R * K)
    var db = [Double](repeating: 0, count: N * R), dh = [Double](repeating: 0, count: T * R)
    linearBackwardInput(&dx, &Rw, w, T: T, N: N, K: K)
    loraBackward(&da, &db, &dxd, &dh, &Rw, xd, h, a, b, scale: scale, T: T, N: N, K: K, R: R)
    dropoutBackward(&dx, dxd, mask, count: T * K)
    let (xc, ac, bc) = (x, a, b)
    #expect(maxRelativeError(&x, analytic: dx) { f($0, ac, bc) } < 1e-6)
    #expect(maxRelativeError(&a, analytic: da) { f(xc, $0, bc) } < 1e-6)
    #expect(maxRelativeError(&b, analytic: db) { f(xc, ac, $0) } < 1e-6)
  }

  @Test("Linear weight/bias, embedding and residual backward match finite differences")
  func linearWeightEmbeddingResidual() {
    var rng = TrainRNG(seed: 7)
    let T = 3, N = 4, K = 2, V = 5
    let x = randomArray(T * K, &rng)
    var w = randomArray(N * K, &rng), bias = randomArray(N, &rng), Rw = randomArray(T * N, &rng)
    func f(_ w: [Double], _ b: [Double]) -> Double {
      var out = [Double](repeating: 0, count: T * N)
      linearForward(&out, x, w, b, T: T, N: N, K: K)
      return dot(out, Rw)
    }
    var dw = [Double](repeating: 0, count: N * K), dbias = [Double](repeating: 0, count: N)
    dbias.withUnsafeMutableBufferPointer { linearBackwardWeight(&dw, $0.baseAddress!, &Rw, x, T: T, N: N, K: K) }
    let (wc, bc) = (w, bias)
    #expect(maxRelativeError(&w, analytic: dw) { f($0, bc) } < 1e-6)
    #expect(maxRelativeError(&bias, analytic: dbias) { f(wc, $0) } < 1e-6)

    let tokens = [3, 1, 3]
    var table = randomArray(V * K, &rng), Re = randomArray(T * K, &rng)
    func fe(_ tb: [Double]) -> Double {
      var out = [Double](repeating: 0, count: T * K)
      embeddingForward(&out, tb, tokens: tokens, C: K)
      return dot(out, Re)
    }
    var dtable = [Double](repeating: 0, count: V * K)
    embeddingBackward(&dtable, &Re, tokens: tokens, C: K)
    #expect(maxRelativeError(&table, analytic: dtable, fe) < 1e-6)

    var ra = randomArray(4, &rng), rb = randomArray(4, &rng), Rr = randomArray(4, &rng)
    var da = [Double](repeating: 0, count: 4), db = da
    residualBackward(&da, &db, &Rr, count: 4)
    let rbc = rb, rac = ra
    func fr(_ a: [Double], _ b: [Double]) -> Double {
      var o = [Double](repeating: 0, count: 4); residualForward(&o, a, b, count: 4); return dot(o, Rr)
    }
    #expect(maxRelativeError(&ra, analytic: da) { fr($0, rbc) } < 1e-6)
    #expect(maxRelativeError(&rb, analytic: db) { fr(rac, $0) } < 1e-6)
  }
}

func tinyConfig(_ arch: Architecture = .llama) -> LlamaConfig {
  LlamaConfig(
    architecture: arch, vocabSize: 13, dim: 8, layers: 2, heads: 4, kvHeads: 2, headDim: 4,
    ffnDim: 12, ropeTheta: 10000, rmsEps: 1e-5, contextLength: 16)
}

/// An adapter on all seven projections with non-zero B, so every gradient path is exercised.
func randomAdapter(
  _ c: LlamaConfig, rank: Int = 2, targets: [Projection] = Projection.allCases, seed: UInt64 = 9
) throws -> LoRAAdapter {
  let ad = try LoRAAdapter(config: LoRAConfig(rank: rank, alpha: 3, targets: targets, seed: seed), shape: c)
  var rng = TrainRNG(seed: seed &+ 1)
  for p in ad.pairs { for i in 0..<p.b.count { p.b[i] = (rng.nextUnitFloat() * 2 - 1) * 0.5 } }
  return ad
}

@Suite("Gradient check of a whole tiny model (float64)")
struct ModelGradientTests {
  @Test(
    "LoRA gradients of every projection match finite differences end to end",
    arguments: [Architecture.llama, .qwen2, .qwen3])
  func wholeModel(arch: Architecture) throws {
    let c = tinyConfig(arch)
    let model = ModelWeights.random(config: c, seed: 11)
    let adapter = try randomAdapter(c)
    let engine = try LoRAEngine<Double>(base: BaseWeights(model: model), adapter: adapter, maxTokens: 7)
    let tokens = [1, 5, 12, 3, 3, 7, 0]
    let targets = [5, 12, -1, 3, 7, 0, -1]  // some positions masked
    func loss() -> Double {
      let r = try! engine.forward(tokens: tokens, targets: targets, training: false)
      return r.lossSum / Double(r.count)
    }
    engine.zeroGrad()
    let r = try engine.forward(tokens: tokens, targets: targets, training: false)
    engine.backward(lossWeight: 1 / Double(r.count))
    var worst = 0.0, checked = 0
    for (i, p) in adapter.pairs.enumerated() {
      let (da, db) = engine.gradients(pair: i)
      for (isB, grads) in [(false, da), (true, db)] {
        for j in stride(from: 0, to: grads.count, by: 3) {
          let old = engine.parameter(pair: i, isB: isB, index: j), h = 1e-6
          engine.setParameter(pair: i, isB: isB, index: j, value: old + h); let fp = loss()
          engine.setParameter(pair: i, isB: isB, index: j, value: old - h); let fm = loss()
          engine.setParameter(pair: i, isB: isB, index: j, value: old)
          let num = (fp - fm) / (2 * h)
          worst = max(worst, abs(num - grads[j]) / max(1e-7, abs(num) + abs(grads[j])))
          checked += 1
        }
      }
      _ = p
    }
    #expect(checked > 100)
    #expect(worst < 1e-5, "worst relative error \(worst)")
  }
}
