// PythonRandom.swift: CPython's `random` for the one thing both reference pipelines use it for,
// `random.seed(42); random.shuffle(list)` (reference-pipeline 1.3). MT19937 seeded through
// `init_by_array([seed])` (CPython hashes an int seed to its 32-bit words, so 42 -> [42]),
// `getrandbits(k) = genrand_uint32() >> (32 - k)`, `_randbelow` by rejection, Fisher-Yates from
// the end. Only for reproducing those selections: the suite's own randomness is SplitMix64.

public struct PythonRandom {
  private var mt = [UInt32](repeating: 0, count: 624)  // (624) state words
  private var index = 625

  /// `random.seed(seed)` for a non-negative integer seed.
  public init(seed: UInt64) {
    var key: [UInt32] = []
    var s = seed
    repeat { key.append(UInt32(truncatingIfNeeded: s)); s >>= 32 } while s > 0
    initByArray(key)
  }

  private mutating func initGenrand(_ s: UInt32) {
    mt[0] = s
    for i in 1..<624 {
      mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i)
    }
    index = 624
  }

  private mutating func initByArray(_ key: [UInt32]) {
    initGenrand(19_650_218)
    var i = 1, j = 0
    for _ in 0..<max(624, key.count) {
      mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
      i += 1; j += 1
      if i >= 624 { mt[0] = mt[623]; i = 1 }
      if j >= key.count { j = 0 }
    }
    for _ in 0..<623 {
      mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
      i += 1
      if i >= 624 { mt[0] = mt[623]; i = 1 }
    }
    mt[0] = 0x8000_0000
  }

  public mutating func genrandUInt32() -> UInt32 {
    if index >= 624 {
      for k in 0..<624 {
        let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % 624] & 0x7fff_ffff)
        mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
      }
      index = 0
    }
    var y = mt[index]
    index += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9d2c_5680
    y ^= (y << 15) & 0xefc6_0000
    y ^= y >> 18
    return y
  }

  /// `getrandbits(k)` for 1 <= k <= 32.
  public mutating func getrandbits(_ k: Int) -> UInt32 {
    precondition(k >= 1 && k <= 32)
    return genrandUInt32() >> UInt32(32 - k)
  }

  /// `_randbelow(n)` for 1 <= n < 2^32.
  public mutating func randbelow(_ n: Int) -> Int {
    let k = Int.bitWidth - n.leadingZeroBitCount  // n.bit_length()
    var r = Int(getrandbits(k))
    while r >= n { r = Int(getrandbits(k)) }
    return r
  }

  /// `random.shuffle(x)` in place.
  public mutating func shuffle<T>(_ x: inout [T]) {
    guard x.count > 1 else { return }
    for i in (1..<x.count).reversed() {
      let j = randbelow(i + 1)
      x.swapAt(i, j)
    }
  }

  /// The indices 0..<n in the order `random.seed(seed); random.shuffle(list(range(n)))` leaves them.
  public static func shuffledIndices(count n: Int, seed: UInt64 = 42) -> [Int] {
    var r = PythonRandom(seed: seed)
    var idx = Array(0..<n)
    r.shuffle(&idx)
    return idx
  }
}
