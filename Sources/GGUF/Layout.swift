// Layout.swift: every on-disk layout of the GGUF module, in one file.
//
// What is here: the tensor type enum (`ggml_type` ids), the metadata value type enum (`gguf_type`),
// the block structs of each quantization format mirroring ggml's `src/ggml-common.h`, checks that
// the structs have exactly ggml's byte sizes and field offsets (ggml's `static_assert`s), and the
// half-precision conversions. Byte order on disk is little-endian throughout; blocks are packed
// (no padding), so a row of `n` elements of a quantized type is `n / blockSize * bytesPerBlock`
// bytes. The dequantizers in Dequantize.swift read blocks at the byte offsets declared here.

/// A tensor element type, with the numeric id of ggml's `enum ggml_type` (stored as int32 on disk).
/// Ids 4 and 5 (old Q4_2/Q4_3) were removed upstream; ids not listed here are rejected as unknown.
public enum GGUFType: UInt32, CaseIterable, Sendable, Hashable, CustomStringConvertible {
  case f32 = 0
  case f16 = 1
  case q4_0 = 2
  case q4_1 = 3
  case q5_0 = 6
  case q5_1 = 7
  case q8_0 = 8
  case q8_1 = 9
  case q2_K = 10
  case q3_K = 11
  case q4_K = 12
  case q5_K = 13
  case q6_K = 14
  case q8_K = 15
  case bf16 = 30

  /// ggml's spelling ("Q4_K", "BF16").
  public var name: String {
    switch self {
    case .f32: return "F32"
    case .f16: return "F16"
    case .q4_0: return "Q4_0"
    case .q4_1: return "Q4_1"
    case .q5_0: return "Q5_0"
    case .q5_1: return "Q5_1"
    case .q8_0: return "Q8_0"
    case .q8_1: return "Q8_1"
    case .q2_K: return "Q2_K"
    case .q3_K: return "Q3_K"
    case .q4_K: return "Q4_K"
    case .q5_K: return "Q5_K"
    case .q6_K: return "Q6_K"
    case .q8_K: return "Q8_K"
    case .bf16: return "BF16"
    }
  }

  public var description: String { name }

  /// Elements per block (`blck_size` in ggml's type traits).
  public var blockSize: Int {
    switch self {
    case .f32, .f16, .bf16: return 1
    case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: return 32
    case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: return QK_K
    }
  }

  /// Bytes per block (`type_size` in ggml's type traits).
  public var bytesPerBlock: Int {
    switch self {
    case .f32: return 4
    case .f16, .bf16: return 2
    case .q4_0: return BlockQ4_0.byteSize
    case .q4_1: return BlockQ4_1.byteSize
    case .q5_0: return BlockQ5_0.byteSize
    case .q5_1: return BlockQ5_1.byteSize
    case .q8_0: return BlockQ8_0.byteSize
    case .q8_1: return 36  // d, s: f16; qs[32]: int8. Listed for sizing only.
    case .q2_K: return 84  // scales[16], qs[64], d, dmin: f16
    case .q3_K: return 110  // hmask[32], qs[64], scales[12], d: f16
    case .q4_K: return BlockQ4_K.byteSize
    case .q5_K: return 176  // d, dmin: f16, scales[12], qh[32], qs[128]
    case .q6_K: return BlockQ6_K.byteSize
    case .q8_K: return 292  // d: f32, qs[256]: int8, bsums[16]: int16
    }
  }

  /// Whether `dequantizeRow` handles this type.
  public var canDequantize: Bool {
    switch self {
    case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q6_K: return true
    case .q8_1, .q2_K, .q3_K, .q5_K, .q8_K: return false
    }
  }

  /// Whether `quantizeRow` (and so `GGUFWriter.addTensor(values:)`) can produce this type.
  public var canQuantize: Bool {
    switch self {
    case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return true
    default: return false
    }
  }

  public var isQuantized: Bool { blockSize > 1 }

