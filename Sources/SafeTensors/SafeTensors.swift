// SafeTensors.swift: reader and writer of the safetensors format (Hugging Face).
//
// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data buffer.
// The JSON maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
// the data buffer) plus an optional "__metadata__" string-to-string map.
//
// Reader invariants (checked once on open, so later accessors cannot go out of range):
// - N fits in the file and is at most 100 MB; the header is a JSON object.
// - Every tensor has a known dtype, non-negative integer dims, begin <= end <= data size and
//   end - begin == product(shape) * dtype size.
// - Tensor byte ranges do not overlap and together cover the data buffer exactly (the format
//   forbids holes, which would allow polyglot files).
// Writer invariants: keys sorted by name, data in the same order, header padded with spaces so
// the data starts at an 8-byte aligned offset; same inputs give the same bytes.
import Foundation
import Workspace

/// Element types this reader understands.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
  case F32, F16, BF16, I64

  public var byteSize: Int {
    switch self {
    case .F32: return 4
    case .F16, .BF16: return 2
    case .I64: return 8
    }
  }
}

/// One tensor entry of the header.
public struct SafeTensorInfo: Sendable, Equatable {
  public let name: String
  public let dtype: SafeTensorsDType
  public let shape: [Int]
  /// Byte range within the data buffer (after the header).
  public let dataOffsets: Range<Int>
  public var elementCount: Int { shape.reduce(1, *) }
}

public enum SafeTensorsError: Error, LocalizedError, Equatable {
  case fileUnreadable(path: String, message: String)
  case tooShort(size: Int)
  case headerTooLarge(headerSize: UInt64, available: Int)
  case headerNotJSON(message: String)
  case headerNotObject
  case badEntry(tensor: String, field: String, found: String)
  case unknownDType(tensor: String, dtype: String)
  case badMetadata(found: String)
  case offsetsOutOfRange(tensor: String, begin: Int, end: Int, dataSize: Int)
  case sizeMismatch(tensor: String, expectedBytes: Int, foundBytes: Int)
  case overlap(tensor: String, other: String)
  case unindexedBytes(at: Int, dataSize: Int)
  case missingTensor(name: String)
  case wrongDType(tensor: String, expected: String, found: String)
  case invalidTensor(name: String, message: String)

  public var errorDescription: String? {
    switch self {
    case .fileUnreadable(let path, let message): return "\(path): cannot read safetensors file: \(message)"
    case .tooShort(let size): return "safetensors: file of \(size) bytes is shorter than the 8-byte header length"
    case .headerTooLarge(let n, let available):
      return "safetensors: header length \(n) exceeds the \(available) bytes after it (or the 100 MB limit)"
    case .headerNotJSON(let message): return "safetensors: header is not valid JSON: \(message)"
    case .headerNotObject: return "safetensors: header JSON is not an object"
    case .badEntry(let tensor, let field, let found):
      return "safetensors: tensor '\(tensor)': field '\(field)' is invalid (found \(found))"
    case .unknownDType(let tensor, let dtype):
      return "safetensors: tensor '\(tensor)': dtype '\(dtype)', expected one of F32, F16, BF16, I64"
    case .badMetadata(let found): return "safetensors: __metadata__ must map strings to strings, found \(found)"
    case .offsetsOutOfRange(let tensor, let begin, let end, let size):
      return "safetensors: tensor '\(tensor)': data_offsets [\(begin), \(end)] outside the data buffer of \(size) bytes"
    case .sizeMismatch(let tensor, let expected, let found):
      return "safetensors: tensor '\(tensor)': shape and dtype need \(expected) bytes, data_offsets span \(found)"
    case .overlap(let tensor, let other):
      return "safetensors: tensor '\(tensor)' overlaps tensor '\(other)'"
    case .unindexedBytes(let at, let size):
      return "safetensors: data bytes from offset \(at) are not covered by any tensor (data buffer \(size) bytes)"
    case .missingTensor(let name): return "safetensors: no tensor named '\(name)'"
    case .wrongDType(let tensor, let expected, let found):
      return "safetensors: tensor '\(tensor)': expected dtype \(expected), found \(found)"
    case .invalidTensor(let name, let message): return "safetensors: tensor '\(name)': \(message)"
    }
  }
}

/// A parsed safetensors file. The bytes are kept (memory-mapped when read from disk).
public struct SafeTensorsFile: Sendable {
  public let tensors: [String: SafeTensorInfo]
  public let metadata: [String: String]
  private let bytes: Data
  private let dataStart: Int

  /// Tensor names in sorted order.
  public var names: [String] { tensors.keys.sorted() }

