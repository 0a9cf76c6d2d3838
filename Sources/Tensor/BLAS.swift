// BLAS.swift: the matrix products everything shares, over raw Float buffers (row-major).
//
// Shape letters used across the package: B batch (sequences), T time (tokens), C channels
// (embedding width), H query heads, G key/value heads, D head width, F feed-forward width,
// V vocabulary, L layers, R LoRA rank, N generic output width, K generic reduction width.
// Every fast kernel has a naive reference next to it (`*Naive`), tested against it.
import COpenBLAS
import Foundation

/// OpenBLAS threading, recorded in every manifest.
public enum BLAS {
  /// Sets the OpenBLAS thread count (0 or negative = all cores).
  public static func setThreads(_ n: Int) {
    let t = n > 0 ? n : ProcessInfo.processInfo.activeProcessorCount
    openblas_set_num_threads(Int32(t))
  }
  public static var threads: Int { Int(openblas_get_num_threads()) }
  /// The kernel family OpenBLAS picked for this CPU ("Haswell", "SkylakeX", ...).
  public static var coreName: String { String(cString: openblas_get_corename()) }
  public static var config: String { String(cString: openblas_get_config()) }
}

/// y[M,N] = beta*y + alpha * x[M,K] . w[N,K]^T  (the Linear layer: w is [out, in] row-major).
@inline(__always)
public func matmulNT(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
  M: Int, N: Int, K: Int, alpha: Float = 1, beta: Float = 0
) {
  if M == 0 || N == 0 { return }
  cblas_sgemm(
    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(M), Int32(N), Int32(K), alpha, x, Int32(K), w,
    Int32(K), beta, y, Int32(N))
}

/// y[M,N] = beta*y + alpha * x[M,K] . w[K,N]
@inline(__always)
public func matmulNN(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
  M: Int, N: Int, K: Int, alpha: Float = 1, beta: Float = 0
) {
  if M == 0 || N == 0 { return }
  cblas_sgemm(
    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(M), Int32(N), Int32(K), alpha, x, Int32(K), w,
    Int32(N), beta, y, Int32(N))
}

/// y[M,N] = beta*y + alpha * x[K,M]^T . w[K,N]  (weight gradients: dW = dY^T X).
@inline(__always)
public func matmulTN(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
  M: Int, N: Int, K: Int, alpha: Float = 1, beta: Float = 0
) {
  if M == 0 || N == 0 { return }
  cblas_sgemm(
    CblasRowMajor, CblasTrans, CblasNoTrans, Int32(M), Int32(N), Int32(K), alpha, x, Int32(M), w,
    Int32(N), beta, y, Int32(N))
}

/// General strided sgemm for attention blocks (row-major, explicit leading dimensions).
@inline(__always)
public func sgemm(
  transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float,
  _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
  _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
  if M == 0 || N == 0 { return }
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
    Int32(M), Int32(N), Int32(K), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Naive reference for `matmulNT`, accumulating in Double.
public func matmulNTNaive(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
  M: Int, N: Int, K: Int, alpha: Float = 1, beta: Float = 0
) {
  for m in 0..<M {
    for n in 0..<N {
      var s = 0.0
      for k in 0..<K { s += Double(x[m * K + k]) * Double(w[n * K + k]) }
      y[m * N + n] = Float(Double(beta) * Double(beta == 0 ? 0 : y[m * N + n]) + Double(alpha) * s)
    }
  }
}
