// DequantizeTests.swift: block layouts, half floats, and each dequantizer against blocks written
// byte by byte with expected values from the format's formulas (model-facts.md 2.4).
import Foundation
import GGUF
import Testing

@Suite("Layouts and half floats")
struct LayoutTests {
  @Test("block structs have ggml's byte sizes and field offsets")
  func layoutMatchesGGML() {
    for c in GGUFLayout.checks { #expect(c.ok, "\(c.what): \(c.actual ?? -1) != \(c.expected)") }
    #expect(GGUFType.q4_1.bytesPerBlock == 20 && GGUFType.q8_0.bytesPerBlock == 34)
    #expect(GGUFType.q4_K.bytesPerBlock == 144 && GGUFType.q6_K.bytesPerBlock == 210)
    #expect(GGUFType.q5_0.bytesPerBlock == 22 && GGUFType.q5_1.bytesPerBlock == 24 && GGUFType.q4_0.bytesPerBlock == 18)
    #expect(GGUFType.q4_K.blockSize == 256 && GGUFType.q8_0.blockSize == 32 && GGUFType.bf16.blockSize == 1)
  }

  @Test("type ids and names follow ggml_type")
  func typeIds() {
    #expect(GGUFType(rawValue: 0) == .f32 && GGUFType(rawValue: 1) == .f16 && GGUFType(rawValue: 2) == .q4_0)
    #expect(GGUFType(rawValue: 3) == .q4_1 && GGUFType(rawValue: 6) == .q5_0 && GGUFType(rawValue: 7) == .q5_1)
    #expect(GGUFType(rawValue: 8) == .q8_0 && GGUFType(rawValue: 9) == .q8_1 && GGUFType(rawValue: 12) == .q4_K)
    #expect(GGUFType(rawValue: 14) == .q6_K && GGUFType(rawValue: 30) == .bf16)
    #expect(GGUFType(rawValue: 4) == nil && GGUFType(rawValue: 5) == nil && GGUFType(rawValue: 16) == nil)
    #expect(GGUFType.q4_K.name == "Q4_K" && GGUFType.bf16.name == "BF16")
    #expect(!GGUFType.q8_1.canDequantize && !GGUFType.q5_K.canDequantize && GGUFType.q6_K.canDequantize)
    #expect(GGUFType.q4_0.byteCount(elements: 64) == 36 && GGUFType.q4_0.byteCount(elements: 48) == nil)
  }

  @Test("half to float is exact for normals, subnormals, zeros, infinities and NaN")
  func halfDecoding() {
    #expect(halfToFloat(0x3C00) == 1)
    #expect(halfToFloat(0xC000) == -2)
    #expect(halfToFloat(0x3555) == 0.333251953125)  // 1365/4096
    #expect(halfToFloat(0x7BFF) == 65504)  // largest finite
    #expect(halfToFloat(0x0400) == 0x1p-14)  // smallest normal
    #expect(halfToFloat(0x0001) == 0x1p-24)  // smallest subnormal
    #expect(halfToFloat(0x03FF) == Float(1023) * 0x1p-24)  // largest subnormal
    #expect(halfToFloat(0x8001) == -0x1p-24)
    #expect(halfToFloat(0x0000) == 0 && halfToFloat(0x8000).sign == .minus && halfToFloat(0x8000) == 0)
    #expect(halfToFloat(0x7C00) == .infinity && halfToFloat(0xFC00) == -.infinity)
    #expect(halfToFloat(0x7E00).isNaN && halfToFloat(0xFC01).isNaN)
  }

  @Test("float to half rounds to nearest even and overflows to infinity")
  func halfEncoding() {
    #expect(floatToHalf(1) == 0x3C00 && floatToHalf(-2) == 0xC000)
    #expect(floatToHalf(0x1p-24) == 0x0001)
    #expect(floatToHalf(0x1p-25) == 0x0000)  // exactly half the smallest subnormal: ties to even (0)
    #expect(floatToHalf(0x1.8p-24) == 0x0002)  // 1.5 ulp: ties to even (2)
    #expect(floatToHalf(1 + 0x1p-11) == 0x3C00)  // tie between 0x3C00 and 0x3C01 -> even
    #expect(floatToHalf(1 + 0x1.8p-10) == 0x3C02)  // tie between 0x3C01 and 0x3C02 -> even
    #expect(floatToHalf(65520) == 0x7C00 && floatToHalf(-1e6) == 0xFC00)
    #expect(floatToHalf(.infinity) == 0x7C00)
    for bits in stride(from: 0, to: 0x7C00, by: 97) {  // finite halves survive a round trip
      #expect(floatToHalf(halfToFloat(UInt16(bits))) == UInt16(bits))
    }
  }

  @Test("bfloat16 conversions keep the top half and round to nearest even")
  func bfloat16() {
    #expect(bfloat16ToFloat(0x3F80) == 1 && bfloat16ToFloat(0xC040) == -3)
    #expect(bfloat16ToFloat(0x7F80) == .infinity && bfloat16ToFloat(0x0001) == Float(bitPattern: 0x10000))
    #expect(floatToBFloat16(1 + 0x1p-8) == 0x3F80)  // tie -> even
    #expect(floatToBFloat16(1 + 0x1.8p-7) == 0x3F82)  // tie -> even (up)
    #expect(floatToBFloat16(Float(bitPattern: 0x3F80_8001)) == 0x3F81)  // above the tie -> up
    #expect(bfloat16ToFloat(floatToBFloat16(.nan)).isNaN)
  }
}

@Suite("Dequantization, block by block")
struct DequantizeTests {
  func deq(_ bytes: [UInt8], _ type: GGUFType, _ n: Int) throws -> [Float] {
    try dequantize(bytes, type: type, count: n)
  }

