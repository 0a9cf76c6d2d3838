import Tensor
import Testing

@Suite("BLAS wrappers")
struct BLASTests {
  func random(_ n: Int, _ seed: UInt64) -> FloatBuffer {
    var s = seed
    let b = FloatBuffer(count: n)
    for i in 0..<n {
      s = s &* 6364136223846793005 &+ 1442695040888963407
      b[i] = Float(Int(s >> 40) % 2001 - 1000) / 1000
    }
    return b
  }

  @Test("matmulNT, matmulNN and matmulTN agree with the naive reference", arguments: [(1, 7, 5), (3, 64, 33), (17, 9, 128)])
  func products(_ dims: (Int, Int, Int)) {
    let (M, N, K) = dims
    let x = random(M * K, 1), w = random(N * K, 2)
    let fast = FloatBuffer(count: M * N), naive = FloatBuffer(count: M * N)
    matmulNT(fast.pointer, x.pointer, w.pointer, M: M, N: N, K: K)
    matmulNTNaive(naive.pointer, x.pointer, w.pointer, M: M, N: N, K: K)
    #expect(zip(fast.array, naive.array).map { abs($0 - $1) }.max()! < 1e-4)
    // NN with the transposed weight is the same product.
    let wt = FloatBuffer(count: K * N)
    for n in 0..<N { for k in 0..<K { wt[k * N + n] = w[n * K + k] } }
    let nn = FloatBuffer(count: M * N)
    matmulNN(nn.pointer, x.pointer, wt.pointer, M: M, N: N, K: K)
    #expect(zip(nn.array, naive.array).map { abs($0 - $1) }.max()! < 1e-4)
    // TN: (x^T)^T . wt = x . wt with x stored transposed.
    let xt = FloatBuffer(count: K * M)
    for m in 0..<M { for k in 0..<K { xt[k * M + m] = x[m * K + k] } }
    let tn = FloatBuffer(count: M * N)
    matmulTN(tn.pointer, xt.pointer, wt.pointer, M: M, N: N, K: K)
    #expect(zip(tn.array, naive.array).map { abs($0 - $1) }.max()! < 1e-4)
  }

  @Test("beta accumulates into the output")
  func accumulate() {
    let x = random(6, 3), w = random(6, 4)
    let y = FloatBuffer([1, 2, 3, 4])
    let ref = FloatBuffer([1, 2, 3, 4])
    matmulNT(y.pointer, x.pointer, w.pointer, M: 2, N: 2, K: 3, alpha: 1, beta: 1)
    matmulNTNaive(ref.pointer, x.pointer, w.pointer, M: 2, N: 2, K: 3, alpha: 1, beta: 1)
    #expect(zip(y.array, ref.array).map { abs($0 - $1) }.max()! < 1e-5)
  }
}
