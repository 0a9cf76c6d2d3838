// BLAS.swift: the matrix products everything shares, over raw Float buffers (row-major).
//
// Shape letters used across the package: B batch (sequences), T time (tokens), C channels
// (embedding width), H query heads, G key/value heads, D head width, F feed-forward width,
// V vocabulary, L layers, R LoRA rank, N generic output width, K generic reduction width.
// Every fast kernel has a naive reference next to it (`*Naive`), tested against it.
import COpenBLAS
import Foundation

/// OpenBLAS facts, recorded in every manifest. OpenBLAS runs one thread: products are split over
/// `ThreadPool.shared` (see ThreadPool.swift), whose size `--threads` sets.
public enum BLAS {
  /// Sets OpenBLAS's own thread count (0 or negative = all cores). Only the machine benchmark uses
  /// this, to measure cblas_sgemm as OpenBLAS threads it; `ThreadPool.configure` sets it back to 1.
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
  sgemm(transA: false, transB: true, M: M, N: N, K: K, alpha: alpha, x, lda: K, w, ldb: K, beta: beta, y, ldc: N)
}

/// y[M,N] = beta*y + alpha * x[M,K] . w[K,N]
@inline(__always)
public func matmulNN(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
  M: Int, N: Int, K: Int, alpha: Float = 1, beta: Float = 0
) {
  sgemm(transA: false, transB: false, M: M, N: N, K: K, alpha: alpha, x, lda: K, w, ldb: N, beta: beta, y, ldc: N)
}

/// y[M,N] = beta*y + alpha * x[K,M]^T . w[K,N]  (weight gradients: dW = dY^T X).
@inline(__always)
public func matmulTN(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
  M: Int, N: Int, K: Int, alpha: Float = 1, beta: Float = 0
) {
  sgemm(transA: true, transB: false, M: M, N: N, K: K, alpha: alpha, x, lda: M, w, ldb: N, beta: beta, y, ldc: N)
}

/// Row-major C[M,N] = beta*C + alpha * op(A) . op(B) with explicit leading dimensions.
/// Products of at least `sgemmSplitWork` multiply-adds are split over `ThreadPool.shared` along
/// the wider of M and N, each part a single-threaded cblas_sgemm. The same call on the same thread
/// count gives the same bits; another thread count may round differently (OpenBLAS picks its
/// kernels by shape), as OpenBLAS's own threading did.
public func sgemm(
  transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float,
  _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
  _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
  if M == 0 || N == 0 { return }
  let pool = ThreadPool.shared
  let threads = pool.threads
  if threads == 1 || M * N * K < sgemmSplitWork || ThreadPool.insideJob {
    sgemmUnsplit(
      transA: transA, transB: transB, M: M, N: N, K: K, alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
    return
  }
  let splitN = N >= M
  pool.run { part in
    if splitN {
      let r = partition(N, parts: threads, index: part, align: 16)
      if r.isEmpty { return }
      let bPart = transB ? b + r.lowerBound * ldb : b + r.lowerBound  // rows or columns of B
      sgemmUnsplit(
        transA: transA, transB: transB, M: M, N: r.count, K: K, alpha: alpha, a, lda: lda, bPart, ldb: ldb,
        beta: beta, c + r.lowerBound, ldc: ldc)
    } else {
      let r = partition(M, parts: threads, index: part, align: 8)
      if r.isEmpty { return }
      let aPart = transA ? a + r.lowerBound : a + r.lowerBound * lda  // columns or rows of A
      sgemmUnsplit(
        transA: transA, transB: transB, M: r.count, N: N, K: K, alpha: alpha, aPart, lda: lda, b, ldb: ldb,
        beta: beta, c + r.lowerBound * ldc, ldc: ldc)
    }
  }
}

/// Multiply-adds below which a product runs on the calling thread (a fork costs ~5 us).
public let sgemmSplitWork = 1 << 18

/// One cblas_sgemm call, threaded as OpenBLAS is set (one thread, unless `BLAS.setThreads`).
@inline(__always)
public func sgemmUnsplit(
  transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float,
  _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
  _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
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

extension BLAS {
  /// Debian's OpenBLAS 0.3.21 does not recognise recent AVX-512 CPUs (Zen 5, Sapphire Rapids) and
  /// runs its Haswell (AVX2) kernels there, or is told to by an inherited OPENBLAS_CORETYPE; its
  /// SkylakeX kernels run the same products about 1.5-2x faster. OpenBLAS reads
  /// OPENBLAS_CORETYPE only when it loads, so an executable calls this first thing and, on an
  /// AVX-512 CPU, re-executes itself once with OPENBLAS_CORETYPE=SkylakeX.
  /// SEB_BLAS_CORE=native keeps OpenBLAS's own choice (and any OPENBLAS_CORETYPE);
  /// SEB_BLAS_CORE=NAME forces kernel family NAME. Returns only when it does not re-execute.
  public static func preferAVX512KernelsByReexec() {
    let env = ProcessInfo.processInfo.environment
    let choice = env["SEB_BLAS_CORE"] ?? "auto"
    if choice == "native" { return }
    var target = choice
    if choice == "auto" {
      guard let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let flags = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
        flags.split(separator: " ").contains("avx512f")
      else { return }
      target = "SkylakeX"
    }
    if env["OPENBLAS_CORETYPE"] == target { return }
    setenv("OPENBLAS_CORETYPE", target, 1)
    var args = CommandLine.arguments.map { strdup($0) }
    args.append(nil)
    execv("/proc/self/exe", &args)
    // execv returns only on failure: carry on with the library's own choice.
  }
}
