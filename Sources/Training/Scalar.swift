import COpenBLAS
import Foundation
// Scalar.swift: the element type the training ops are generic over.
//
// Training runs in Float (cblas_sgemm). The finite-difference gradient checks run the very same
// op code in Double (cblas_dgemm), so a check measures the calculus, not float32 rounding.
// Invariant: every op in Ops.swift touches numbers only through this protocol, so the Float and
// Double instantiations are the same algorithm.
import LLM
import Tensor

public protocol TrainScalar: BinaryFloatingPoint & Sendable {
  static func exp(_ x: Self) -> Self
  static func log(_ x: Self) -> Self
  static func sqrt(_ x: Self) -> Self
  static func sin(_ x: Self) -> Self
  static func cos(_ x: Self) -> Self
  static func pow(_ x: Self, _ y: Self) -> Self
  /// x[i] = exp(x[i] - shift) for i < n, returning their sum (the softmax numerators).
  static func expShifted(_ x: UnsafeMutablePointer<Self>, count n: Int, shift: Self) -> Self
  /// out[i] = 1 / (1 + exp(-x[i])) (out may alias x).
  static func sigmoid(_ out: UnsafeMutablePointer<Self>, _ x: UnsafePointer<Self>, count n: Int)
  /// Row-major C[M,N] = alpha * op(A) . op(B) + beta * C with explicit leading dimensions.
  static func gemm(
    transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Self,
    _ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int, beta: Self,
    _ c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: TrainScalar {
  @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.expf(x) }
  @inline(__always) public static func log(_ x: Float) -> Float { Foundation.logf(x) }
  @inline(__always) public static func sqrt(_ x: Float) -> Float { x.squareRoot() }
  @inline(__always) public static func sin(_ x: Float) -> Float { Foundation.sinf(x) }
  @inline(__always) public static func cos(_ x: Float) -> Float { Foundation.cosf(x) }
  @inline(__always) public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.powf(x, y) }
  // Vectorised (LLM's FastMath, a few ulp): training's exps are ~1/10 of a long-sequence step.
  @inline(__always) public static func expShifted(_ x: UnsafeMutablePointer<Float>, count n: Int, shift: Float) -> Float
  {
    expShiftedFast(x, n, shift: shift)
  }
  @inline(__always) public static func sigmoid(
    _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int
  ) {
    sigmoidFast(out, x, count: n)
  }
  @inline(__always)
  public static func gemm(
    transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float,
    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
    _ c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    Tensor.sgemm(
      transA: transA, transB: transB, M: M, N: N, K: K, alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
  }
}

extension Double: TrainScalar {
  @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
  @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
  @inline(__always) public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
  @inline(__always) public static func sin(_ x: Double) -> Double { Foundation.sin(x) }
  @inline(__always) public static func cos(_ x: Double) -> Double { Foundation.cos(x) }
  @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
  public static func expShifted(_ x: UnsafeMutablePointer<Double>, count n: Int, shift: Double) -> Double {
    var sum = 0.0
    for i in 0..<n { x[i] = Foundation.exp(x[i] - shift); sum += x[i] }
    return sum
  }
  public static func sigmoid(_ out: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, count n: Int) {
    for i in 0..<n { out[i] = 1 / (1 + Foundation.exp(-x[i])) }
  }
  @inline(__always)
  public static func gemm(
    transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Double,
    _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int, beta: Double,
    _ c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    if M == 0 || N == 0 { return }
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(M), Int32(N), Int32(K), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
}

/// The package's seeded generator (Tensor's SplitMix64): same seed -> same stream.
public typealias TrainRNG = SplitMix64

extension SplitMix64 {
  /// Uniform in [0, 1) with 24 random bits (float32 resolution).
  public mutating func nextUnitFloat() -> Float { nextFloat() }
}

/// An owned, zero-initialised buffer of any scalar; reference type so kernels get stable pointers.
public final class ScalarBuffer<S: TrainScalar>: @unchecked Sendable {
  public let count: Int
  public let pointer: UnsafeMutablePointer<S>
  public init(count: Int) {
    self.count = count
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<S>.stride, alignment: 64)
    pointer = raw.bindMemory(to: S.self, capacity: max(count, 1))
    pointer.initialize(repeating: 0, count: max(count, 1))
  }
  public convenience init(_ values: [S]) {
    self.init(count: values.count)
    for i in 0..<values.count { pointer[i] = values[i] }
  }
  deinit { pointer.deallocate() }
  public subscript(i: Int) -> S {
    get { pointer[i] }
    set { pointer[i] = newValue }
  }
  public func zero() { pointer.update(repeating: 0, count: count) }
  public var array: [S] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