  public init(contentsOf url: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
      throw SafeTensorsError.fileUnreadable(path: url.path, message: error.localizedDescription)
    }
    try self.init(data: data)
  }

  public init(data: Data) throws {
    // Re-base so indices start at 0 whatever slice we were given.
    let bytes = data.startIndex == 0 ? data : Data(data)
    guard bytes.count >= 8 else { throw SafeTensorsError.tooShort(size: bytes.count) }
    var n: UInt64 = 0
    for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    let available = bytes.count - 8
    guard n <= 100_000_000, n <= UInt64(available) else {
      throw SafeTensorsError.headerTooLarge(headerSize: n, available: available)
    }
    let headerEnd = 8 + Int(n)
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<headerEnd), options: [])
    } catch {
      throw SafeTensorsError.headerNotJSON(message: error.localizedDescription)
    }
    guard let object = json as? [String: Any] else { throw SafeTensorsError.headerNotObject }
    let dataSize = bytes.count - headerEnd

    var tensors: [String: SafeTensorInfo] = [:]
    var metadata: [String: String] = [:]
    for (name, value) in object {
      if name == "__metadata__" {
        guard let map = value as? [String: Any] else { throw SafeTensorsError.badMetadata(found: "\(value)") }
        for (k, v) in map {
          guard let s = v as? String else { throw SafeTensorsError.badMetadata(found: "\(k): \(v)") }
          metadata[k] = s
        }
        continue
      }
      tensors[name] = try SafeTensorsFile.parseEntry(name: name, value: value, dataSize: dataSize)
    }
    // Non-overlap and full coverage: sorted by begin, each must start where the previous ended.
    let ordered = tensors.values.sorted {
      ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
        < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
    }
    var cursor = 0
    var previous: SafeTensorInfo?
    for t in ordered {
      if t.dataOffsets.lowerBound < cursor, let p = previous {
        throw SafeTensorsError.overlap(tensor: t.name, other: p.name)
      }
      if t.dataOffsets.lowerBound > cursor { throw SafeTensorsError.unindexedBytes(at: cursor, dataSize: dataSize) }
      cursor = t.dataOffsets.upperBound
      previous = t
    }
    if cursor != dataSize { throw SafeTensorsError.unindexedBytes(at: cursor, dataSize: dataSize) }

    self.tensors = tensors
    self.metadata = metadata
    self.bytes = bytes
    self.dataStart = headerEnd
  }

  private static func integer(_ v: Any) -> Int? {
    // JSONSerialization gives NSNumber; reject booleans, fractions and negatives.
    guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
    let d = n.doubleValue
    guard d >= 0, d <= 9.0e15, d == d.rounded() else { return nil }
    return Int(d)
  }

  private static func parseEntry(name: String, value: Any, dataSize: Int) throws -> SafeTensorInfo {
    guard let entry = value as? [String: Any] else {
      throw SafeTensorsError.badEntry(tensor: name, field: "(entry)", found: "\(value)")
    }
    guard let dtypeName = entry["dtype"] as? String else {
      throw SafeTensorsError.badEntry(tensor: name, field: "dtype", found: "\(entry["dtype"] ?? "nothing")")
    }
    guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
      throw SafeTensorsError.unknownDType(tensor: name, dtype: dtypeName)
    }
    guard let shapeArray = entry["shape"] as? [Any] else {
      throw SafeTensorsError.badEntry(tensor: name, field: "shape", found: "\(entry["shape"] ?? "nothing")")
    }
    var shape: [Int] = []
    var count = 1
    for d in shapeArray {
      guard let dim = integer(d) else {
        throw SafeTensorsError.badEntry(tensor: name, field: "shape", found: "\(shapeArray)")
      }
      let (product, overflow) = count.multipliedReportingOverflow(by: dim)
      guard !overflow, product <= Int(Int32.max) * 64 else {
        throw SafeTensorsError.badEntry(tensor: name, field: "shape", found: "\(shapeArray)")
      }
      count = product
      shape.append(dim)
    }
    guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
      let begin = integer(offsets[0]), let end = integer(offsets[1])
    else {
      throw SafeTensorsError.badEntry(
        tensor: name, field: "data_offsets", found: "\(entry["data_offsets"] ?? "nothing")")
    }
    guard begin <= end, end <= dataSize else {
      throw SafeTensorsError.offsetsOutOfRange(tensor: name, begin: begin, end: end, dataSize: dataSize)
    }
    let expected = count * dtype.byteSize
    guard end - begin == expected else {
      throw SafeTensorsError.sizeMismatch(tensor: name, expectedBytes: expected, foundBytes: end - begin)
    }
    return SafeTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
  }

  public func info(_ name: String) throws -> SafeTensorInfo {
    guard let t = tensors[name] else { throw SafeTensorsError.missingTensor(name: name) }
    return t
  }

  /// The tensor's raw little-endian bytes.
  public func rawBytes(_ name: String) throws -> Data {
    let t = try info(name)
    return bytes.subdata(in: (dataStart + t.dataOffsets.lowerBound)..<(dataStart + t.dataOffsets.upperBound))
  }

  /// The tensor as Float, row-major; F16 and BF16 are widened exactly. I64 is rejected (use `int64s`).
  public func floats(_ name: String) throws -> [Float] {
    let t = try info(name)
    let n = t.elementCount
    let base = dataStart + t.dataOffsets.lowerBound
    let values = bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float]? in
      let p = raw.baseAddress! + base
      switch t.dtype {
      case .F32:
        return [Float](unsafeUninitializedCapacity: n) { out, count in
          for i in 0..<n {
            out[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
          }
          count = n
        }
      case .F16:
        return [Float](unsafeUninitializedCapacity: n) { out, count in
          for i in 0..<n {
            out[i] = Float(halfBits: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
          }
          count = n
        }
      case .BF16:
        return [Float](unsafeUninitializedCapacity: n) { out, count in
          for i in 0..<n {
            let b = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            out[i] = Float(bitPattern: UInt32(b) << 16)
          }
          count = n
        }
      case .I64:
        return nil
      }
    }
    guard let values else {
      throw SafeTensorsError.wrongDType(tensor: name, expected: "F32, F16 or BF16", found: t.dtype.rawValue)
    }
    return values
  }

  /// An I64 tensor's values.
  public func int64s(_ name: String) throws -> [Int64] {
    let t = try info(name)
    guard t.dtype == .I64 else {
      throw SafeTensorsError.wrongDType(tensor: name, expected: "I64", found: t.dtype.rawValue)
    }
    let base = dataStart + t.dataOffsets.lowerBound
    return bytes.withUnsafeBytes { raw in
      (0..<t.elementCount).map {
        Int64(littleEndian: (raw.baseAddress! + base).loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))
      }
    }
  }
}

