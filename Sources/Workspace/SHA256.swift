// SHA256.swift: FIPS 180-4 SHA-256, streaming, no dependencies (the project avoids swift-crypto).
// The package's one SHA-256: model installs, data-file hashes in run manifests and split manifests.
//
// Invariants: `buffer` holds fewer than 64 pending bytes between calls; `length` counts every byte
// fed so far (the padding encodes it in bits, big-endian). `finalize()` consumes the hasher.
import Foundation

public struct SHA256: Sendable {
  private static let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
    0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
    0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
    0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
    0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
    0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
    0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
    0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
    0xc671_78f2,
  ]

  private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab,
    0x5be0_cd19
  )
  private var buffer: [UInt8] = []  // [<64] pending bytes of an incomplete block
  private var length: UInt64 = 0

  public init() { buffer.reserveCapacity(64) }

  public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    let done: Void? = bytes.withContiguousStorageIfAvailable {
      update(UnsafeRawBufferPointer($0))
    }
    if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
  }

  public mutating func update(_ data: Data) {
    data.withUnsafeBytes { update($0) }
  }

  public mutating func update(_ raw: UnsafeRawBufferPointer) {
    guard raw.count > 0, let base = raw.baseAddress else { return }
    length &+= UInt64(raw.count)
    var offset = 0
    if !buffer.isEmpty {
      let take = min(64 - buffer.count, raw.count)
      buffer.append(contentsOf: UnsafeRawBufferPointer(start: base, count: take))
      offset = take
      if buffer.count == 64 {
        let block = buffer
        block.withUnsafeBytes { compress($0.baseAddress!) }
        buffer.removeAll(keepingCapacity: true)
      }
    }
    while raw.count - offset >= 64 {
      compress(base + offset)
      offset += 64
    }
    if offset < raw.count {
      buffer.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: raw.count - offset))
    }
  }

  /// The 32-byte digest. Padding: 0x80, zeros to 56 mod 64, then the bit length big-endian.
  public mutating func finalize() -> [UInt8] {
    let bitLength = length &* 8
    var tail: [UInt8] = [0x80]
    let padZeros = (55 &- buffer.count + 64) % 64
    tail.append(contentsOf: [UInt8](repeating: 0, count: padZeros))
    for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
    let savedLength = length
    tail.withUnsafeBytes { update($0) }
    length = savedLength
    var out: [UInt8] = []
    out.reserveCapacity(32)
    for word in [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7] {
      out.append(UInt8(truncatingIfNeeded: word >> 24))
      out.append(UInt8(truncatingIfNeeded: word >> 16))
      out.append(UInt8(truncatingIfNeeded: word >> 8))
      out.append(UInt8(truncatingIfNeeded: word))
    }
    return out
  }

  /// Lower-case hex of the digest.
  public mutating func finalizeHex() -> String { SHA256.hex(finalize()) }

  public static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var s: [UInt8] = []
    s.reserveCapacity(bytes.count * 2)
    for b in bytes {
      s.append(digits[Int(b >> 4)])
      s.append(digits[Int(b & 15)])
    }
    return String(decoding: s, as: UTF8.self)
  }

  /// One-shot digest of a byte buffer as lower-case hex.
  public static func hex(_ data: Data) -> String { hash(data) }

  /// One-shot digest as lower-case hex.
  public static func hash<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var s = SHA256()
    s.update(bytes)
    return s.finalizeHex()
  }

  /// Streams a file through the hasher in 1 MiB chunks; returns (hex digest, byte count).
  public static func hashFile(at url: URL) throws -> (digest: String, size: Int64) {
    guard let handle = FileHandle(forReadingAtPath: url.path) else {
      throw WorkspaceError.io(path: url.path, message: "cannot open for reading")
    }
    defer { try? handle.close() }
    var hasher = SHA256()
    var size: Int64 = 0
    while true {
      let chunk: Data
      do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
        throw WorkspaceError.io(path: url.path, message: "read failed: \(error.localizedDescription)")
      }
      if chunk.isEmpty { break }
      size += Int64(chunk.count)
      hasher.update(chunk)
    }
    return (hasher.finalizeHex(), size)
  }

  @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x >> n) | (x << (32 &- n))
  }

  /// One 64-byte block, big-endian words. The message schedule lives on the stack.
  private mutating func compress(_ p: UnsafeRawPointer) {
    h = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in  // w: [64] schedule
      for i in 0..<16 {
        let b = p + i * 4
        w[i] =
          UInt32(b.load(as: UInt8.self)) << 24
          | UInt32(b.load(fromByteOffset: 1, as: UInt8.self)) << 16
          | UInt32(b.load(fromByteOffset: 2, as: UInt8.self)) << 8
          | UInt32(b.load(fromByteOffset: 3, as: UInt8.self))
      }
      for i in 16..<64 {
        let s0 = SHA256.rotr(w[i - 15], 7) ^ SHA256.rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
        let s1 = SHA256.rotr(w[i - 2], 17) ^ SHA256.rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
        w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
      }
      var (a, b, c, d, e, f, g, hh) = h
      SHA256.k.withUnsafeBufferPointer { k in
        for i in 0..<64 {
          let S1 = SHA256.rotr(e, 6) ^ SHA256.rotr(e, 11) ^ SHA256.rotr(e, 25)
          let ch = (e & f) ^ (~e & g)
          let t1 = hh &+ S1 &+ ch &+ k[i] &+ w[i]
          let S0 = SHA256.rotr(a, 2) ^ SHA256.rotr(a, 13) ^ SHA256.rotr(a, 22)
          let maj = (a & b) ^ (a & c) ^ (b & c)
          let t2 = S0 &+ maj
          hh = g
          g = f
          f = e
          e = d &+ t1
          d = c
          c = b
          b = a
          a = t1 &+ t2
        }
      }
      return (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
    }
  }
}