  /// Bytes of `count` elements, or nil when `count` is not a whole number of blocks or overflows.
  public func byteCount(elements count: Int) -> Int? {
    guard count >= 0, count % blockSize == 0 else { return nil }
    let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
    return overflow ? nil : bytes
  }
}

/// Metadata value type ids (`enum gguf_type`).
public enum GGUFValueType: UInt32, CaseIterable, Sendable {
  case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
  case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

  /// Short name used in errors and summaries ("u32", "string", "array").
  public var name: String {
    switch self {
    case .uint8: return "u8"
    case .int8: return "i8"
    case .uint16: return "u16"
    case .int16: return "i16"
    case .uint32: return "u32"
    case .int32: return "i32"
    case .float32: return "f32"
    case .bool: return "bool"
    case .string: return "string"
    case .array: return "array"
    case .uint64: return "u64"
    case .int64: return "i64"
    case .float64: return "f64"
    }
  }

  /// Smallest encoded size of one value; bounds array counts by the bytes that remain.
  /// A string is at least its u64 length; an array at least its element type and count.
  var minimumEncodedSize: Int {
    switch self {
    case .uint8, .int8, .bool: return 1
    case .uint16, .int16: return 2
    case .uint32, .int32, .float32: return 4
    case .uint64, .int64, .float64, .string: return 8
    case .array: return 12
    }
  }
}

/// Limits from the GGUF spec and gguf.cpp.
public enum GGUFLimits {
  public static let magic: [UInt8] = [0x47, 0x47, 0x55, 0x46]  // "GGUF"
  public static let defaultAlignment = 32  // GGUF_DEFAULT_ALIGNMENT
  public static let maxDimensions = 4  // GGML_MAX_DIMS
  /// gguf.cpp rejects `name.length() >= GGML_MAX_NAME` (64): at most 63 bytes.
  public static let maxTensorNameBytes = 63
  /// docs/gguf.md: keys are at most 65535 bytes.
  public static let maxKeyBytes = 65535
  /// Our own bound so hostile nesting cannot exhaust the stack.
  public static let maxArrayNesting = 32
}

/// Super-block size of the K-quants.
public let QK_K = 256
/// Bytes of packed 6-bit scales and mins in Q4_K/Q5_K.
public let K_SCALE_SIZE = 12

// MARK: - Block structs (ggml-common.h). `d`/`m`/`dmin` are IEEE half bit patterns (ggml_half).

/// `block_q4_0`: 32 elements, `(q - 8) * d`; low nibbles are elements 0..15, high nibbles 16..31.
public struct BlockQ4_0 {
  public var d: UInt16
  public var qs: InlineArray<16, UInt8>
  public static let qk = 32, dOffset = 0, qsOffset = 2
  public static let byteSize = 2 + 32 / 2  // sizeof(ggml_half) + QK4_0 / 2
}

/// `block_q4_1`: 32 elements, `q * d + m`; nibble order as Q4_0.
public struct BlockQ4_1 {
  public var d: UInt16
  public var m: UInt16
  public var qs: InlineArray<16, UInt8>
  public static let qk = 32, dOffset = 0, mOffset = 2, qsOffset = 4
  public static let byteSize = 2 * 2 + 32 / 2  // 2 * sizeof(ggml_half) + QK4_1 / 2
}

/// `block_q5_0`: 32 elements, `(q5 - 16) * d`; `qh` (little-endian u32) holds bit 4 of each q5.
public struct BlockQ5_0 {
  public var d: UInt16
  public var qh: InlineArray<4, UInt8>
  public var qs: InlineArray<16, UInt8>
  public static let qk = 32, dOffset = 0, qhOffset = 2, qsOffset = 6
  public static let byteSize = 2 + 4 + 32 / 2  // sizeof(ggml_half) + sizeof(uint32_t) + QK5_0 / 2
}

