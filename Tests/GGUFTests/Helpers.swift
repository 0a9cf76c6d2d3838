// Helpers.swift: test-only builders for GGUF bytes and blocks.
//
// `RawGGUF` writes fields one by one with no validation, so tests can build files the writer would
// refuse (bad counts, types, names); it is also an encoder independent of GGUFWriter.
// The K-quant packers encode per-element quantized values by the layout description in
// model-facts.md 2.4, independently of the dequantizer's loops.
import Foundation
import GGUF

struct RawGGUF {
  var bytes: [UInt8] = []

  mutating func u8(_ v: UInt8) { bytes.append(v) }
  mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func str(_ s: String) { strBytes(Array(s.utf8)) }
  mutating func strBytes(_ b: [UInt8]) { u64(UInt64(b.count)); bytes += b }

  /// magic, version, tensor count, kv count.
  mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
    bytes += Array("GGUF".utf8)
    u32(version)
    u64(tensors)
    u64(kvs)
  }

  mutating func kvU32(_ key: String, _ v: UInt32) { str(key); u32(4); u32(v) }
  mutating func kvString(_ key: String, _ v: String) { str(key); u32(8); str(v) }

  mutating func tensorInfo(_ name: String, dims: [Int64], type: UInt32, offset: UInt64) {
    str(name)
    u32(UInt32(dims.count))
    for d in dims { i64(d) }
    u32(type)
    u64(offset)
  }

  mutating func pad(to alignment: Int) {
    while bytes.count % alignment != 0 { bytes.append(0) }
  }
}

/// Parses `bytes` as "bad.gguf" and returns the GGUFError thrown (nil if it parsed).
func parseError(_ bytes: [UInt8]) -> GGUFError? {
  do {
    _ = try GGUFFile(bytes: bytes, name: "bad.gguf")
    return nil
  } catch let e as GGUFError {
    return e
  } catch {
    return nil
  }
}

/// The enum case name of an error ("truncated", "badMagic"), to assert the case without
/// depending on offsets inside its payload.
func caseName(_ e: GGUFError?) -> String? {
  guard let e else { return nil }
  return Mirror(reflecting: e).children.first?.label ?? "\(e)"
}

func errorCase(_ body: () throws -> Void) -> String? {
  do {
    try body()
    return nil
  } catch let e as GGUFError {
    return caseName(e)
  } catch {
    return "non-GGUFError \(error)"
  }
}

/// First index of `pattern` in `bytes`.
func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
  guard pattern.count <= bytes.count else { return nil }
  var i = start
  while i + pattern.count <= bytes.count {
    if Array(bytes[i..<(i + pattern.count)]) == pattern { return i }
    i += 1
  }
  return nil
}

func find(_ s: String, in bytes: [UInt8]) -> Int? { find(Array(s.utf8), in: bytes) }

func putU32(_ bytes: inout [UInt8], at o: Int, _ v: UInt32) {
  for s in 0..<4 { bytes[o + s] = UInt8(truncatingIfNeeded: v >> UInt32(8 * s)) }
}

func putU64(_ bytes: inout [UInt8], at o: Int, _ v: UInt64) {
  for s in 0..<8 { bytes[o + s] = UInt8(truncatingIfNeeded: v >> UInt64(8 * s)) }
}

func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

/// Deterministic test RNG (SplitMix64).
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
  /// Uniform in [lo, hi).
  mutating func float(_ lo: Float, _ hi: Float) -> Float {
    lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
  }
  mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// |a - b| <= abs + rel * |b|, elementwise.
func close(_ a: [Float], _ b: [Float], abs: Float = 1e-6, rel: Float = 1e-6) -> Bool {
  guard a.count == b.count else { return false }
  for i in 0..<a.count where !(Swift.abs(a[i] - b[i]) <= abs + rel * Swift.abs(b[i])) { return false }
  return true
}

/// One Q4_K block from per-element 4-bit values q[256], 6-bit scales/mins per 32-element
/// sub-block, following the layout text: element e sits in sub-block e/32; chunk c = e/64 uses
/// qs[32c ..< 32c+32], low nibble for the first 32 elements of the chunk, high for the next 32.
func packQ4K(d: UInt16, dmin: UInt16, scales sc: [UInt8], mins m: [UInt8], q: [UInt8]) -> [UInt8] {
  var packed = [UInt8](repeating: 0, count: 12)
  for j in 0..<4 {
    packed[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6)
    packed[j + 4] = (m[j] & 63) | ((m[j + 4] >> 4) << 6)
    packed[j + 8] = (sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4)
  }
  var qs = [UInt8](repeating: 0, count: 128)
  for e in 0..<256 {
    let c = e / 64, r = e % 64
    if r < 32 { qs[32 * c + r] |= q[e] & 0xF } else { qs[32 * c + r - 32] |= (q[e] & 0xF) << 4 }
  }
  return le16(d) + le16(dmin) + packed + qs
}

/// One Q6_K block from per-element 6-bit values q[256] and int8 scales per 16 elements.
func packQ6K(d: UInt16, scales: [Int8], q: [UInt8]) -> [UInt8] {
  var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
  for h in 0..<2 {
    for l in 0..<32 {
      let e0 = 128 * h + l, e1 = e0 + 32, e2 = e0 + 64, e3 = e0 + 96
      ql[64 * h + l] = (q[e0] & 0xF) | ((q[e2] & 0xF) << 4)
      ql[64 * h + l + 32] = (q[e1] & 0xF) | ((q[e3] & 0xF) << 4)
      qh[32 * h + l] = (q[e0] >> 4) | ((q[e1] >> 4) << 2) | ((q[e2] >> 4) << 4) | ((q[e3] >> 4) << 6)
    }
  }
  return ql + qh + scales.map { UInt8(bitPattern: $0) } + le16(d)
}

/// A valid small file: a few metadata types, an F32 and a Q8_0 tensor.
func tinyWriter() throws -> GGUFWriter {
  var w = try GGUFWriter()
  try w.add("general.architecture", "llama")
  try w.add("llama.block_count", .uint32(2))
  try w.add("general.flag", true)
  try w.add("tokenizer.ggml.tokens", ["a", "b", "c"])
  try w.addTensor("norm.weight", dims: [8], values: (0..<8).map { Float($0) })
  try w.addTensor("emb.weight", dims: [32, 2], values: (0..<64).map { Float($0 - 32) / 8 }, type: .q8_0)
  return w
}
