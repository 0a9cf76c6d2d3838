// RoundTripTests.swift: writer -> reader round trips, quantizers, typed accessors and summary.
import Foundation
import GGUF
import Testing

@Suite("Quantizers")
struct QuantizeTests {
  @Test("Q8_0 quantizer picks d = amax/127 and rounds half away from zero")
  func q8_0Exact() throws {
    let x = (0..<32).map { Float($0 - 16) }  // amax 16
    let b = try quantize(x, to: .q8_0)
    #expect(b.count == 34)
    #expect(UInt16(b[0]) | UInt16(b[1]) << 8 == floatToHalf(16.0 / 127))
    // q = round(x * 127/16): -16 -> -127, -15 -> round(-119.06) = -119, 0 -> 0, 15 -> 119
    #expect(Int8(bitPattern: b[2]) == -127 && Int8(bitPattern: b[3]) == -119)
    #expect(b[2 + 16] == 0 && Int8(bitPattern: b[2 + 31]) == 119)
  }

  @Test("Q4_1 quantizer stores d = (max-min)/15 and m = min")
  func q4_1Exact() throws {
    let x = (0..<32).map { Float($0 % 16) }  // min 0, max 15: d = 1, q = x
    let b = try quantize(x, to: .q4_1)
    #expect(b == le16(0x3C00) + le16(0x0000) + (0..<16).map { UInt8($0 | ($0 << 4)) })
  }

  @Test("Q4_0 quantizer scales by the signed extreme: d = max / -8")
  func q4_0Exact() throws {
    var x = [Float](repeating: 0, count: 32)
    x[0] = -8  // extreme is negative: d = 1, q = x + 8 (truncated after +8.5)
    x[1] = 3
    x[17] = -2.4
    let b = try quantize(x, to: .q4_0)
    #expect(UInt16(b[0]) | UInt16(b[1]) << 8 == 0x3C00)
    #expect(b[2] == 0 | (8 << 4))  // x0 = -8 -> 0; x16 = 0 -> 8
    #expect(b[3] == 11 | (6 << 4))  // x1 = 3 -> trunc(11.5) = 11; x17 = -2.4 -> trunc(6.1) = 6
  }

  @Test("quantize then dequantize stays within half a step (one step for the symmetric types)")
  func roundTripError() throws {
    var rng = SplitMix64(seed: 42)
    let x = (0..<(32 * 8)).map { _ in rng.float(-1, 1) }
    for type in [GGUFType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1] {
      let y = try dequantize(quantize(x, to: type), type: type, count: x.count)
      for b in 0..<8 {
        let blk = x[(32 * b)..<(32 * b + 32)]
        let range = blk.max()! - blk.min()!, amax = blk.map(abs).max()!
        let step: Float
        switch type {
        case .q8_0: step = amax / 127 * 0.5
        case .q4_0: step = amax / 8
        case .q5_0: step = amax / 16
        case .q4_1: step = range / 15 * 0.5
        default: step = range / 31 * 0.5
        }
        for i in (32 * b)..<(32 * b + 32) {
          #expect(abs(y[i] - x[i]) <= step * 1.01 + 2e-3, "\(type.name) element \(i): \(x[i]) -> \(y[i])")
        }
      }
    }
  }

  @Test("F16 and BF16 encoding round-trips values that are representable")
  func plainRoundTrip() throws {
    let x: [Float] = [0, -1, 0.5, 65504, 0x1p-24, -.infinity]
    #expect(try dequantize(quantize(x, to: .f16), type: .f16, count: 6) == x)
    let z: [Float] = [0, -1, 3.140625, 0x1p100]
    #expect(try dequantize(quantize(z, to: .bf16), type: .bf16, count: 4) == z)
    #expect(try dequantize(quantize(z, to: .f32), type: .f32, count: 4) == z)
  }

  @Test("quantizers reject non-finite values, partial blocks and types without a quantizer")
  func quantizeValidation() {
    #expect(errorCase { _ = try quantize([Float](repeating: .nan, count: 32), to: .q8_0) } == "nonFiniteValue")
    #expect(errorCase { _ = try quantize([Float](repeating: 0, count: 31), to: .q4_1) } == "rowNotBlockAligned")
    #expect(errorCase { _ = try quantize([Float](repeating: 0, count: 256), to: .q4_K) } == "unsupportedTensorType")
  }