/// `block_q5_1`: 32 elements, `q5 * d + m`.
public struct BlockQ5_1 {
  public var d: UInt16
  public var m: UInt16
  public var qh: InlineArray<4, UInt8>
  public var qs: InlineArray<16, UInt8>
  public static let qk = 32, dOffset = 0, mOffset = 2, qhOffset = 4, qsOffset = 8
  public static let byteSize = 2 * 2 + 4 + 32 / 2
}

/// `block_q8_0`: 32 elements, `q * d`.
public struct BlockQ8_0 {
  public var d: UInt16
  public var qs: InlineArray<32, Int8>
  public static let qk = 32, dOffset = 0, qsOffset = 2
  public static let byteSize = 2 + 32  // sizeof(ggml_half) + QK8_0
}

/// `block_q4_K`: 256 elements in 8 sub-blocks of 32, each with a 6-bit scale and min packed into
/// `scales[12]`; `y = d * sc * q - dmin * m`.
public struct BlockQ4_K {
  public var d: UInt16
  public var dmin: UInt16
  public var scales: InlineArray<12, UInt8>
  public var qs: InlineArray<128, UInt8>
  public static let dOffset = 0, dminOffset = 2, scalesOffset = 4, qsOffset = 16
  public static let byteSize = 2 * 2 + 12 + 256 / 2  // 2*sizeof(ggml_half) + K_SCALE_SIZE + QK_K/2
}

/// `block_q6_K`: 256 elements, 4 low bits in `ql`, 2 high bits in `qh`, int8 scales per 16;
/// `y = d * sc * (q6 - 32)`.
public struct BlockQ6_K {
  public var ql: InlineArray<128, UInt8>
  public var qh: InlineArray<64, UInt8>
  public var scales: InlineArray<16, Int8>
  public var d: UInt16
  public static let qlOffset = 0, qhOffset = 128, scalesOffset = 192, dOffset = 208
  public static let byteSize = 256 / 2 + 256 / 4 + 256 / 16 + 2  // QK_K/2 + QK_K/4 + QK_K/16 + half
}

/// One layout fact: the Swift struct's size or field offset against ggml's formula.
public struct GGUFLayoutCheck: Sendable {
  public let what: String
  public let actual: Int?
  public let expected: Int
  public var ok: Bool { actual == expected }
}