  /// Runs the reference kernel on the same bytes.
  func ref(_ bytes: [UInt8], _ type: GGUFType, _ n: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: n)
    bytes.withUnsafeBytes { s in
      out.withUnsafeMutableBufferPointer { dequantizeRowReference(type, s.baseAddress!, $0.baseAddress!, count: n) }
    }
    return out
  }

  @Test("F32, F16 and BF16 rows decode element by element")
  func plainTypes() throws {
    let f32: [Float] = [1.5, -2, 0, .infinity]
    let f32Bytes = f32.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    #expect(try deq(f32Bytes, .f32, 4) == f32)
    let f16Bytes = le16(0x3C00) + le16(0xB800) + le16(0x0001) + le16(0xFC00)  // 1, -0.5, 2^-24, -inf
    #expect(try deq(f16Bytes, .f16, 4) == [1, -0.5, 0x1p-24, -.infinity])
    let bfBytes = le16(0x3F80) + le16(0x4049) + le16(0x8000)  // 1, 3.140625, -0
    #expect(try deq(bfBytes, .bf16, 3) == [1, 3.140625, 0])
    for t in [GGUFType.f32, .f16, .bf16] {
      let b = t == .f32 ? f32Bytes : (t == .f16 ? f16Bytes : bfBytes)
      let n = b.count / t.bytesPerBlock
      #expect(try deq(b, t, n) == ref(b, t, n))
    }
  }

  @Test("Q8_0 block: y[j] = qs[j] * d")
  func q8_0() throws {
    // d = 0.5 (0x3800), qs[j] = j - 16
    let block = le16(0x3800) + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
    let y = try deq(block, .q8_0, 32)
    #expect(y[0] == -8 && y[16] == 0 && y[31] == 7.5)
    #expect(y == (0..<32).map { Float($0 - 16) * 0.5 })
    #expect(ref(block, .q8_0, 32) == y)
  }

  @Test("Q4_0 block: low nibbles are elements 0..15, high nibbles 16..31, value (q - 8) * d")
  func q4_0() throws {
    // d = 2 (0x4000); qs[j] = j | (15 - j) << 4
    let block = le16(0x4000) + (0..<16).map { UInt8($0 | ((15 - $0) << 4)) }
    let y = try deq(block, .q4_0, 32)
    #expect(y[0] == -16 && y[8] == 0 && y[15] == 14)  // (0-8)*2, (8-8)*2, (15-8)*2
    #expect(y[16] == 14 && y[31] == -16)  // (15-8)*2, (0-8)*2
    let lo: [Float] = (0..<16).map { Float($0 - 8) * 2 }, hi: [Float] = (0..<16).map { Float(7 - $0) * 2 }
    #expect(y == lo + hi)
    #expect(ref(block, .q4_0, 32) == y)
  }

