import Tensor
import Testing

@Suite("BLAS wrappers")
struct BLASTests {
  func random(_ n: Int, _ seed: UInt64) -> FloatBuffer {
    var s = seed
    let b = FloatBuffer(count: n)
    for i in 0..<n {
      s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      b[i] = Float(Int(s >> 40) % 2001 - 1000) / 1000
    }
    return b
  }

  @Test(
    "matmulNT, matmulNN and matmulTN agree with the naive reference", arguments: [(1, 7, 5), (3, 64, 33), (17, 9, 128)])
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

  @Test(
    "products split over the pool match the naive reference and repeat bit for bit",
    arguments: [(300, 40, 50), (20, 300, 64), (129, 130, 33)])
  func splitProducts(_ dims: (Int, Int, Int)) {
    let (M, N, K) = dims
    #expect(M * N * K >= sgemmSplitWork)
    let x = random(M * K, 5), w = random(N * K, 6)
    // All four transpose combinations through the strided entry point, with beta = 1.
    let xt = FloatBuffer(count: K * M), wt = FloatBuffer(count: K * N)
    for m in 0..<M { for k in 0..<K { xt[k * M + m] = x[m * K + k] } }
    for n in 0..<N { for k in 0..<K { wt[k * N + n] = w[n * K + k] } }
    let naive = random(M * N, 7)
    matmulNTNaive(naive.pointer, x.pointer, w.pointer, M: M, N: N, K: K, alpha: 0.5, beta: 1)
    for (transA, transB) in [(false, true), (false, false), (true, false), (true, true)] {
      let a = transA ? xt : x, b = transB ? w : wt
      let lda = transA ? M : K, ldb = transB ? K : N
      let first = random(M * N, 7), again = random(M * N, 7)
      for y in [first, again] {
        sgemm(
          transA: transA, transB: transB, M: M, N: N, K: K, alpha: 0.5, a.pointer, lda: lda, b.pointer, ldb: ldb,
          beta: 1, y.pointer, ldc: N)
      }
      let err = zip(first.array, naive.array).map { abs($0 - $1) }.max()!
      #expect(err < 1e-4, "transA \(transA) transB \(transB): max |diff| \(err)")
      #expect(first.array == again.array, "transA \(transA) transB \(transB): not repeatable")
    }
  }
}

@Suite("Thread pool")
struct ThreadPoolTests {
  final class Box: @unchecked Sendable {
    var hits: [Int]
    init(_ n: Int) { hits = [Int](repeating: 0, count: n) }
  }

  @Test("every part of a job runs exactly once, and a run started inside a job completes on that thread")
  func nestedRuns() {
    let pool = ThreadPool(threads: 3)
    defer { pool.shutdown() }
    let outer = Box(3), inner = Box(9)
    pool.run { part in
      outer.hits[part] += 1
      #expect(ThreadPool.insideJob)
      // Parts of the nested run execute one after another on this thread: no lock, no deadlock.
      pool.run { sub in inner.hits[part * 3 + sub] += 1 }
    }
    #expect(outer.hits == [1, 1, 1])
    #expect(inner.hits == [Int](repeating: 1, count: 9))
    #expect(!ThreadPool.insideJob)
  }
}
