// SafeTensorsTests.swift: writer/reader round trip, byte layout, dtype widening and every
// malformed-header error. (SafeTensors has no test target of its own; it lives here.)
import Foundation
import SafeTensors
import Testing

/// A file from a header JSON string and raw data bytes, as a hand-made (possibly broken) writer would.
private func file(_ header: String, data: [UInt8]) -> Data {
  let h = Array(header.utf8)
  var out = Data()
  var n = UInt64(h.count).littleEndian
  withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
  out.append(contentsOf: h)
  out.append(contentsOf: data)
  return out
}

private func parseError(_ data: Data) -> SafeTensorsError? {
  do {
    _ = try SafeTensorsFile(data: data)
    return nil
  } catch let e as SafeTensorsError { return e } catch { return nil }
}

@Suite("SafeTensors")
struct SafeTensorsTests {
  @Test("F32 tensors and metadata round-trip through the writer and reader")
  func roundTrip() throws {
    let tensors: [String: SafeTensorsF32] = [
      "b.lora_B.weight": SafeTensorsF32(shape: [3, 2], values: [1, -2, 3.5, 0, -0.25, 1e-8]),
      "a.lora_A.weight": SafeTensorsF32(shape: [2], values: [.greatestFiniteMagnitude, -.leastNonzeroMagnitude]),
      "scalar": SafeTensorsF32(shape: [], values: [42]),
    ]
    let meta = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t é"]
    let bytes = try SafeTensorsWriter.serialize(tensors, metadata: meta)
    let f = try SafeTensorsFile(data: bytes)
    #expect(f.names == ["a.lora_A.weight", "b.lora_B.weight", "scalar"])
    #expect(f.metadata == meta)
    for (name, t) in tensors {
      #expect(try f.floats(name) == t.values)
      #expect(try f.info(name).shape == t.shape)
      #expect(try f.info(name).dtype == .F32)
    }
  }

  @Test("the writer is deterministic, sorts keys, and pads the header with spaces to 8 bytes")
  func layout() throws {
    let t = ["z": SafeTensorsF32(shape: [1], values: [1]), "a": SafeTensorsF32(shape: [1], values: [2])]
    let one = try SafeTensorsWriter.serialize(t, metadata: ["k": "v"])
    let two = try SafeTensorsWriter.serialize(t, metadata: ["k": "v"])
    #expect(one == two)
    var n = 0
    for i in 0..<8 { n |= Int(one[i]) << (8 * i) }
    #expect((8 + n) % 8 == 0)
    let header = String(decoding: one[8..<(8 + n)], as: UTF8.self)
    #expect(
      header.trimmingCharacters(in: .whitespaces)
        == #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
    )
    #expect(header.hasSuffix(" ") || header.hasSuffix("}"))
    #expect(one.count == 8 + n + 8)
    // "a" (2.0) is stored first.
    #expect(Array(one[(8 + n)..<(8 + n + 4)]) == [0, 0, 0, 0x40])
  }

  @Test("F16, BF16 and I64 tensors are read and widened exactly")
  func dtypes() throws {
    // F16: 1.0 = 0x3C00, -2.0 = 0xC000, smallest subnormal 0x0001 = 2^-24, +inf 0x7C00.
    // BF16: 1.0 = 0x3F80, -0.5 = 0xBF00.  I64: -3, 1<<40.
    var data: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C]
    data += [0x80, 0x3F, 0x00, 0xBF]
    data += [0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0]
    let header =
      #"{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"i":{"dtype":"I64","shape":[2],"data_offsets":[12,28]}}"#
    let f = try SafeTensorsFile(data: file(header, data: data))
    #expect(try f.floats("h") == [1, -2, Float(sign: .plus, exponent: -24, significand: 1), .infinity])
    #expect(try f.floats("b") == [1, -0.5])
    #expect(try f.int64s("i") == [-3, 1 << 40])
    #expect(throws: SafeTensorsError.wrongDType(tensor: "i", expected: "F32, F16 or BF16", found: "I64")) {
      try f.floats("i")
    }
    #expect(throws: SafeTensorsError.missingTensor(name: "nope")) { try f.floats("nope") }
  }

  @Test("malformed headers give typed errors")
  func malformed() {
    let ok4 = [UInt8](repeating: 0, count: 4)
    #expect(parseError(Data([1, 2, 3])) == .tooShort(size: 3))
    var huge = Data([0xFF, 0, 0, 0, 0, 0, 0, 0])
    huge.append(contentsOf: [UInt8](repeating: 0x20, count: 10))
    #expect(parseError(huge) == .headerTooLarge(headerSize: 255, available: 10))
    if case .headerNotJSON = parseError(file("{not json", data: [])) {} else { Issue.record("expected headerNotJSON") }
    #expect(parseError(file("[1,2]", data: [])) == .headerNotObject)
    #expect(
      parseError(file(#"{"t":{"dtype":"Q8","shape":[1],"data_offsets":[0,4]}}"#, data: ok4))
        == .unknownDType(tensor: "t", dtype: "Q8"))
    #expect(
      parseError(file(#"{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: ok4))
        == .badEntry(tensor: "t", field: "shape", found: "[-1]"))
    #expect(
      parseError(file(#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, data: ok4))
        == .badEntry(tensor: "t", field: "data_offsets", found: "[0]"))
    #expect(
      parseError(file(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: ok4))
        == .offsetsOutOfRange(tensor: "t", begin: 0, end: 8, dataSize: 4))
    #expect(
      parseError(file(#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: ok4))
        == .offsetsOutOfRange(tensor: "t", begin: 4, end: 0, dataSize: 4))
    #expect(
      parseError(file(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: ok4))
        == .sizeMismatch(tensor: "t", expectedBytes: 8, foundBytes: 4))
    #expect(
      parseError(
        file(
          #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
          data: [UInt8](repeating: 0, count: 12))) == .overlap(tensor: "b", other: "a"))
    #expect(
      parseError(
        file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8)))
        == .unindexedBytes(at: 0, dataSize: 8))
    #expect(
      parseError(
        file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [UInt8](repeating: 0, count: 8)))
        == .unindexedBytes(at: 4, dataSize: 8))
    #expect(parseError(file(#"{"__metadata__":{"k":1}}"#, data: [])) == .badMetadata(found: "k: 1"))
  }

  @Test("the writer rejects a shape that does not match the values")
  func writerValidates() {
    #expect(throws: SafeTensorsError.invalidTensor(name: "w", message: "shape [2, 2] does not hold 3 values")) {
      try SafeTensorsWriter.serialize(["w": SafeTensorsF32(shape: [2, 2], values: [1, 2, 3])])
    }
  }

  @Test("files are written atomically and read back from disk")
  func disk() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seb-st-\(getpid()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try SafeTensorsWriter.write(["w": SafeTensorsF32(shape: [2], values: [0.5, 1.5])], to: url)
    #expect(try SafeTensorsFile(contentsOf: url).floats("w") == [0.5, 1.5])
  }
}
