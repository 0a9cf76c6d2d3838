// The scalar softmax: the reference the vectorised `softmaxFast` (LLM) is tested against, and the
// attention softmax of the embedding model (Embedding), one op under one name for both.
import Foundation

/// In-place softmax of x[0..<n]; returns log(sum(exp(x))) (the logsumexp).
@discardableResult @inline(__always)
public func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
  var mx = -Float.infinity
  for i in 0..<n { mx = max(mx, x[i]) }
  var s: Float = 0
  for i in 0..<n {
    let e = expf(x[i] - mx)
    x[i] = e
    s += e
  }
  let inv = 1 / s
  for i in 0..<n { x[i] *= inv }
  return mx + logf(s)
}