  @Test("an all-zero block quantizes to zero scale and decodes to zeros")
  func zeroBlock() throws {
    for type in [GGUFType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1] {
      let y = try dequantize(quantize([Float](repeating: 0, count: 32), to: type), type: type, count: 32)
      #expect(y == [Float](repeating: 0, count: 32), "\(type.name)")
    }
  }
}

@Suite("Writer and reader round trip")
struct RoundTripTests {
  static let allValues: [(String, GGUFValue)] = [
    ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60000)), ("t.i16", .int16(-30000)),
    ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.f32", .float32(-1.25)),
    ("t.bool", .bool(true)), ("t.false", .bool(false)), ("t.string", .string("héllo ✓ \n")),
    ("t.empty", .string("")), ("t.u64", .uint64(.max)), ("t.i64", .int64(.min)), ("t.f64", .float64(1e-300)),
    ("a.u8", .array(.uint8([1, 2, 3]))), ("a.i8", .array(.int8([-1, 0]))), ("a.u16", .array(.uint16([7]))),
    ("a.i16", .array(.int16([-7, 7]))), ("a.u32", .array(.uint32([1, 4_000_000_000]))),
    ("a.i32", .array(.int32([-1, 1, 3]))), ("a.f32", .array(.float32([0.5, -0.25]))),
    ("a.bool", .array(.bool([true, false, true]))), ("a.string", .array(.string(["Ġ t", "", "<|im_end|>"]))),
    ("a.u64", .array(.uint64([.max]))), ("a.i64", .array(.int64([.min, 0]))), ("a.f64", .array(.float64([2.5]))),
    ("a.empty", .array(.float32([]))),
    ("a.nested", .array(.array([.int32([1, 2]), .string(["x"]), .array([.uint8([9])]), .bool([])]))),
  ]

  func fullWriter(alignment: Int = 32) throws -> (GGUFWriter, [String: [Float]]) {
    var w = try GGUFWriter(alignment: alignment)
    for (k, v) in Self.allValues { try w.add(k, v) }
    var rng = SplitMix64(seed: 1)
    var values: [String: [Float]] = [:]
    let shapes: [(String, [Int], GGUFType)] = [
      ("f32.1d", [5], .f32), ("f16.2d", [3, 2], .f16), ("bf16.3d", [2, 2, 2], .bf16),
      ("q8_0", [64, 2], .q8_0), ("q4_0", [32, 3], .q4_0), ("q4_1", [32, 1, 2], .q4_1),
      ("q5_0", [64, 1], .q5_0), ("q5_1", [32, 2, 1, 2], .q5_1), ("empty", [0, 4], .f32),
    ]
    for (name, dims, type) in shapes {
      let n = dims.reduce(1, *)
      let v = (0..<n).map { _ in rng.float(-2, 2) }
      values[name] = v
      try w.addTensor(name, dims: dims, values: v, type: type)
    }
    let q4k = packQ4K(
      d: 0x3C00, dmin: 0x3800, scales: Array(1...8), mins: Array(0..<8), q: (0..<256).map { UInt8($0 % 16) })
    try w.addTensor("q4_K", dims: [256], type: .q4_K, rawBytes: q4k)
    let q6k = packQ6K(d: 0x3C00, scales: (0..<16).map { Int8($0 - 8) }, q: (0..<256).map { UInt8($0 % 64) })
    try w.addTensor("q6_K", dims: [256, 2], type: .q6_K, rawBytes: q6k + q6k)
    return (w, values)
  }

  @Test("every metadata type, nested arrays and every tensor type survive writer -> reader")
  func fullRoundTrip() throws {
    let (w, values) = try fullWriter()
    let bytes = try w.serialize()
    let f = try GGUFFile(bytes: bytes, name: "rt.gguf")
    #expect(f.version == 3)
    #expect(f.metadata.keys == Self.allValues.map(\.0))
    for (k, v) in Self.allValues { #expect(f.value(k) == v, "\(k)") }
    #expect(f.tensors.map(\.name) == w.tensors.map(\.name))
    #expect(f.alignment == 32 && f.dataOffset % 32 == 0)
    for t in w.tensors {
      let info = try f.tensor(named: t.name)
      #expect(info.dims == t.dims && info.type == t.type && info.offset % 32 == 0)
      #expect(Array(try f.tensorData(info)) == t.bytes, "\(t.name)")
      // Dequantized values equal quantize -> dequantize of the originals.
      if let v = values[t.name] {
        let expected = try dequantize(quantize(v, to: t.type), type: t.type, count: v.count)
        #expect(try f.dequantizeToArray(info) == expected, "\(t.name)")
      }
    }
    #expect(try f.dequantizeToArray(f.tensor(named: "q6_K")).count == 512)
    #expect(try f.tensor(named: "q6_K").rowCount == 2)
  }

  @Test("a custom alignment is written as general.alignment and respected by every offset")
  func customAlignment() throws {
    let (w, _) = try fullWriter(alignment: 256)
    let f = try GGUFFile(bytes: try w.serialize(), name: "a.gguf")
    #expect(f.alignment == 256 && f.dataOffset % 256 == 0)
    #expect(f.value("general.alignment") == .uint32(256) && f.metadata.keys.first == "general.alignment")
    for t in f.tensors { #expect(t.offset % 256 == 0) }
  }

  @Test("writer output is deterministic and re-serializing what was read gives the same bytes")
  func deterministic() throws {
    let (w, _) = try fullWriter()
    let a = try w.serialize(), b = try w.serialize()
    #expect(a == b)
    let f = try GGUFFile(bytes: a)
    var w2 = try GGUFWriter()
    for k in f.metadata.keys { try w2.add(k, f.value(k)!) }
    for t in f.tensors { try w2.addTensor(t.name, dims: t.dims, type: t.type, rawBytes: Array(try f.tensorData(t))) }
    #expect(try w2.serialize() == a)
  }

  @Test("version 2 files are read like version 3")
  func version2() throws {
    var w = try tinyWriter()
    w.version = 2
    let f = try GGUFFile(bytes: try w.serialize())
    #expect(f.version == 2 && f.tensors.count == 2)
  }

  @Test("the writer's bytes match an independent field-by-field encoding")
  func independentEncoding() throws {
    var w = try GGUFWriter()
    try w.add("k", .uint32(7))
    try w.addTensor("t", dims: [2], values: [1, -2])
    var r = RawGGUF()
    r.header(tensors: 1, kvs: 1)
    r.kvU32("k", 7)
    r.tensorInfo("t", dims: [2], type: 0, offset: 0)
    r.pad(to: 32)
    r.u32(Float(1).bitPattern)
    r.u32(Float(-2).bitPattern)
    r.pad(to: 32)
    #expect(try w.serialize() == r.bytes)
  }

  @Test("a file written to disk and memory-mapped reads the same as from memory")
  func mmapMatchesMemory() throws {
    let (w, _) = try fullWriter()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-test-\(getpid()).gguf").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try w.write(to: path)
    let disk = try GGUFFile(path: path)
    let mem = try GGUFFile(bytes: try w.serialize())
    #expect(disk.displayName == path && disk.fileSize == mem.fileSize)
    #expect(disk.metadata.keys == mem.metadata.keys && disk.tensors == mem.tensors)
    for t in disk.tensors { #expect(try disk.dequantizeToArray(t) == mem.dequantizeToArray(t)) }
  }

  @Test("row ranges dequantize the right rows and out-of-range rows throw")
  func rowRanges() throws {
    var w = try GGUFWriter()
    let v = (0..<(32 * 4)).map { Float($0 % 32) - Float($0 / 32) }
    try w.addTensor("m", dims: [32, 4], values: v, type: .q8_0)
    let f = try GGUFFile(bytes: try w.serialize())
    let t = try f.tensor(named: "m")
    #expect(t.rowLength == 32 && t.rowCount == 4 && t.rowByteCount == 34)
    let all = try f.dequantizeToArray(t)
    var rows = [Float](repeating: 0, count: 64)  // (2, 32)
    try rows.withUnsafeMutableBufferPointer { try f.dequantize(t, rows: 1..<3, into: $0.baseAddress!) }
    #expect(rows == Array(all[32..<96]))
    #expect(
      errorCase { try rows.withUnsafeMutableBufferPointer { try f.dequantize(t, rows: 3..<5, into: $0.baseAddress!) } }
        == "rowRangeOutOfBounds")
  }

  @Test("writer refuses duplicates, bad shapes, wrong value counts and mismatched raw bytes")
  func writerValidation() throws {
    var w = try GGUFWriter()
    try w.add("k", "v")
    #expect(errorCase { try w.add("k", "again") } == "duplicateKey")
    #expect(errorCase { try w.add("", "x") } == "emptyKey")
    try w.addTensor("t", dims: [2], values: [1, 2])
    #expect(errorCase { try w.addTensor("t", dims: [2], values: [1, 2]) } == "duplicateTensor")
    #expect(errorCase { try w.addTensor("u", dims: [2, 2], values: [1, 2]) } == "valueCountMismatch")
    #expect(errorCase { try w.addTensor("u", dims: [1, 1, 1, 1, 1], values: [1]) } == "badDimensionCount")
    #expect(
      errorCase { try w.addTensor("u", dims: [16], values: [Float](repeating: 0, count: 16), type: .q8_0) }
        == "rowNotBlockAligned")
    #expect(
      errorCase { try w.addTensor("u", dims: [32], type: .q8_0, rawBytes: [UInt8](repeating: 0, count: 33)) }
        == "invalidTensorShape")
    #expect(
      errorCase { try w.addTensor(String(repeating: "n", count: 64), dims: [1], values: [1]) } == "tensorNameTooLong")
    #expect(errorCase { _ = try GGUFWriter(alignment: 24) } == "badAlignment")
    var w2 = try GGUFWriter(alignment: 64)
    try w2.add("general.alignment", .uint32(32))
    #expect(errorCase { _ = try w2.serialize() } == "badAlignment")
  }
}

