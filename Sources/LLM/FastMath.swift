// FastMath.swift: vectorised exp for softmax and SiLU. Swift has no vector exp and its SIMD
// element-type conversions compile to generic calls, so the float->int steps use the 1.5*2^23
// rounding trick with same-width bit casts. Accuracy: a few ulp over [-87, 88] (tested against
// Foundation.exp), which is far below the 2e-3 logit tolerance.

import Foundation
import _Builtin_intrinsics.intel

/// Lane-wise max/min through AVX intrinsics: the generic `pointwiseMax`/`clamped` are not inlined.
@inline(__always)
func vmax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
  _mm256_max_ps(a, b)  // __m256 is SIMD8<Float> in Swift
}

@inline(__always)
func vmin(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
  _mm256_min_ps(a, b)
}

@inline(__always)
func expSIMD(_ xIn: SIMD8<Float>) -> SIMD8<Float> {
  let x = vmin(vmax(xIn, SIMD8(repeating: -87.3)), SIMD8(repeating: 88.3))
  // n = round(x / ln 2) via the rounding constant: t's low mantissa bits hold n.
  let magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5 * 2^23
  let t = x * 1.442_695_04 + magic
  let n = t - magic
  // r = x - n ln2 (Cody-Waite, two parts), |r| <= ln2 / 2
  var r = x.addingProduct(n, SIMD8(repeating: -0.693_359_375))
  r = r.addingProduct(n, SIMD8(repeating: 2.121_944_4e-4))
  // exp(r) by a degree-6 polynomial (Cephes expf coefficients)
  var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
  p = p * r + 1.398_199_950_7e-3
  p = p * r + 8.333_451_907_3e-3
  p = p * r + 4.166_579_589_4e-2
  p = p * r + 1.666_666_545_9e-1
  p = p * r + 5.000_000_120_1e-1
  let r2 = r * r
  let e = p * r2 + r + 1
  // 2^n from n's integer bits: (n + 127) << 23
  let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
  let pow2 = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
  return e * pow2
}

/// In-place softmax of x[0..<n] (vectorised); returns the logsumexp.
@discardableResult
public func softmaxFast(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
  var mx = -Float.infinity
  var i = 0
  var mv = SIMD8<Float>(repeating: -.infinity)
  while i + 8 <= n {
    mv = vmax(mv, load8(UnsafePointer(x + i)))
    i += 8
  }
  mx = Swift.max(
    Swift.max(Swift.max(mv[0], mv[1]), Swift.max(mv[2], mv[3])),
    Swift.max(Swift.max(mv[4], mv[5]), Swift.max(mv[6], mv[7])))
  while i < n {
    mx = max(mx, x[i])
    i += 1
  }
  let s = expShiftedFast(x, n, shift: mx)
  let inv = 1 / s
  i = 0
  while i + 8 <= n {
    UnsafeMutableRawPointer(x + i).storeBytes(of: load8(UnsafePointer(x + i)) * inv, as: SIMD8<Float>.self)
    i += 8
  }
  while i < n {
    x[i] *= inv
    i += 1
  }
  return mx + logf(s)
}

/// h[i] = silu(gate[i]) * up[i], vectorised.
public func swigluFast(
  _ h: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int
) {
  var i = 0
  while i + 8 <= count {
    let g = load8(gate + i)
    let v = g / (1 + expSIMD(-g)) * load8(up + i)
    UnsafeMutableRawPointer(h + i).storeBytes(of: v, as: SIMD8<Float>.self)
    i += 8
  }
  while i < count {
    let g = gate[i]
    h[i] = g / (1 + expf(-g)) * up[i]
    i += 1
  }
}

/// x[i] = exp(x[i] - shift) in place, vectorised; returns the sum of the new values.
@discardableResult
public func expShiftedFast(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
  var sv = SIMD8<Float>()
  let m8 = SIMD8<Float>(repeating: shift)
  var i = 0
  while i + 8 <= n {
    let e = expSIMD(load8(UnsafePointer(x + i)) - m8)
    UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: SIMD8<Float>.self)
    sv += e
    i += 8
  }
  var s = sv.sum()
  while i < n {
    let e = expf(x[i] - shift)
    x[i] = e
    s += e
    i += 1
  }
  return s
}

/// out[i] = 1 / (1 + exp(-x[i])), vectorised (out may alias x).
public func sigmoidFast(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
  var i = 0
  while i + 8 <= count {
    let v = 1 / (1 + expSIMD(-load8(x + i)))
    UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: SIMD8<Float>.self)
    i += 8
  }
  while i < count {
    out[i] = 1 / (1 + expf(-x[i]))
    i += 1
  }
}