  @Test("Q4_1 block: value q * d + m, not interleaved")
  func q4_1() throws {
    // d = 0.25 (0x3400), m = -1 (0xBC00); low nibble j, high nibble (3j) % 16
    let block = le16(0x3400) + le16(0xBC00) + (0..<16).map { UInt8($0 | (((3 * $0) % 16) << 4)) }
    let y = try deq(block, .q4_1, 32)
    #expect(y[0] == -1 && y[1] == -0.75 && y[15] == 2.75)
    #expect(y[16] == -1 && y[17] == -0.25 && y[21] == 2.75)  // q = 0, 3, 15
    let lo: [Float] = (0..<16).map { Float($0) * 0.25 - 1 }
    let hi: [Float] = (0..<16).map { Float((3 * $0) % 16) * 0.25 - 1 }
    #expect(y == lo + hi)
    #expect(ref(block, .q4_1, 32) == y)
  }

  /// qh = 0xAAAA5555: element j < 16 has bit 4 set when j is even; element 16 + j when j is odd.
  let qh: [UInt8] = [0x55, 0x55, 0xAA, 0xAA]
  let nibbles: [UInt8] = (0..<16).map { UInt8($0 | ((15 - $0) << 4)) }
  func q5Values() -> [Int] {
    (0..<16).map { $0 | ($0 % 2 == 0 ? 16 : 0) } + (0..<16).map { (15 - $0) | ($0 % 2 == 1 ? 16 : 0) }
  }

  @Test("Q5_0 block: bit 4 of each value comes from qh, value (q5 - 16) * d")
  func q5_0() throws {
    let block = le16(0x3C00) + qh + nibbles  // d = 1
    let y = try deq(block, .q5_0, 32)
    #expect(y[0] == 0 && y[1] == -15 && y[2] == 2)  // (0|16)-16, 1-16, (2|16)-16
    #expect(y[16] == -1 && y[17] == 14)  // 15-16, (14|16)-16
    #expect(y == q5Values().map { Float($0 - 16) })
    #expect(ref(block, .q5_0, 32) == y)
  }

  @Test("Q5_1 block: value q5 * d + m")
  func q5_1() throws {
    let block = le16(0x3800) + le16(0x4000) + qh + nibbles  // d = 0.5, m = 2
    let y = try deq(block, .q5_1, 32)
    #expect(y[0] == 10 && y[1] == 2.5 && y[17] == 17)  // 16*0.5+2, 1*0.5+2, 30*0.5+2
    #expect(y == q5Values().map { Float($0) * 0.5 + 2 })
    #expect(ref(block, .q5_1, 32) == y)
  }

