// Random.swift: the package's one seeded generator. Every random choice (weights of test models,
// sampling, dropout, shuffles, bootstrap resamples) takes a SplitMix64 derived from the run's seed;
// global randomness is never used, so the same seed gives the same bytes.

/// SplitMix64 (Steele, Lea, Flood 2014).
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public private(set) var state: UInt64
  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }
  /// Uniform in [0, 1) with 24 random bits.
  public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }
  /// Uniform in [-1, 1) with 24 random bits.
  public mutating func nextSigned() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

  /// Uniform integer in 0..<n without modulo bias (Lemire's multiply-shift with rejection).
  public mutating func below(_ n: Int) -> Int {
    precondition(n > 0, "below(0) is a programming error")
    let bound = UInt64(n)
    var m = next().multipliedFullWidth(by: bound)
    if m.low < bound {
      let threshold = (0 &- bound) % bound
      while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
    }
    return Int(m.high)
  }
}