@Suite("Typed metadata accessors")
struct AccessorTests {
  func file() throws -> GGUFFile {
    var w = try GGUFWriter()
    try w.add("general.architecture", "llama")
    try w.add("n.u8", .uint8(9))
    try w.add("n.i32neg", .int32(-3))
    try w.add("n.u64big", .uint64(.max))
    try w.add("n.u64", .uint64(1536))
    try w.add("f.f32", .float32(1e-5))
    try w.add("f.f64", .float64(100000))
    try w.add("b", true)
    try w.add("s", "gpt2")
    try w.add("a.tokens", ["a", "b"])
    try w.add("a.types", .array(.uint8([1, 3])))
    try w.add("a.big", .array(.int64([1, 1 << 40])))
    try w.add("a.scores", .array(.float64([0.5])))
    return try GGUFFile(bytes: try w.serialize(), name: "acc.gguf")
  }

  @Test("integer accessors accept any integer type whose value fits")
  func integers() throws {
    let f = try file()
    #expect(try f.int("n.u8") == 9 && f.uint32("n.u8") == 9 && f.int32("n.i32neg") == -3)
    #expect(try f.int("n.u64") == 1536 && f.uint32("n.u64") == 1536 && f.uint64("n.u64big") == .max)
    #expect(f.metadata.count == 13)
  }

