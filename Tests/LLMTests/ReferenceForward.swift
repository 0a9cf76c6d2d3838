// A deliberately plain single-sequence forward pass in Double, written from the architecture
// description (not from Transformer.swift), used as the reference in LLM tests.
import Foundation
import LLM
import Tensor

func referenceLogits(_ w: ModelWeights, _ tokens: [Int]) -> [[Double]] {
  let c = w.config
  let C = c.dim, H = c.heads, G = c.kvHeads, D = c.headDim, F = c.ffnDim, V = c.vocabSize
  func vec(_ b: FloatBuffer, _ off: Int, _ n: Int) -> [Double] { (0..<n).map { Double(b[off + $0]) } }
  func lin(_ l: Linear, _ x: [Double]) -> [Double] {
    (0..<l.outFeatures).map { n in
      var s = l.bias.map { Double($0[n]) } ?? 0
      for k in 0..<l.inFeatures { s += Double(l.w[n * l.inFeatures + k]) * x[k] }
      return s
    }
  }
  func rms(_ x: [Double], _ w: [Double]) -> [Double] {
    let ms = x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
    let inv = 1 / (ms + Double(c.rmsEps)).squareRoot()
    return x.indices.map { x[$0] * inv * w[$0] }
  }
  func rope(_ v: inout [Double], _ pos: Int) {
    let n = c.ropeDims, half = n / 2
    for k in 0..<half {
      let a = Double(pos) * pow(Double(c.ropeTheta), -2 * Double(k) / Double(n))
      let (i, j) = c.ropeStyle == .normal ? (2 * k, 2 * k + 1) : (k, k + half)
      let x0 = v[i], x1 = v[j]
      v[i] = x0 * cos(a) - x1 * sin(a)
      v[j] = x0 * sin(a) + x1 * cos(a)
    }
  }
  var xs: [[Double]] = tokens.map { vec(w.tokenEmbedding, $0 * C, C) }
  var keys: [[[[Double]]]] = []  // [layer][pos][g][D]
  var vals: [[[[Double]]]] = []
  for (li, l) in w.layers.enumerated() {
    keys.append([])
    vals.append([])
    for t in 0..<tokens.count {
      let xn = rms(xs[t], vec(l.attnNorm, 0, C))
      let q = lin(l.wq, xn), k = lin(l.wk, xn), v = lin(l.wv, xn)
      var qh = (0..<H).map { Array(q[($0 * D)..<(($0 + 1) * D)]) }
      var kh = (0..<G).map { Array(k[($0 * D)..<(($0 + 1) * D)]) }
      let vh = (0..<G).map { Array(v[($0 * D)..<(($0 + 1) * D)]) }
      if let qn = l.qNorm, let kn = l.kNorm {
        qh = qh.map { rms($0, vec(qn, 0, D)) }
        kh = kh.map { rms($0, vec(kn, 0, D)) }
      }
      for h in 0..<H { rope(&qh[h], t) }
      for g in 0..<G { rope(&kh[g], t) }
      keys[li].append(kh)
      vals[li].append(vh)
      var att = [Double](repeating: 0, count: H * D)
      for h in 0..<H {
        let g = h / (H / G)
        var s = (0...t).map { p in zip(qh[h], keys[li][p][g]).reduce(0) { $0 + $1.0 * $1.1 } / Double(D).squareRoot() }
        let mx = s.max()!
        s = s.map { exp($0 - mx) }
        let z = s.reduce(0, +)
        for p in 0...t { for d in 0..<D { att[h * D + d] += s[p] / z * vals[li][p][g][d] } }
      }
      xs[t] = zip(xs[t], lin(l.wo, att)).map { $0 + $1 }
      let xn2 = rms(xs[t], vec(l.ffnNorm, 0, C))
      let ga = lin(l.wGate, xn2), up = lin(l.wUp, xn2)
      let hcat = (0..<F).map { ga[$0] / (1 + exp(-ga[$0])) * up[$0] }
      xs[t] = zip(xs[t], lin(l.wDown, hcat)).map { $0 + $1 }
    }
  }
  return xs.map { x in
    let xn = rms(x, vec(w.outputNorm, 0, C))
    return (0..<V).map { vv in (0..<C).reduce(0.0) { $0 + Double(w.output.w[vv * C + $1]) * xn[$1] } }
  }
}

func tinyConfig(_ arch: Architecture = .llama, layers: Int = 2) -> LlamaConfig {
  LlamaConfig(
    architecture: arch, vocabSize: 48, dim: 64, layers: layers, heads: 4, kvHeads: 2, headDim: 16,
    ffnDim: 128, ropeTheta: 10000, rmsEps: 1e-5, contextLength: 64)
}

func maxAbsDiff(_ a: [Float], _ b: [Double]) -> Double {
  zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
}
