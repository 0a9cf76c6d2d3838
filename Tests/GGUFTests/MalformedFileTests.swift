// MalformedFileTests.swift: every validation rule of the reader, each exercised by one bad file
// (built field by field with RawGGUF, or written by GGUFWriter and then corrupted) and asserted by
// error case. The last tests cut and flip bytes of a valid file to show the reader never traps.
import Foundation
import GGUF
import Testing

@Suite("Malformed files")
struct MalformedFileTests {
  /// Header with no tensors and one KV `key` of raw type `type` followed by `value` bytes.
  func oneKV(_ key: String = "k", type: UInt32, value: (inout RawGGUF) -> Void) -> [UInt8] {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1)
    r.str(key)
    r.u32(type)
    value(&r)
    return r.bytes
  }

  /// One tensor info and enough zero data after the aligned header.
  func oneTensor(
    _ name: String = "t", dims: [Int64] = [32], type: UInt32 = 0, offset: UInt64 = 0, dataBytes: Int = 128,
    kvs: (count: UInt64, write: (inout RawGGUF) -> Void)? = nil
  ) -> [UInt8] {
    var r = RawGGUF()
    r.header(tensors: 1, kvs: kvs?.count ?? 0)
    kvs?.write(&r)
    r.tensorInfo(name, dims: dims, type: type, offset: offset)
    r.pad(to: 32)
    r.bytes += [UInt8](repeating: 0, count: dataBytes)
    return r.bytes
  }

  // MARK: Header

  @Test("wrong magic is rejected with the bytes found")
  func badMagic() {
    var b = (try? tinyWriter().serialize()) ?? []
    b[3] = 0x47
    #expect(parseError(b) == .badMagic(file: "bad.gguf", found: [0x47, 0x47, 0x55, 0x47]))
  }

  @Test("version 1 is rejected")
  func version1() {
    var r = RawGGUF()
    r.header(version: 1, tensors: 0, kvs: 0)
    #expect(parseError(r.bytes) == .unsupportedVersion(file: "bad.gguf", found: 1))
  }

  @Test("a future version is rejected")
  func version4() {
    var r = RawGGUF()
    r.header(version: 4, tensors: 0, kvs: 0)
    #expect(parseError(r.bytes) == .unsupportedVersion(file: "bad.gguf", found: 4))
  }

  @Test("a big-endian file shows up as an unsupported huge version")
  func bigEndian() {
    var r = RawGGUF()
    r.header(version: UInt32(3).byteSwapped, tensors: 0, kvs: 0)
    #expect(parseError(r.bytes) == .unsupportedVersion(file: "bad.gguf", found: 0x0300_0000))
  }

  @Test("an empty file is truncated at the magic")
  func emptyFile() {
    #expect(parseError([]) == .truncated(file: "bad.gguf", what: "magic", offset: 0, needed: 4, available: 0))
  }

  @Test("a file ending inside the header is truncated at the counts")
  func truncatedHeader() {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 0)
    let e = parseError(Array(r.bytes[0..<12]))
    #expect(e == .truncated(file: "bad.gguf", what: "tensor count", offset: 8, needed: 8, available: 4))
  }

  @Test("an absurd metadata count is bounded by the bytes that remain")
  func absurdKVCount() {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1 << 40)
    #expect(caseName(parseError(r.bytes)) == "countTooLarge")
  }

  @Test("an absurd tensor count is bounded by the bytes that remain")
  func absurdTensorCount() {
    var r = RawGGUF()
    r.header(tensors: UInt64.max, kvs: 0)
    r.bytes += [UInt8](repeating: 0, count: 64)
    #expect(caseName(parseError(r.bytes)) == "countTooLarge")
  }

  // MARK: Keys and values

  @Test("a file ending inside a key is truncated and names the entry")
  func truncatedKey() throws {
    let b = try tinyWriter().serialize()
    let at = try #require(find("llama.block_count", in: b))
    let e = parseError(Array(b[0..<(at + 5)]))
    guard case .truncated(_, let what, _, _, _)? = e else { Issue.record("got \(String(describing: e))"); return }
    #expect(what.contains("key of metadata entry #1"))
  }

  @Test("a file ending inside a value is truncated and names the key")
  func truncatedValue() throws {
    let b = try tinyWriter().serialize()
    let at = try #require(find("llama.block_count", in: b)) + "llama.block_count".utf8.count + 4  // after the type
    let e = parseError(Array(b[0..<(at + 2)]))
    #expect(
      e == .truncated(file: "bad.gguf", what: "value of key 'llama.block_count'", offset: at, needed: 4, available: 2))
    #expect(e?.localizedDescription.contains("llama.block_count") == true)
  }

  @Test("a string length beyond the end of the file is truncation, not a crash")
  func stringLengthBeyondEnd() {
    let b = oneKV(type: 8) { r in
      r.u64(1000); r.bytes += Array("short".utf8)
    }
    guard case .truncated(_, let what, _, let needed, let available)? = parseError(b) else {
      Issue.record("expected truncated"); return
    }
    #expect(what.contains("value of key 'k'") && needed == 1000 && available == 5)
  }

  @Test("a string length near 2^64 is truncation, not an overflow")
  func hugeStringLength() {
    let b = oneKV(type: 8) { r in
      r.u64(.max); r.bytes += [0, 0, 0, 0]
    }
    #expect(caseName(parseError(b)) == "truncated")
  }

  @Test("an unknown metadata value type names the key")
  func unknownValueType() {
    let b = oneKV("general.odd", type: 13) { r in r.u32(0) }
    #expect(parseError(b) == .unknownValueType(file: "bad.gguf", key: "general.odd", found: 13))
  }

  @Test("an unknown array element type names the key")
  func unknownArrayElementType() {
    let b = oneKV("a", type: 9) { r in
      r.u32(99); r.u64(0)
    }
    #expect(parseError(b) == .unknownValueType(file: "bad.gguf", key: "a", found: 99))
  }

  @Test("an absurd array count is bounded by the bytes that remain")
  func absurdArrayCount() {
    let b = oneKV("tokenizer.ggml.tokens", type: 9) { r in
      r.u32(8); r.u64(1 << 50); r.str("x")
    }
    guard case .countTooLarge(_, let what, let count, _)? = parseError(b) else {
      Issue.record("expected countTooLarge"); return
    }
    #expect(what.contains("tokenizer.ggml.tokens") && count == 1 << 50)
  }

  @Test("an array whose last string runs past the end is truncated")
  func truncatedArrayElements() {
    // Two strings need at least 16 bytes and 21 remain, so the count passes; the second string's
    // 5 bytes do not.
    let b = oneKV("a", type: 9) { r in
      r.u32(8); r.u64(2); r.str("abc"); r.u64(5); r.bytes += Array("ab".utf8)
    }
    #expect(
      parseError(b)
        == .truncated(
          file: "bad.gguf", what: "element #1 of key 'a' (5 bytes)", offset: b.count - 2, needed: 5, available: 2))
  }

  @Test("scalar array elements past the end are caught by the count bound")
  func scalarArrayPastEnd() {
    let b = oneKV("a", type: 9) { r in
      r.u32(4); r.u64(3); r.u32(1); r.u32(2); r.u16(0)
    }  // 10 of 12 bytes
    #expect(caseName(parseError(b)) == "countTooLarge")
  }

  @Test("a nested array truncated inside an inner array is truncated")
  func truncatedNestedArray() throws {
    var w = try GGUFWriter()
    try w.add("n", .array(.array([.int32([1, 2]), .string(["abc", "def"])])))
    let b = try w.serialize()
    let at = try #require(find("def", in: b))
    #expect(caseName(parseError(Array(b[0..<(at + 1)]))) == "truncated")
  }

  @Test("arrays nested deeper than the limit are rejected instead of recursing without bound")
  func deepNesting() {
    let b = oneKV("deep", type: 9) { r in
      for _ in 0..<40 { r.u32(9); r.u64(1) }
      r.u32(0); r.u64(0)
    }
    #expect(parseError(b) == .arrayNestingTooDeep(file: "bad.gguf", key: "deep", limit: GGUFLimits.maxArrayNesting))
  }

  @Test("a bool byte other than 0 or 1 is rejected")
  func invalidBool() {
    #expect(parseError(oneKV("flag", type: 7) { $0.u8(2) }) == .invalidBool(file: "bad.gguf", key: "flag", found: 2))
    let arr = oneKV("flags", type: 9) { r in
      r.u32(7); r.u64(2); r.u8(1); r.u8(7)
    }
    #expect(parseError(arr) == .invalidBool(file: "bad.gguf", key: "flags", found: 7))
  }

  @Test("an invalid UTF-8 string value is rejected and names the key")
  func invalidUTF8Value() {
    let b = oneKV("general.name", type: 8) { r in r.strBytes([0x41, 0xC3, 0x28]) }
    #expect(parseError(b) == .invalidUTF8(file: "bad.gguf", what: "value of key 'general.name'"))
  }

  @Test("an invalid UTF-8 key is rejected")
  func invalidUTF8Key() {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1)
    r.strBytes([0x61, 0xFF])
    r.u32(4)
    r.u32(1)
    #expect(parseError(r.bytes) == .invalidUTF8(file: "bad.gguf", what: "key of metadata entry #0"))
  }

  @Test("an invalid UTF-8 string inside an array is rejected")
  func invalidUTF8InArray() {
    let b = oneKV("tokenizer.ggml.tokens", type: 9) { r in
      r.u32(8); r.u64(2); r.str("ok"); r.strBytes([0xED, 0xA0, 0x80])
    }
    #expect(parseError(b) == .invalidUTF8(file: "bad.gguf", what: "element #1 of key 'tokenizer.ggml.tokens'"))
  }

  @Test("a key longer than 65535 bytes is rejected before its bytes are read")
  func keyTooLong() {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1)
    r.u64(70000)
    r.bytes += [UInt8](repeating: 0x61, count: 16)
    #expect(parseError(r.bytes) == .keyTooLong(file: "bad.gguf", length: 70000, limit: 65535))
  }

  @Test("an empty key is rejected")
  func emptyKey() {
    #expect(parseError(oneKV("", type: 4) { $0.u32(1) }) == .emptyKey(file: "bad.gguf", index: 0))
  }

  @Test("a duplicate key is rejected and named")
  func duplicateKey() throws {
    var w = try GGUFWriter()
    try w.add("llama.block_count", .uint32(1))
    try w.add("llama.block_countX", .uint32(2))
    var b = try w.serialize()
    // Rename the second key to the first: shorten its length by one and drop the "X".
    let at = try #require(find("llama.block_countX", in: b))
    putU64(&b, at: at - 8, UInt64("llama.block_count".utf8.count))
    b.remove(at: at + "llama.block_count".utf8.count)
    #expect(parseError(b) == .duplicateKey(file: "bad.gguf", key: "llama.block_count"))
  }

  // MARK: Alignment

  @Test("general.alignment of the wrong type is rejected")
  func alignmentWrongType() {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1)
    r.str("general.alignment")
    r.u32(10)
    r.u64(64)
    #expect(caseName(parseError(r.bytes)) == "badAlignment")
    #expect(parseError(r.bytes)?.localizedDescription.contains("u64") == true)
  }

  @Test("general.alignment of zero is rejected")
  func alignmentZero() {
    var r = RawGGUF()
    r.header(tensors: 0, kvs: 1)
    r.kvU32("general.alignment", 0)
    #expect(parseError(r.bytes) == .badAlignment(file: "bad.gguf", found: "u32 0"))
  }

  @Test("general.alignment that is not a power of two is rejected")
  func alignmentNotPowerOfTwo() throws {
    var w = try GGUFWriter(alignment: 64)
    try w.addTensor("t", dims: [4], values: [1, 2, 3, 4])
    var b = try w.serialize()
    let at = try #require(find("general.alignment", in: b)) + "general.alignment".utf8.count + 4
    putU32(&b, at: at, 48)
    #expect(parseError(b) == .badAlignment(file: "bad.gguf", found: "u32 48"))
  }

  // MARK: Tensor infos

  @Test("a file ending inside the tensor infos is truncated and names the tensor")
  func truncatedTensorInfo() throws {
    let b = try tinyWriter().serialize()
    let at = try #require(find("emb.weight", in: b)) + "emb.weight".utf8.count + 4 + 8  // after ne[0]
    let e = parseError(Array(b[0..<(at + 3)]))
    guard case .truncated(_, let what, _, _, _)? = e else { Issue.record("got \(String(describing: e))"); return }
    #expect(what == "ne[1] of tensor 'emb.weight'")
  }

  @Test("an unknown tensor type is rejected with its id")
  func unknownTensorType() {
    #expect(parseError(oneTensor("w", type: 99)) == .unknownTensorType(file: "bad.gguf", tensor: "w", found: 99))
    #expect(parseError(oneTensor("w", type: 4)) == .unknownTensorType(file: "bad.gguf", tensor: "w", found: 4))
  }

  @Test("more than four dimensions are rejected")
  func tooManyDims() {
    let e = parseError(oneTensor("w", dims: [32, 1, 1, 1, 1]))
    #expect(e == .badDimensionCount(file: "bad.gguf", tensor: "w", found: 5))
  }

  @Test("zero dimensions are rejected")
  func zeroDims() {
    #expect(parseError(oneTensor("w", dims: [])) == .badDimensionCount(file: "bad.gguf", tensor: "w", found: 0))
  }

  @Test("a negative dimension is rejected")
  func negativeDim() {
    #expect(
      parseError(oneTensor("w", dims: [32, -1]))
        == .negativeDimension(file: "bad.gguf", tensor: "w", index: 1, found: -1))
  }

  @Test("ne[0] that is not a multiple of the block size is rejected")
  func rowNotBlockAligned() {
    let e = parseError(oneTensor("blk.0.attn_q.weight", dims: [48, 2], type: 8))
    #expect(
      e == .rowNotBlockAligned(file: "bad.gguf", tensor: "blk.0.attn_q.weight", type: "Q8_0", ne0: 48, blockSize: 32))
    #expect(e?.localizedDescription.contains("blk.0.attn_q.weight") == true)
  }

  @Test("element counts that overflow 64 bits are rejected")
  func sizeOverflow() {
    let e = parseError(oneTensor("w", dims: [1 << 32, 1 << 32, 1 << 32]))
    #expect(e == .sizeOverflow(file: "bad.gguf", tensor: "w"))
  }

  @Test("byte counts that overflow are rejected even when the element count fits")
  func byteSizeOverflow() {
    // 2^62 F32 elements fit in Int, 2^64 bytes do not.
    #expect(parseError(oneTensor("w", dims: [1 << 31, 1 << 31])) == .sizeOverflow(file: "bad.gguf", tensor: "w"))
  }

  @Test("a tensor name longer than 63 bytes is rejected")
  func tensorNameTooLong() {
    let name = String(repeating: "x", count: 64)
    #expect(parseError(oneTensor(name)) == .tensorNameTooLong(file: "bad.gguf", tensor: name, length: 64, limit: 63))
  }

  @Test("an empty tensor name is rejected")
  func emptyTensorName() {
    #expect(parseError(oneTensor("")) == .emptyTensorName(file: "bad.gguf", index: 0))
  }

  @Test("a duplicate tensor name is rejected and named")
  func duplicateTensor() throws {
    var w = try GGUFWriter()
    try w.addTensor("blk.0.w", dims: [4], values: [1, 2, 3, 4])
    try w.addTensor("blk.1.w", dims: [4], values: [1, 2, 3, 4])
    var b = try w.serialize()
    let at = try #require(find("blk.1.w", in: b))
    b[at + 4] = UInt8(ascii: "0")
    #expect(parseError(b) == .duplicateTensor(file: "bad.gguf", tensor: "blk.0.w"))
  }

  @Test("a tensor offset that is not a multiple of the alignment is rejected")
  func misalignedOffset() {
    let e = parseError(oneTensor("w", dims: [4], offset: 8))
    #expect(e == .misalignedTensorOffset(file: "bad.gguf", tensor: "w", offset: 8, alignment: 32))
  }

  @Test("tensor data past the end of the file is rejected")
  func dataPastEnd() throws {
    let b = try tinyWriter().serialize()
    let e = parseError(Array(b.dropLast(40)))  // cuts into emb.weight (68 bytes + padding)
    guard case .tensorDataOutOfRange(_, let tensor, _, _, _)? = e else {
      Issue.record("got \(String(describing: e))"); return
    }
    #expect(tensor == "emb.weight")
  }

  @Test("a tensor offset far beyond the data section is rejected without overflow")
  func offsetBeyondData() {
    let e = parseError(oneTensor("w", dims: [4], offset: UInt64.max - 31))
    #expect(caseName(e) == "tensorDataOutOfRange")
    let e2 = parseError(oneTensor("w", dims: [4], offset: 4096, dataBytes: 64))
    #expect(e2 == .tensorDataOutOfRange(file: "bad.gguf", tensor: "w", start: 4096, end: 4112, dataSize: 64))
  }

  @Test("overlapping tensors are rejected")
  func overlap() {
    var r = RawGGUF()
    r.header(tensors: 2, kvs: 0)
    r.tensorInfo("a", dims: [16], type: 0, offset: 0)  // 64 bytes
    r.tensorInfo("b", dims: [8], type: 0, offset: 32)
    r.pad(to: 32)
    r.bytes += [UInt8](repeating: 0, count: 128)
    #expect(parseError(r.bytes) == .tensorsOverlap(file: "bad.gguf", first: "a", second: "b"))
  }

  // MARK: Files on disk

  @Test("a missing path and a directory fail with cannotOpen naming the path")
  func cannotOpen() {
    #expect(errorCase { _ = try GGUFFile(path: "/nonexistent/model.gguf") } == "cannotOpen")
    #expect(errorCase { _ = try GGUFFile(path: NSTemporaryDirectory()) } == "cannotOpen")
    let msg = GGUFError.cannotOpen(file: "/x.gguf", reason: "No such file or directory").localizedDescription
    #expect(msg.contains("/x.gguf"))
  }

  @Test("an empty file on disk is reported as truncated")
  func emptyFileOnDisk() throws {
    let path = NSTemporaryDirectory() + "gguf-empty-\(getpid()).gguf"
    #expect(FileManager.default.createFile(atPath: path, contents: Data()))
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(errorCase { _ = try GGUFFile(path: path) } == "truncated")
  }

  // MARK: Never crash

  @Test("every truncation of a valid file throws a GGUFError and never traps")
  func everyPrefix() throws {
    let b = try tinyWriter().serialize()
    let f = try GGUFFile(bytes: b)
    // Cuts inside the header and the infos must all fail; cuts inside padding after the last
    // tensor's bytes may legitimately succeed.
    let lastDataEnd = f.dataOffset + f.tensors.map { $0.offset + $0.byteCount }.max()!
    for n in 0..<lastDataEnd {
      let e = parseError(Array(b[0..<n]))
      #expect(e != nil, "prefix of \(n) bytes parsed")
    }
  }

  @Test("random byte corruption of a valid file never traps")
  func randomCorruption() throws {
    let good = try tinyWriter().serialize()
    var rng = SplitMix64(seed: 2024)
    var failures = 0
    for _ in 0..<400 {
      var b = good
      for _ in 0..<(1 + rng.int(4)) { b[rng.int(b.count)] = rng.byte() }
      if let f = try? GGUFFile(bytes: b, name: "fuzz") {
        // Whatever parsed must also dequantize or throw, never trap.
        for t in f.tensors { _ = try? f.dequantize(t) }
        _ = f.summary()
      } else {
        failures += 1
      }
    }
    #expect(failures > 0)
  }
}