extension Float {
  /// IEEE 754 binary16 bits to Float (exact; handles subnormals, infinities and NaN).
  /// Written out rather than using `Float16` so the module builds on every platform.
  init(halfBits h: UInt16) {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1F)
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
      // Subnormal or zero: mant * 2^-24.
      let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
      self = sign != 0 ? -v : v
    } else if exp == 31 {
      self = Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))
    } else {
      self = Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }
  }
}

/// A Float tensor to write.
public struct SafeTensorsF32: Sendable, Equatable {
  public var shape: [Int]
  public var values: [Float]  // row-major, count == product(shape)
  public init(shape: [Int], values: [Float]) {
    self.shape = shape
    self.values = values
  }
}

public enum SafeTensorsWriter {
  /// Serialises F32 tensors (sorted by name) and a `__metadata__` map (omitted when empty).
  public static func serialize(_ tensors: [String: SafeTensorsF32], metadata: [String: String] = [:]) throws -> Data {
    let names = tensors.keys.sorted()
    var header = "{"
    var first = true
    if !metadata.isEmpty {
      header += "\"__metadata__\":{"
      header += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
      header += "}"
      first = false
    }
    var offset = 0
    for name in names {
      let t = tensors[name]!
      guard name != "__metadata__" else { throw SafeTensorsError.invalidTensor(name: name, message: "reserved name") }
      guard t.shape.allSatisfy({ $0 >= 0 }), t.shape.reduce(1, *) == t.values.count else {
        throw SafeTensorsError.invalidTensor(
          name: name, message: "shape \(t.shape) does not hold \(t.values.count) values")
      }
      let size = t.values.count * 4
      if !first { header += "," }
      first = false
      header += "\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
      header += "\"data_offsets\":[\(offset),\(offset + size)]}"
      offset += size
    }
    header += "}"
    var headerBytes = Array(header.utf8)
    // Pad with spaces (allowed trailing JSON whitespace) so the data starts 8-byte aligned.
    while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
    var out = Data(capacity: 8 + headerBytes.count + offset)
    var n = UInt64(headerBytes.count).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(contentsOf: headerBytes)
    for name in names {
      tensors[name]!.values.withUnsafeBufferPointer { buf in
        for v in buf {
          var bits = v.bitPattern.littleEndian
          withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
        }
      }
    }
    return out
  }

  /// Serialises and writes atomically (temp file + rename).
  public static func write(_ tensors: [String: SafeTensorsF32], metadata: [String: String] = [:], to url: URL) throws {
    let data = try serialize(tensors, metadata: metadata)
    do { try data.write(to: url, options: .atomic) } catch {
      throw SafeTensorsError.fileUnreadable(path: url.path, message: "write failed: \(error.localizedDescription)")
    }
  }

  /// JSON string literal (the escapes serde_json writes).
  static func jsonString(_ s: String) -> String { JSONText.quote(s) }
}
