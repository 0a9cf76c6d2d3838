// Ops.swift: the element-wise and row-wise forward ops of the decoder, over raw buffers.
// (The backward of each lives in the Training module.) Rows are independent, so every op takes
// a row count M and a width.
import Foundation

/// out[m, :] = x[m, :] / sqrt(mean(x[m, :]^2) + eps) * w   (x, out: [M, C]; w: [C]; may alias)
@inline(__always)
public func rmsnormForward(
  _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
  M: Int, C: Int, eps: Float
) {
  for m in 0..<M {
    let xr = x + m * C, o = out + m * C
    var ss: Float = 0
    for c in 0..<C { ss += xr[c] * xr[c] }
    let inv = 1 / (ss / Float(C) + eps).squareRoot()
    for c in 0..<C { o[c] = xr[c] * inv * w[c] }
  }
}

/// Cos/sin of every (position, pair) up to a capacity: angle = p * theta^(-2k/n), n = rope dims.
public final class RopeTable: @unchecked Sendable {
  public let dims: Int  // rotated values per head
  public private(set) var capacity: Int
  let theta: Double
  var cos: [Float] = []  // [capacity, dims/2]
  var sin: [Float] = []  // [capacity, dims/2]

  public init(dims: Int, theta: Float, capacity: Int) {
    self.dims = dims
    self.theta = Double(theta)
    self.capacity = 0
    ensure(capacity)
  }

  public func ensure(_ n: Int) {
    if n <= capacity { return }
    let half = dims / 2
    let newCap = max(n, capacity * 2, 64)
    var c = [Float](repeating: 0, count: newCap * half), s = c
    for p in 0..<newCap {
      for k in 0..<half {
        let a = Double(p) * pow(theta, -2 * Double(k) / Double(dims))
        c[p * half + k] = Float(Foundation.cos(a))
        s[p * half + k] = Float(Foundation.sin(a))
      }
    }
    cos = c
    sin = s
    capacity = newCap
  }
}

/// Rotates each head of x [M, heads*D] in place, row m at position pos[m].
/// `.normal` pairs (2k, 2k+1) (llama.cpp NORM, for llama GGUFs whose Q/K rows were permuted);
/// `.neox` pairs (k, k+n/2) as HF's rotate_half.
public func ropeForward(
  _ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, M: Int, heads: Int, D: Int,
  table: RopeTable, style: RopeStyle
) {
  let half = table.dims / 2
  table.cos.withUnsafeBufferPointer { cosb in
    table.sin.withUnsafeBufferPointer { sinb in
      for m in 0..<M {
        let cs = cosb.baseAddress! + Int(positions[m]) * half
        let sn = sinb.baseAddress! + Int(positions[m]) * half
        for h in 0..<heads {
          let v = x + m * heads * D + h * D
          for k in 0..<half {
            let (i, j) = style == .normal ? (2 * k, 2 * k + 1) : (k, k + half)
            let a = v[i], b = v[j]
            v[i] = a * cs[k] - b * sn[k]
            v[j] = a * sn[k] + b * cs[k]
          }
        }
      }
    }
  }
}

/// h[i] = silu(gate[i]) * up[i], silu(x) = x * sigmoid(x).   (all [M*F])
@inline(__always)
public func swigluForward(
  _ h: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int
) {
  for i in 0..<count {
    let g = gate[i]
    h[i] = g / (1 + expf(-g)) * up[i]
  }
}

/// log(sum(exp(x))) in Double, for reporting and scoring.
public func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
  var mx = -Float.infinity
  for i in 0..<n { mx = max(mx, x[i]) }
  var s = 0.0
  for i in 0..<n { s += Foundation.exp(Double(x[i] - mx)) }
  return Double(mx) + Foundation.log(s)
}
