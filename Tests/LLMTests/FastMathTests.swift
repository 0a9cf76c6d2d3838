import Foundation
import LLM
import Tensor
import Testing

@Suite("Vectorised math")
struct FastMathTests {
  @Test("softmaxFast matches the scalar softmax and returns the logsumexp", arguments: [1, 7, 8, 64, 129])
  func softmax(n: Int) {
    var rng = SplitMix64(seed: UInt64(n))
    let a = FloatBuffer(count: n), b = FloatBuffer(count: n)
    for i in 0..<n { a[i] = Float(rng.nextDouble() * 60 - 30); b[i] = a[i] }
    let lse = logSumExp(a.pointer, n)
    let l1 = softmaxFast(a.pointer, n)
    softmaxInPlace(b.pointer, n)
    #expect(abs(Double(l1) - lse) < 1e-5 * max(1, abs(lse)))
    for i in 0..<n { #expect(abs(a[i] - b[i]) <= 1e-6 + 1e-5 * b[i]) }
  }

  @Test("swigluFast matches x * sigmoid(x) * up over a wide range")
  func swiglu() {
    let n = 203
    let g = FloatBuffer(count: n), u = FloatBuffer(count: n), h = FloatBuffer(count: n)
    for i in 0..<n { g[i] = Float(i - 101) * 0.9; u[i] = Float(i % 7) - 3 }
    swigluFast(h.pointer, g.pointer, u.pointer, count: n)
    for i in 0..<n {
      let x = Double(g[i])
      let want = x / (1 + Foundation.exp(-x)) * Double(u[i])
      #expect(abs(Double(h[i]) - want) <= 1e-5 * max(1, abs(want)), "x = \(x)")
    }
  }

  @Test("expShiftedFast and sigmoidFast match Foundation's exp, with their scalar tails", arguments: [1, 8, 203])
  func expAndSigmoid(n: Int) {
    let x = FloatBuffer(count: n), e = FloatBuffer(count: n), sg = FloatBuffer(count: n)
    for i in 0..<n { x[i] = Float(i) * 0.37 - 40; e[i] = x[i] }
    let shift: Float = 1.5
    let sum = expShiftedFast(e.pointer, n, shift: shift)
    sigmoidFast(sg.pointer, x.pointer, count: n)
    var want = 0.0
    for i in 0..<n {
      let ex = Foundation.exp(Double(x[i] - shift))  // of the float32 argument the kernel sees
      let s = 1 / (1 + Foundation.exp(-Double(x[i])))
      want += ex
      #expect(abs(Double(e[i]) - ex) <= 1e-6 * ex + 1e-30, "exp at \(x[i])")
      #expect(abs(Double(sg[i]) - s) <= 1e-6 * s + 1e-30, "sigmoid at \(x[i])")
    }
    #expect(abs(Double(sum) - want) <= 1e-5 * want)
  }
}