  @Test("integers that do not fit throw valueOutOfRange naming the key")
  func integerRange() throws {
    let f = try file()
    #expect(errorCase { _ = try f.uint32("n.i32neg") } == "valueOutOfRange")
    #expect(errorCase { _ = try f.int("n.u64big") } == "valueOutOfRange")
    #expect(errorCase { _ = try f.int32Array("a.big") } == "valueOutOfRange")
    do {
      _ = try f.uint32("n.i32neg")
    } catch {
      let msg = error.localizedDescription
      #expect(msg.contains("acc.gguf") && msg.contains("n.i32neg") && msg.contains("-3"))
    }
  }

  @Test("wrong value types throw wrongValueType; missing keys throw missingKey")
  func wrongTypes() throws {
    let f = try file()
    #expect(errorCase { _ = try f.int("s") } == "wrongValueType")
    #expect(errorCase { _ = try f.string("n.u8") } == "wrongValueType")
    #expect(errorCase { _ = try f.bool("s") } == "wrongValueType")
    #expect(errorCase { _ = try f.float("n.u8") } == "wrongValueType")
    #expect(errorCase { _ = try f.stringArray("a.types") } == "wrongValueType")
    #expect(errorCase { _ = try f.floatArray("a.tokens") } == "wrongValueType")
    #expect(errorCase { _ = try f.int32Array("a.scores") } == "wrongValueType")
    #expect(errorCase { _ = try f.array("s") } == "wrongValueType")
    #expect(errorCase { _ = try f.int("llama.block_count") } == "missingKey")
    #expect(throws: GGUFError.missingKey(file: "acc.gguf", key: "nope")) { try f.string("nope") }
  }

  @Test("floats, strings, bools and arrays convert as documented")
  func conversions() throws {
    let f = try file()
    #expect(try f.float("f.f32") == 1e-5 && f.float("f.f64") == 100000 && f.double("f.f32") == Double(Float(1e-5)))
    #expect(try f.bool("b") && f.string("s") == "gpt2")
    #expect(try f.stringArray("a.tokens") == ["a", "b"] && f.int32Array("a.types") == [1, 3])
    #expect(try f.floatArray("a.scores") == [0.5])
  }

