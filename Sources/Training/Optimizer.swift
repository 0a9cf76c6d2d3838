// Optimizer.swift: AdamW exactly as torch.optim.AdamW (foreach=False path), the HF learning-rate
// schedules and HF's gradient-norm clipping.
// reference: https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
// Invariant: moments are float32 like the parameters; the step counter starts at 1.
import Foundation

/// Learning-rate schedule over optimizer steps k = 0..<total (HF `get_*_schedule_with_warmup`).
public enum LRSchedule: Sendable, Equatable {
  case constant
  /// Linear decay to 0 at step `total` (HF default, no warm-up): lr * (total - k) / total.
  case linear
  /// Linear warm-up over `warmupSteps` (lr * k / warmup), then linear decay to 0.
  case linearWithWarmup(warmupSteps: Int)
  /// Constant after a linear warm-up.
  case constantWithWarmup(warmupSteps: Int)

  /// Multiplier of the base learning rate at step k (0-based) of `total`.
  public func factor(step k: Int, total: Int) -> Double {
    switch self {
    case .constant: return 1
    case .linear: return max(0, Double(total - k) / Double(max(1, total)))
    case .linearWithWarmup(let w):
      if k < w { return Double(k) / Double(max(1, w)) }
      return max(0, Double(total - k) / Double(max(1, total - w)))
    case .constantWithWarmup(let w): return k < w ? Double(k) / Double(max(1, w)) : 1
    }
  }
}

/// AdamW state for a fixed list of parameter tensors.
public final class AdamW<S: TrainScalar> {
  public var beta1: Double, beta2: Double, eps: Double, weightDecay: Double
  public private(set) var step = 0
  var m: [ScalarBuffer<S>]
  var v: [ScalarBuffer<S>]

  public init(sizes: [Int], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0) {
    self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    m = sizes.map { ScalarBuffer(count: $0) }
    v = sizes.map { ScalarBuffer(count: $0) }
  }

  /// One update of every tensor: p -= lr*wd*p (decoupled), then the bias-corrected Adam step
  /// p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), as torch computes it.
  public func update(_ params: [(p: UnsafeMutablePointer<S>, g: UnsafeMutablePointer<S>, n: Int)], lr: Double) {
    step += 1
    let bc1 = 1 - Foundation.pow(beta1, Double(step)), bc2 = 1 - Foundation.pow(beta2, Double(step))
    let stepSize = S(lr / bc1), bc2Sqrt = S(bc2.squareRoot())
    let b1 = S(beta1), b2 = S(beta2), e = S(eps), decay = S(1 - lr * weightDecay), wd = weightDecay
    let ms = m.map(\.pointer), vs = v.map(\.pointer)
    // Tensors are independent: split over the pool, each updated element by element as torch does.
    parallelFor(params.count, costPerItem: params.isEmpty ? 0 : 8 * params.map(\.n).reduce(0, +) / params.count) {
      tensors in
      for i in tensors {
        let t = params[i], mp = ms[i], vp = vs[i]
        for j in 0..<t.n {
          let g = t.g[j]
          if wd != 0 { t.p[j] *= decay }
          mp[j] = b1 * mp[j] + (1 - b1) * g
          vp[j] = b2 * vp[j] + (1 - b2) * g * g
          let denom = S.sqrt(vp[j]) / bc2Sqrt + e
          t.p[j] -= stepSize * mp[j] / denom
        }
      }
    }
  }
}

/// Global L2 norm of all gradients (accumulated in Double): each tensor's sum of squares in
/// parallel, then the tensors' sums in order, so the result does not depend on the thread count.
public func gradientNorm<S: TrainScalar>(
  _ params: [(p: UnsafeMutablePointer<S>, g: UnsafeMutablePointer<S>, n: Int)]
) -> Double {
  let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(1, params.count))  // [tensors]
  defer { partial.deallocate() }
  parallelFor(params.count, costPerItem: params.isEmpty ? 0 : 2 * params.map(\.n).reduce(0, +) / params.count) {
    tensors in
    for i in tensors {
      let t = params[i]
      var ss = 0.0
      for j in 0..<t.n { let g = Double(t.g[j]); ss += g * g }
      partial[i] = ss
    }
  }
  var ss = 0.0
  for i in 0..<params.count { ss += partial[i] }
  return ss.squareRoot()
}

/// torch.nn.utils.clip_grad_norm_ as the HF Trainer calls it: scale by max/(norm + 1e-6) when
/// that is < 1. Returns the norm before clipping.
@discardableResult
public func clipGradientNorm<S: TrainScalar>(
  _ params: [(p: UnsafeMutablePointer<S>, g: UnsafeMutablePointer<S>, n: Int)], maxNorm: Double
) -> Double {
  let norm = gradientNorm(params)
  let coef = maxNorm / (norm + 1e-6)
  if coef < 1 {
    let c = S(coef)
    parallelFor(params.count, costPerItem: params.isEmpty ? 0 : params.map(\.n).reduce(0, +) / params.count) {
      tensors in
      for i in tensors { let t = params[i]; for j in 0..<t.n { t.g[j] *= c } }
    }
  }
  return norm
}
