// GGUFWriter.swift: builds GGUF v3 files (little-endian), mainly tiny models for tests.
//
// Output layout is what gguf.cpp and gguf-py write: header, KVs in insertion order, tensor infos in
// insertion order, zero padding to the alignment, then each tensor's bytes padded with zeros to the
// alignment, so offsets are contiguous multiples of the alignment. When the alignment is not the
// default 32, `general.alignment` (u32) is written first unless the caller set it (it must agree).
// The writer validates its input with the reader's rules (unique keys and names, 1...4 dims,
// ne[0] a multiple of the block size, value/byte counts matching the shape), so whatever it
// serializes the reader accepts.
import Foundation

public struct GGUFWriter: Sendable {
  public struct Tensor: Sendable, Equatable {
    public let name: String
    /// ggml `ne`: innermost first (a PyTorch [out, in] weight is [in, out]).
    public let dims: [Int]
    public let type: GGUFType
    public let bytes: [UInt8]
  }

  public let alignment: Int
  public var version: UInt32 = 3
  public private(set) var metadata = GGUFMetadata(displayName: "GGUFWriter")
  public private(set) var tensors: [Tensor] = []
  private var tensorNames: Set<String> = []

  /// `alignment` must be a nonzero power of two.
  public init(alignment: Int = GGUFLimits.defaultAlignment) throws {
    guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= Int(UInt32.max) else {
      throw GGUFError.badAlignment(file: "GGUFWriter", found: "\(alignment)")
    }
    self.alignment = alignment
  }

  /// Adds a metadata entry (any type, including nested arrays). Keys must be unique and non-empty.
  public mutating func add(_ key: String, _ value: GGUFValue) throws {
    guard !key.isEmpty else { throw GGUFError.emptyKey(file: "GGUFWriter", index: metadata.count) }
    guard key.utf8.count <= GGUFLimits.maxKeyBytes else {
      throw GGUFError.keyTooLong(file: "GGUFWriter", length: UInt64(key.utf8.count), limit: GGUFLimits.maxKeyBytes)
    }
    try metadata.append(key, value)
  }

  // Conveniences; numbers go through GGUFValue so the stored type is explicit (.uint32(30)).
  public mutating func add(_ key: String, _ value: String) throws { try add(key, .string(value)) }
  public mutating func add(_ key: String, _ value: Bool) throws { try add(key, .bool(value)) }
  public mutating func add(_ key: String, _ value: [String]) throws { try add(key, .array(.string(value))) }

  /// Adds a tensor from fp32 values (ne[0] contiguous), encoded as `type`: quantized with the
  /// reference quantizers for Q8_0/Q4_0/Q4_1/Q5_0/Q5_1, converted for F32/F16/BF16.
  public mutating func addTensor(_ name: String, dims: [Int], values: [Float], type: GGUFType = .f32) throws {
    let elements = try checkShape(name, dims: dims, type: type)
    guard values.count == elements else {
      throw GGUFError.valueCountMismatch(file: "GGUFWriter", tensor: name, expected: elements, found: values.count)
    }
    let bytes = try quantize(values, to: type, name: name)
    tensors.append(Tensor(name: name, dims: dims, type: type, bytes: bytes))
    tensorNames.insert(name)
  }

  /// Adds a tensor from already-encoded bytes of any known type (e.g. hand-built Q4_K blocks).
  public mutating func addTensor(_ name: String, dims: [Int], type: GGUFType, rawBytes: [UInt8]) throws {
    let elements = try checkShape(name, dims: dims, type: type)
    guard let need = type.byteCount(elements: elements), need == rawBytes.count else {
      throw GGUFError.invalidTensorShape(
        file: "GGUFWriter", tensor: name,
        reason:
          "\(elements) \(type.name) elements need \(type.byteCount(elements: elements) ?? -1) bytes, found \(rawBytes.count)"
      )
    }
    tensors.append(Tensor(name: name, dims: dims, type: type, bytes: rawBytes))
    tensorNames.insert(name)
  }

  private func checkShape(_ name: String, dims: [Int], type: GGUFType) throws -> Int {
    guard !name.isEmpty else { throw GGUFError.emptyTensorName(file: "GGUFWriter", index: tensors.count) }
    guard name.utf8.count <= GGUFLimits.maxTensorNameBytes else {
      throw GGUFError.tensorNameTooLong(
        file: "GGUFWriter", tensor: name, length: name.utf8.count, limit: GGUFLimits.maxTensorNameBytes)
    }
    guard !tensorNames.contains(name) else { throw GGUFError.duplicateTensor(file: "GGUFWriter", tensor: name) }
    guard (1...GGUFLimits.maxDimensions).contains(dims.count) else {
      throw GGUFError.badDimensionCount(file: "GGUFWriter", tensor: name, found: UInt32(clamping: dims.count))
    }
    for (i, d) in dims.enumerated() where d < 0 {
      throw GGUFError.negativeDimension(file: "GGUFWriter", tensor: name, index: i, found: Int64(d))
    }
    guard dims[0] % type.blockSize == 0 else {
      throw GGUFError.rowNotBlockAligned(
        file: "GGUFWriter", tensor: name, type: type.name, ne0: dims[0], blockSize: type.blockSize)
    }
    var n = 1
    for d in dims {
      let (p, o) = n.multipliedReportingOverflow(by: d)
      guard !o else { throw GGUFError.sizeOverflow(file: "GGUFWriter", tensor: name) }
      n = p
    }
    return n
  }