  @Test("IfPresent accessors return nil when absent and still throw on a wrong type")
  func optionals() throws {
    let f = try file()
    #expect(try f.uint32IfPresent("absent") == nil && f.stringIfPresent("absent") == nil)
    #expect(try f.floatIfPresent("absent") == nil && f.stringArrayIfPresent("absent") == nil)
    #expect(try f.intIfPresent("n.u8") == 9 && f.boolIfPresent("b") == true)
    #expect(errorCase { _ = try f.uint32IfPresent("s") } == "wrongValueType")
    #expect(errorCase { _ = try f.floatArrayIfPresent("a.tokens") } == "wrongValueType")
  }

  @Test("requireArchitecture returns a supported architecture and names the key otherwise")
  func architecture() throws {
    let f = try file()
    #expect(try f.requireArchitecture(in: ["llama", "qwen2"]) == "llama")
    #expect(throws: GGUFError.unsupportedArchitecture(file: "acc.gguf", found: "llama", supported: ["gemma", "qwen2"]))
    {
      try f.requireArchitecture(in: ["qwen2", "gemma"])
    }
    let msg = GGUFError.unsupportedArchitecture(file: "acc.gguf", found: "llama", supported: ["qwen2"])
      .localizedDescription
    #expect(msg.contains("general.architecture") && msg.contains("llama") && msg.contains("qwen2"))
    let none = try GGUFFile(bytes: try GGUFWriter().serialize(), name: "none")
    #expect(errorCase { _ = try none.requireArchitecture(in: ["llama"]) } == "missingKey")
  }

  @Test("tensor lookups throw missingTensor for absent names and foreign infos")
  func tensorLookup() throws {
    let f = try GGUFFile(bytes: try tinyWriter().serialize(), name: "tiny")
    #expect(throws: GGUFError.missingTensor(file: "tiny", tensor: "output.weight")) {
      try f.tensor(named: "output.weight")
    }
    #expect(f.tensorIfPresent(named: "output.weight") == nil && f.hasTensor("emb.weight"))
    var w = try GGUFWriter()
    try w.addTensor("emb.weight", dims: [4], values: [1, 2, 3, 4])  // same name, other shape
    let other = try GGUFFile(bytes: try w.serialize())
    #expect(errorCase { _ = try f.dequantize(other.tensor(named: "emb.weight")) } == "missingTensor")
  }

  @Test("dequantizing a type without a dequantizer throws unsupportedTensorType")
  func unsupportedDequant() throws {
    var w = try GGUFWriter()
    try w.addTensor("q81", dims: [32], type: .q8_1, rawBytes: [UInt8](repeating: 0, count: 36))
    try w.addTensor("q5k", dims: [256], type: .q5_K, rawBytes: [UInt8](repeating: 0, count: 176))
    let f = try GGUFFile(bytes: try w.serialize(), name: "q")
    #expect(
      throws: GGUFError.unsupportedTensorType(file: "q", tensor: "q81", type: "Q8_1", operation: "dequantization")
    ) {
      try f.dequantize(named: "q81")
    }
    #expect(errorCase { _ = try f.dequantize(named: "q5k") } == "unsupportedTensorType")
  }
}

@Suite("Summary")
struct SummaryTests {
  @Test("summary counts tensors and parameters by type and summarises arrays as type and count")
  func summary() throws {
    var w = try tinyWriter()
    try w.addTensor("emb2", dims: [32, 1], values: [Float](repeating: 1, count: 32), type: .q8_0)
    let s = try GGUFFile(bytes: try w.serialize(), name: "tiny").summary()
    #expect(s.tensorCount == 3 && s.metadataCount == 4 && s.version == 3 && s.architecture == "llama")
    #expect(s.types.map(\.type) == [.q8_0, .f32])
    #expect(s.types[0].tensors == 2 && s.types[0].parameters == 96 && s.types[0].bytes == 3 * 34)
    #expect(s.types[1].tensors == 1 && s.types[1].parameters == 8 && s.types[1].bytes == 32)
    #expect(s.parameterCount == 104 && s.tensorBytes == 134)
    let tokens = s.metadata.first { $0.key == "tokenizer.ggml.tokens" }
    #expect(tokens?.type == "array<string>" && tokens?.count == 3)
    #expect(tokens?.preview.hasPrefix("[3 × string]") == true)
    let arch = s.metadata.first { $0.key == "general.architecture" }
    #expect(arch?.type == "string" && arch?.count == nil && arch?.preview == "\"llama\"")
  }
}