public enum GGUFLayout {
  /// The equivalents of ggml-common.h's `static_assert(sizeof(block_q4_1) == ...)`, plus the field
  /// offsets the dequantizers rely on. Swift has no compile-time assert, so the tests and
  /// `verify()` (run once by the reader) check them.
  public static let checks: [GGUFLayoutCheck] = [
    .init(what: "sizeof(block_q4_0)", actual: MemoryLayout<BlockQ4_0>.size, expected: 18),
    .init(what: "block_q4_0.qs", actual: MemoryLayout<BlockQ4_0>.offset(of: \.qs), expected: BlockQ4_0.qsOffset),
    .init(what: "sizeof(block_q4_1)", actual: MemoryLayout<BlockQ4_1>.size, expected: 20),
    .init(what: "block_q4_1.m", actual: MemoryLayout<BlockQ4_1>.offset(of: \.m), expected: BlockQ4_1.mOffset),
    .init(what: "block_q4_1.qs", actual: MemoryLayout<BlockQ4_1>.offset(of: \.qs), expected: BlockQ4_1.qsOffset),
    .init(what: "sizeof(block_q5_0)", actual: MemoryLayout<BlockQ5_0>.size, expected: 22),
    .init(what: "block_q5_0.qh", actual: MemoryLayout<BlockQ5_0>.offset(of: \.qh), expected: BlockQ5_0.qhOffset),
    .init(what: "block_q5_0.qs", actual: MemoryLayout<BlockQ5_0>.offset(of: \.qs), expected: BlockQ5_0.qsOffset),
    .init(what: "sizeof(block_q5_1)", actual: MemoryLayout<BlockQ5_1>.size, expected: 24),
    .init(what: "block_q5_1.m", actual: MemoryLayout<BlockQ5_1>.offset(of: \.m), expected: BlockQ5_1.mOffset),
    .init(what: "block_q5_1.qh", actual: MemoryLayout<BlockQ5_1>.offset(of: \.qh), expected: BlockQ5_1.qhOffset),
    .init(what: "block_q5_1.qs", actual: MemoryLayout<BlockQ5_1>.offset(of: \.qs), expected: BlockQ5_1.qsOffset),
    .init(what: "sizeof(block_q8_0)", actual: MemoryLayout<BlockQ8_0>.size, expected: 34),
    .init(what: "block_q8_0.qs", actual: MemoryLayout<BlockQ8_0>.offset(of: \.qs), expected: BlockQ8_0.qsOffset),
    .init(what: "sizeof(block_q4_K)", actual: MemoryLayout<BlockQ4_K>.size, expected: 144),
    .init(what: "block_q4_K.dmin", actual: MemoryLayout<BlockQ4_K>.offset(of: \.dmin), expected: BlockQ4_K.dminOffset),
    .init(
      what: "block_q4_K.scales", actual: MemoryLayout<BlockQ4_K>.offset(of: \.scales), expected: BlockQ4_K.scalesOffset),
    .init(what: "block_q4_K.qs", actual: MemoryLayout<BlockQ4_K>.offset(of: \.qs), expected: BlockQ4_K.qsOffset),
    .init(what: "sizeof(block_q6_K)", actual: MemoryLayout<BlockQ6_K>.size, expected: 210),
    .init(what: "block_q6_K.qh", actual: MemoryLayout<BlockQ6_K>.offset(of: \.qh), expected: BlockQ6_K.qhOffset),
    .init(
      what: "block_q6_K.scales", actual: MemoryLayout<BlockQ6_K>.offset(of: \.scales), expected: BlockQ6_K.scalesOffset),
    .init(what: "block_q6_K.d", actual: MemoryLayout<BlockQ6_K>.offset(of: \.d), expected: BlockQ6_K.dOffset),
    .init(what: "Q4_0 byte formula", actual: BlockQ4_0.byteSize, expected: 18),
    .init(what: "Q4_1 byte formula", actual: BlockQ4_1.byteSize, expected: 20),
    .init(what: "Q5_0 byte formula", actual: BlockQ5_0.byteSize, expected: 22),
    .init(what: "Q5_1 byte formula", actual: BlockQ5_1.byteSize, expected: 24),
    .init(what: "Q8_0 byte formula", actual: BlockQ8_0.byteSize, expected: 34),
    .init(what: "Q4_K byte formula", actual: BlockQ4_K.byteSize, expected: 144),
    .init(what: "Q6_K byte formula", actual: BlockQ6_K.byteSize, expected: 210),
    .init(what: "sizeof(ggml_half)", actual: MemoryLayout<Float16>.size, expected: 2),
  ]

  /// Traps if a layout fact is wrong: that is a build/compiler problem, never a data problem.
  public static let verified: Bool = {
    for c in checks { precondition(c.ok, "GGUF layout: \(c.what) is \(c.actual ?? -1), expected \(c.expected)") }
    return true
  }()
}

// MARK: - Half precision

/// IEEE binary16 bits to Float (exact; handles subnormals, inf, NaN). F16C on haswell.
@inline(__always)
public func halfToFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

/// Float to IEEE binary16 bits, round to nearest even (what ggml's GGML_FP32_TO_FP16 does).
@inline(__always)
public func floatToHalf(_ x: Float) -> UInt16 { Float16(x).bitPattern }

/// bfloat16 bits to Float: the top half of a binary32.
@inline(__always)
public func bfloat16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

/// Float to bfloat16 bits, round to nearest even; NaN stays a quiet NaN (ggml_compute_fp32_to_bf16).
@inline(__always)
public func floatToBFloat16(_ x: Float) -> UInt16 {
  let u = x.bitPattern
  if (u & 0x7fff_ffff) > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }
  return UInt16(truncatingIfNeeded: (u &+ (0x7fff &+ ((u >> 16) & 1))) >> 16)
}