  @Test("Q4_K block: 8 sub-blocks with packed 6-bit scales and mins")
  func q4_K() throws {
    // Scales and mins above 15 exercise the high bits packed into bytes 0..7.
    let sc: [UInt8] = [1, 2, 3, 40, 5, 17, 33, 63]
    let mn: [UInt8] = [0, 1, 2, 3, 20, 4, 63, 9]
    let q: [UInt8] = (0..<256).map { UInt8(($0 * 7 + $0 / 32) % 16) }
    let block = packQ4K(d: 0x3C00, dmin: 0x3800, scales: sc, mins: mn, q: q)  // d = 1, dmin = 0.5
    #expect(block.count == 144)
    // The packed bytes, worked out by hand: 0..3 = sc[0..3] | (sc[4..7] >> 4) << 6; 4..7 the same
    // for mins; 8..11 = (sc[4..7] & 15) | (min[4..7] & 15) << 4.
    let packed: [UInt8] = [1, 2 | 64, 3 | 128, 40 | 192, 0 | 64, 1, 2 | 192, 3, 5 | 64, 1 | 64, 1 | 240, 15 | 144]
    #expect(Array(block[4..<16]) == packed)
    block.withUnsafeBytes { p in
      let s = (p.baseAddress! + 4).assumingMemoryBound(to: UInt8.self)
      for j in 0..<8 { #expect(scaleMinK4(j, s) == (sc[j], mn[j])) }
    }
    let y = try deq(block, .q4_K, 256)
    let expected = (0..<256).map { e in Float(sc[e / 32]) * Float(q[e]) - 0.5 * Float(mn[e / 32]) }
    #expect(y == expected)
    #expect(y[0] == 0 && y[32] == 2 * Float(q[32]) - 0.5)  // sub-block 1: sc 2, min 1
    #expect(y[255] == 63 * Float(q[255]) - 4.5)  // sub-block 7: sc 63, min 9
    #expect(ref(block, .q4_K, 256) == y)
  }

  @Test("Q6_K block: 4 low bits in ql, 2 high bits in qh, scale per 16 elements, value d*sc*(q6-32)")
  func q6_K() throws {
    let scales: [Int8] = [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 127, -128]
    let q: [UInt8] = (0..<256).map { UInt8(($0 * 5 + 3) % 64) }
    let block = packQ6K(d: 0x3400, scales: scales, q: q)  // d = 0.25
    #expect(block.count == 210)
    let y = try deq(block, .q6_K, 256)
    let expected = (0..<256).map { e in 0.25 * Float(scales[e / 16]) * Float(Int(q[e]) - 32) }
    #expect(y == expected)
    #expect(y[0] == 0.25 * 1 * Float(3 - 32))  // q = 3
    #expect(y[16] == 0.25 * -2 * Float(83 % 64 - 32))  // q = 19
    #expect(y[255] == 0.25 * -128 * Float((255 * 5 + 3) % 64 - 32))
    #expect(ref(block, .q6_K, 256) == y)
  }

  @Test("fast kernels equal the reference kernels on random blocks of every type")
  func fastMatchesReference() throws {
    var rng = SplitMix64(seed: 7)
    for type in GGUFType.allCases where type.canDequantize {
      let n = type.blockSize == 1 ? 97 : 3 * type.blockSize
      var bytes = (0..<(type.byteCount(elements: n) ?? 0)).map { _ in rng.byte() }
      // Keep scales finite (random halves can be inf/NaN, which would make the comparison moot).
      func finiteHalf(at o: Int) {
        let h = UInt16(rng.int(0x7800)) | (rng.int(2) == 0 ? 0 : 0x8000)
        bytes[o] = UInt8(h & 0xFF)
        bytes[o + 1] = UInt8(h >> 8)
      }
      let nb = n / type.blockSize
      for b in 0..<nb {
        let o = b * type.bytesPerBlock
        switch type {
        case .f16, .bf16: finiteHalf(at: o)
        case .f32: bytes[o + 3] &= 0x7E
        case .q4_0, .q5_0, .q8_0: finiteHalf(at: o)
        case .q4_1, .q5_1, .q4_K: finiteHalf(at: o); finiteHalf(at: o + 2)
        case .q6_K: finiteHalf(at: o + 208)
        default: break
        }
      }
      let fast = try deq(bytes, type, n)
      let slow = ref(bytes, type, n)
      #expect(close(fast, slow, abs: 0, rel: 1e-6), "\(type.name)")
    }
  }

  @Test("dequantizing bytes rejects unsupported types and wrong byte counts")
  func dequantizeBytesValidation() {
    #expect(
      errorCase { _ = try dequantize([UInt8](repeating: 0, count: 36), type: .q8_1, count: 32) }
        == "unsupportedTensorType")
    #expect(
      errorCase { _ = try dequantize([UInt8](repeating: 0, count: 33), type: .q8_0, count: 32) } == "invalidTensorShape"
    )
    #expect(
      errorCase { _ = try dequantize([UInt8](repeating: 0, count: 34), type: .q8_0, count: 31) } == "invalidTensorShape"
    )
  }
}