  /// The whole file.
  public func serialize() throws -> [UInt8] {
    var kvs: [(String, GGUFValue)] = metadata.keys.compactMap { k in metadata.value(k).map { (k, $0) } }
    if let a = metadata.value("general.alignment") {
      guard a == .uint32(UInt32(alignment)) else {
        throw GGUFError.badAlignment(
          file: "GGUFWriter", found: "general.alignment = \(a.preview()) but the writer aligns to \(alignment)")
      }
    } else if alignment != GGUFLimits.defaultAlignment {
      kvs.insert(("general.alignment", .uint32(UInt32(alignment))), at: 0)
    }

    var out: [UInt8] = []
    out.append(contentsOf: GGUFLimits.magic)
    put(&out, version)
    put(&out, UInt64(tensors.count))
    put(&out, UInt64(kvs.count))
    for (k, v) in kvs {
      putString(&out, k)
      put(&out, v.type.rawValue)
      putValue(&out, v)
    }
    var offset = 0
    var offsets: [Int] = []
    for t in tensors {
      putString(&out, t.name)
      put(&out, UInt32(t.dims.count))
      for d in t.dims { put(&out, Int64(d)) }
      put(&out, t.type.rawValue)
      put(&out, UInt64(offset))
      offsets.append(offset)
      offset += padded(t.bytes.count)
    }
    out.append(contentsOf: [UInt8](repeating: 0, count: padded(out.count) - out.count))
    for t in tensors {
      out.append(contentsOf: t.bytes)
      out.append(contentsOf: [UInt8](repeating: 0, count: padded(t.bytes.count) - t.bytes.count))
    }
    return out
  }

  public func serializedData() throws -> Data { Data(try serialize()) }

  public func write(to path: String) throws {
    let bytes = try serialize()
    do {
      try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw GGUFError.writeFailed(file: path, reason: error.localizedDescription)
    }
  }

  private func padded(_ n: Int) -> Int { n + (alignment - n % alignment) % alignment }
}

private func put<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
  withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
}

private func putString(_ out: inout [UInt8], _ s: String) {
  put(&out, UInt64(s.utf8.count))
  out.append(contentsOf: s.utf8)
}

private func putValue(_ out: inout [UInt8], _ v: GGUFValue) {
  switch v {
  case .uint8(let x): put(&out, x)
  case .int8(let x): put(&out, x)
  case .uint16(let x): put(&out, x)
  case .int16(let x): put(&out, x)
  case .uint32(let x): put(&out, x)
  case .int32(let x): put(&out, x)
  case .uint64(let x): put(&out, x)
  case .int64(let x): put(&out, x)
  case .float32(let x): put(&out, x.bitPattern)
  case .float64(let x): put(&out, x.bitPattern)
  case .bool(let x): put(&out, UInt8(x ? 1 : 0))
  case .string(let s): putString(&out, s)
  case .array(let a): putArray(&out, a)
  }
}

private func putArray(_ out: inout [UInt8], _ a: GGUFArray) {
  put(&out, a.elementType.rawValue)
  put(&out, UInt64(a.count))
  switch a {
  case .uint8(let xs): out.append(contentsOf: xs)
  case .int8(let xs): for x in xs { put(&out, x) }
  case .uint16(let xs): for x in xs { put(&out, x) }
  case .int16(let xs): for x in xs { put(&out, x) }
  case .uint32(let xs): for x in xs { put(&out, x) }
  case .int32(let xs): for x in xs { put(&out, x) }
  case .uint64(let xs): for x in xs { put(&out, x) }
  case .int64(let xs): for x in xs { put(&out, x) }
  case .float32(let xs): for x in xs { put(&out, x.bitPattern) }
  case .float64(let xs): for x in xs { put(&out, x.bitPattern) }
  case .bool(let xs): for x in xs { put(&out, UInt8(x ? 1 : 0)) }
  case .string(let xs): for s in xs { putString(&out, s) }
  case .array(let xs): for x in xs { putArray(&out, x) }
  }
}
