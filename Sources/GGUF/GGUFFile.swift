// GGUFFile.swift: a validating, memory-mapped GGUF reader.
//
// File structure (ggml include/gguf.h, little-endian):
//   1. magic "GGUF" (4 bytes)            2. version (u32; 2 and 3 accepted, 1 rejected)
//   3. tensor count (i64)                4. metadata KV count (i64)
//   5. per KV: key (string), value type (u32), value (arrays: element type u32, count u64, elements)
//   6. per tensor: name (string), n_dims (u32), ne[n_dims] (i64), type (u32 ggml_type),
//      offset (u64, relative to the data section, multiple of the alignment)
//   7. padding with zeros to `general.alignment` (u32, power of two; default 32), then tensor data.
//   Strings are a u64 byte length then UTF-8 bytes without terminator.
//
// Invariants after a successful init: every count was bounded by the bytes that remained before it
// was trusted; every string is valid UTF-8; keys and tensor names are unique; every tensor has
// 1...4 non-negative dims, a known type, ne[0] a multiple of the block size, a byte size that does
// not overflow, an aligned offset, and data bytes that lie inside the file and overlap no other
// tensor. So `tensorData(_:)` and the dequantizers can index the mapping without further checks.
// The mapping (or the in-memory copy) lives as long as the GGUFFile.
import Foundation
import Tensor

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One tensor's header entry. `dims` is ggml's `ne`: innermost (contiguous) first, so a PyTorch
/// `[out, in]` Linear weight has `dims == [in, out]` (differs from PyTorch's shape order).
public struct GGUFTensorInfo: Equatable, Sendable {
  public let name: String
  public let dims: [Int]
  public let type: GGUFType
  /// Byte offset relative to the start of the data section.
  public let offset: Int
  public let elementCount: Int
  public let byteCount: Int

  /// Elements per row (ne[0]).
  public var rowLength: Int { dims.first ?? 0 }
  /// Rows: ne[1] * ne[2] * ne[3].
  public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }
  public var rowByteCount: Int { rowLength / type.blockSize * type.bytesPerBlock }
}

/// Read access to metadata with typed, throwing lookups; implemented by `GGUFFile` and
/// `GGUFMetadata`.
public protocol GGUFMetadataReading {
  /// File path or display name, used in errors.
  var displayName: String { get }
  func value(_ key: String) -> GGUFValue?
}

/// Metadata in file order plus a dictionary for lookups.
public struct GGUFMetadata: GGUFMetadataReading, Equatable, Sendable {
  public let displayName: String
  public private(set) var keys: [String] = []
  public private(set) var values: [String: GGUFValue] = [:]

  public init(displayName: String) { self.displayName = displayName }

  public func value(_ key: String) -> GGUFValue? { values[key] }
  public var count: Int { keys.count }

  /// Appends a new key; throws `duplicateKey` if present.
  public mutating func append(_ key: String, _ value: GGUFValue) throws {
    guard values[key] == nil else { throw GGUFError.duplicateKey(file: displayName, key: key) }
    keys.append(key)
    values[key] = value
  }
}

/// Bytes the reader parses: an mmap'd file or a 64-byte aligned copy of in-memory bytes.
final class GGUFStorage: @unchecked Sendable {
  let base: UnsafeRawPointer
  let count: Int
  private let mapped: Bool

  init(path: String) throws {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw GGUFError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw GGUFError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw GGUFError.cannotOpen(file: path, reason: "not a regular file")
    }
    let size = Int(st.st_size)
    if size == 0 {
      // mmap of zero bytes fails; an empty file is reported as truncated by the parser.
      let p = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
      base = UnsafeRawPointer(p)
      count = 0
      mapped = false
      return
    }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw GGUFError.cannotOpen(file: path, reason: "mmap: " + String(cString: strerror(errno)))
    }
    base = UnsafeRawPointer(p)
    count = size
    mapped = true
  }

  init(bytes: UnsafeRawBufferPointer) {
    let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
    if let src = bytes.baseAddress, bytes.count > 0 { p.copyMemory(from: src, byteCount: bytes.count) }
    base = UnsafeRawPointer(p)
    count = bytes.count
    mapped = false
  }

  deinit {
    if mapped {
      munmap(UnsafeMutableRawPointer(mutating: base), count)
    } else {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    }
  }
}

/// A bounds-checked little-endian reader over the storage. Every read states what it reads so
/// that truncation errors say where.
struct GGUFCursor {
  let base: UnsafeRawPointer
  let count: Int
  let file: String
  var offset = 0

  var remaining: Int { count - offset }

  func need(_ n: UInt64, _ what: @autoclosure () -> String) throws {
    if n > UInt64(remaining) {
      throw GGUFError.truncated(file: file, what: what(), offset: offset, needed: n, available: remaining)
    }
  }

  mutating func scalar<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
    try need(UInt64(MemoryLayout<T>.size), what())
    let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
    offset += MemoryLayout<T>.size
    return T(littleEndian: v)
  }

  mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
    try need(UInt64(n), what())
    let b = UnsafeRawBufferPointer(start: base + offset, count: n)
    offset += n
    return b
  }

  /// u64 length + UTF-8 bytes. `limit` is checked before the bytes are (a too-long key is
  /// reported as such even when the file also ends early).
  mutating func string(
    _ what: @autoclosure () -> String, limit: Int? = nil, tooLong: ((UInt64) -> GGUFError)? = nil
  ) throws -> String {
    let n = try scalar(UInt64.self, "length of " + what())
    if let limit, n > UInt64(limit), let tooLong { throw tooLong(n) }
    try need(n, what() + " (\(n) bytes)")
    let raw = try bytes(Int(n), what())
    guard let s = String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self) else {
      throw GGUFError.invalidUTF8(file: file, what: what())
    }
    return s
  }
}

public final class GGUFFile: GGUFMetadataReading, @unchecked Sendable {
  /// Path or display name, used in every error.
  public let displayName: String
  public let version: UInt32
  public let metadata: GGUFMetadata
  /// Tensor infos in file order. Look tensors up by name: order is not meaningful.
  public let tensors: [GGUFTensorInfo]
  public let alignment: Int
  /// Absolute byte offset of the data section (align(end of tensor infos)).
  public let dataOffset: Int
  public let fileSize: Int

  private let storage: GGUFStorage
  private let tensorIndex: [String: Int]

  /// Memory-maps `path` read-only and validates the whole header.
  public convenience init(path: String) throws {
    try self.init(storage: GGUFStorage(path: path), name: path)
  }

  /// Parses in-memory bytes (copied); `name` appears in errors.
  public convenience init(bytes: [UInt8], name: String = "<memory>") throws {
    let storage = bytes.withUnsafeBytes { GGUFStorage(bytes: $0) }
    try self.init(storage: storage, name: name)
  }

  public convenience init(data: Data, name: String = "<memory>") throws {
    let storage = data.withUnsafeBytes { GGUFStorage(bytes: $0) }
    try self.init(storage: storage, name: name)
  }

  private init(storage: GGUFStorage, name: String) throws {
    _ = GGUFLayout.verified
    self.storage = storage
    self.displayName = name
    self.fileSize = storage.count
    var c = GGUFCursor(base: storage.base, count: storage.count, file: name)

    // Header.
    let magic = try c.bytes(4, "magic")
    guard Array(magic) == GGUFLimits.magic else { throw GGUFError.badMagic(file: name, found: Array(magic)) }
    let version = try c.scalar(UInt32.self, "version")
    guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(file: name, found: version) }
    self.version = version
    let nTensors = try c.scalar(UInt64.self, "tensor count")
    let nKV = try c.scalar(UInt64.self, "metadata count")
    // Smallest KV: key length (8) + type (4) + u8 value (1). The tensor count is bounded after
    // the KVs, where the infos start.
    guard nKV <= UInt64(c.remaining / 13) else {
      throw GGUFError.countTooLarge(file: name, what: "metadata count", count: nKV, remainingBytes: c.remaining)
    }

    // Metadata.
    var md = GGUFMetadata(displayName: name)
    for i in 0..<Int(nKV) {
      let key = try c.string(
        "key of metadata entry #\(i)", limit: GGUFLimits.maxKeyBytes,
        tooLong: { GGUFError.keyTooLong(file: name, length: $0, limit: GGUFLimits.maxKeyBytes) })
      guard !key.isEmpty else { throw GGUFError.emptyKey(file: name, index: i) }
      guard md.value(key) == nil else { throw GGUFError.duplicateKey(file: name, key: key) }
      let rawType = try c.scalar(UInt32.self, "value type of key '\(key)'")
      guard let type = GGUFValueType(rawValue: rawType) else {
        throw GGUFError.unknownValueType(file: name, key: key, found: rawType)
      }
      let value = try Self.readValue(&c, type: type, key: key, depth: 0)
      try md.append(key, value)
    }
    self.metadata = md

    // Alignment (gguf.cpp: must be UINT32, nonzero, power of two).
    var alignment = GGUFLimits.defaultAlignment
    if let a = md.value("general.alignment") {
      guard case .uint32(let v) = a else {
        throw GGUFError.badAlignment(file: name, found: "type \(a.typeName) (\(a.preview()))")
      }
      guard v != 0, v & (v - 1) == 0 else { throw GGUFError.badAlignment(file: name, found: "u32 \(v)") }
      alignment = Int(v)
    }
    self.alignment = alignment

    // Tensor infos. Smallest: name length (8) + n_dims (4) + one ne (8) + type (4) + offset (8).
    guard nTensors <= UInt64(c.remaining / 32) else {
      throw GGUFError.countTooLarge(file: name, what: "tensor count", count: nTensors, remainingBytes: c.remaining)
    }
    var infos: [GGUFTensorInfo] = []
    var index: [String: Int] = [:]
    infos.reserveCapacity(Int(nTensors))
    for i in 0..<Int(nTensors) {
      let tname = try c.string("name of tensor #\(i)")
      guard !tname.isEmpty else { throw GGUFError.emptyTensorName(file: name, index: i) }
      guard tname.utf8.count <= GGUFLimits.maxTensorNameBytes else {
        throw GGUFError.tensorNameTooLong(
          file: name, tensor: tname, length: tname.utf8.count, limit: GGUFLimits.maxTensorNameBytes)
      }
      guard index[tname] == nil else { throw GGUFError.duplicateTensor(file: name, tensor: tname) }
      let nDims = try c.scalar(UInt32.self, "n_dims of tensor '\(tname)'")
      guard nDims >= 1, nDims <= UInt32(GGUFLimits.maxDimensions) else {
        throw GGUFError.badDimensionCount(file: name, tensor: tname, found: nDims)
      }
      var dims: [Int] = []
      for d in 0..<Int(nDims) {
        let ne = try c.scalar(Int64.self, "ne[\(d)] of tensor '\(tname)'")
        guard ne >= 0 else { throw GGUFError.negativeDimension(file: name, tensor: tname, index: d, found: ne) }
        dims.append(Int(ne))
      }
      let rawType = try c.scalar(UInt32.self, "type of tensor '\(tname)'")
      guard let type = GGUFType(rawValue: rawType) else {
        throw GGUFError.unknownTensorType(file: name, tensor: tname, found: rawType)
      }
      let offset = try c.scalar(UInt64.self, "data offset of tensor '\(tname)'")
      guard dims[0] % type.blockSize == 0 else {
        throw GGUFError.rowNotBlockAligned(
          file: name, tensor: tname, type: type.name, ne0: dims[0], blockSize: type.blockSize)
      }
      var elements = 1
      for d in dims {
        let (p, o) = elements.multipliedReportingOverflow(by: d)
        guard !o else { throw GGUFError.sizeOverflow(file: name, tensor: tname) }
        elements = p
      }
      guard let bytes = type.byteCount(elements: elements) else {
        throw GGUFError.sizeOverflow(file: name, tensor: tname)
      }
      guard offset % UInt64(alignment) == 0 else {
        throw GGUFError.misalignedTensorOffset(file: name, tensor: tname, offset: offset, alignment: alignment)
      }
      // Range is checked below, once the data section start is known; until then the offset is
      // kept as UInt64-range-checked Int.
      guard offset <= UInt64(Int.max) else {
        throw GGUFError.tensorDataOutOfRange(
          file: name, tensor: tname, start: offset, end: offset, dataSize: 0)
      }
      index[tname] = infos.count
      infos.append(
        GGUFTensorInfo(
          name: tname, dims: dims, type: type, offset: Int(offset), elementCount: elements, byteCount: bytes))
    }

    // Data section: starts at align(end of infos); every tensor must lie inside it.
    let end = c.offset
    let dataOffset = end + (alignment - end % alignment) % alignment
    self.dataOffset = dataOffset
    let dataSize = max(0, storage.count - dataOffset)
    for t in infos {
      let start = UInt64(t.offset), stop = UInt64(t.offset) + UInt64(t.byteCount)
      guard t.offset <= dataSize, t.byteCount <= dataSize - t.offset else {
        throw GGUFError.tensorDataOutOfRange(file: name, tensor: t.name, start: start, end: stop, dataSize: dataSize)
      }
    }
    let sorted = infos.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
    if sorted.count > 1 {
      for k in 1..<sorted.count where sorted[k - 1].offset + sorted[k - 1].byteCount > sorted[k].offset {
        throw GGUFError.tensorsOverlap(file: name, first: sorted[k - 1].name, second: sorted[k].name)
      }
    }
    self.tensors = infos
    self.tensorIndex = index
  }

  private static func readValue(_ c: inout GGUFCursor, type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue
  {
    let what = "value of key '\(key)'"
    switch type {
    case .uint8: return .uint8(try c.scalar(UInt8.self, what))
    case .int8: return .int8(try c.scalar(Int8.self, what))
    case .uint16: return .uint16(try c.scalar(UInt16.self, what))
    case .int16: return .int16(try c.scalar(Int16.self, what))
    case .uint32: return .uint32(try c.scalar(UInt32.self, what))
    case .int32: return .int32(try c.scalar(Int32.self, what))
    case .uint64: return .uint64(try c.scalar(UInt64.self, what))
    case .int64: return .int64(try c.scalar(Int64.self, what))
    case .float32: return .float32(Float(bitPattern: try c.scalar(UInt32.self, what)))
    case .float64: return .float64(Double(bitPattern: try c.scalar(UInt64.self, what)))
    case .bool:
      let b = try c.scalar(UInt8.self, what)
      guard b <= 1 else { throw GGUFError.invalidBool(file: c.file, key: key, found: b) }
      return .bool(b == 1)
    case .string: return .string(try c.string(what))
    case .array: return .array(try readArray(&c, key: key, depth: depth + 1))
    }
  }

  private static func readArray(_ c: inout GGUFCursor, key: String, depth: Int) throws -> GGUFArray {
    guard depth <= GGUFLimits.maxArrayNesting else {
      throw GGUFError.arrayNestingTooDeep(file: c.file, key: key, limit: GGUFLimits.maxArrayNesting)
    }
    let rawType = try c.scalar(UInt32.self, "array element type of key '\(key)'")
    guard let type = GGUFValueType(rawValue: rawType) else {
      throw GGUFError.unknownValueType(file: c.file, key: key, found: rawType)
    }
    let count = try c.scalar(UInt64.self, "array count of key '\(key)'")
    guard count <= UInt64(c.remaining / type.minimumEncodedSize) else {
      throw GGUFError.countTooLarge(
        file: c.file, what: "array count of key '\(key)'", count: count, remainingBytes: c.remaining)
    }
    let n = Int(count)
    let what = "array elements of key '\(key)'"
    func scalars<T: FixedWidthInteger>(_: T.Type) throws -> [T] {
      let raw = try c.bytes(n * MemoryLayout<T>.size, what)
      return (0..<n).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
    }
    switch type {
    case .uint8: return .uint8(try scalars(UInt8.self))
    case .int8: return .int8(try scalars(Int8.self))
    case .uint16: return .uint16(try scalars(UInt16.self))
    case .int16: return .int16(try scalars(Int16.self))
    case .uint32: return .uint32(try scalars(UInt32.self))
    case .int32: return .int32(try scalars(Int32.self))
    case .uint64: return .uint64(try scalars(UInt64.self))
    case .int64: return .int64(try scalars(Int64.self))
    case .float32: return .float32(try scalars(UInt32.self).map { Float(bitPattern: $0) })
    case .float64: return .float64(try scalars(UInt64.self).map { Double(bitPattern: $0) })
    case .bool:
      let raw = try scalars(UInt8.self)
      if let bad = raw.first(where: { $0 > 1 }) { throw GGUFError.invalidBool(file: c.file, key: key, found: bad) }
      return .bool(raw.map { $0 == 1 })
    case .string:
      var out: [String] = []
      out.reserveCapacity(n)
      for i in 0..<n { out.append(try c.string("element #\(i) of key '\(key)'")) }
      return .string(out)
    case .array:
      var out: [GGUFArray] = []
      out.reserveCapacity(n)
      for _ in 0..<n { out.append(try readArray(&c, key: key, depth: depth + 1)) }
      return .array(out)
    }
  }

  // MARK: Lookups

  public func value(_ key: String) -> GGUFValue? { metadata.value(key) }

  public func hasTensor(_ name: String) -> Bool { tensorIndex[name] != nil }

  public func tensorIfPresent(named name: String) -> GGUFTensorInfo? {
    tensorIndex[name].map { tensors[$0] }
  }

  public func tensor(named name: String) throws -> GGUFTensorInfo {
    guard let i = tensorIndex[name] else { throw GGUFError.missingTensor(file: displayName, tensor: name) }
    return tensors[i]
  }

  /// The tensor's raw bytes inside the mapping. Valid only while this GGUFFile is alive.
  public func tensorData(_ t: GGUFTensorInfo) throws -> UnsafeRawBufferPointer {
    let t = try own(t)
    return UnsafeRawBufferPointer(start: storage.base + dataOffset + t.offset, count: t.byteCount)
  }

  /// The whole file's bytes (mapping). Valid only while this GGUFFile is alive.
  public var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage.base, count: storage.count) }

  /// Re-resolves `t` by name so that a GGUFTensorInfo from another file cannot index this mapping.
  private func own(_ t: GGUFTensorInfo) throws -> GGUFTensorInfo {
    guard let i = tensorIndex[t.name], tensors[i] == t else {
      throw GGUFError.missingTensor(file: displayName, tensor: t.name)
    }
    return tensors[i]
  }

  // MARK: Dequantization

  /// The whole tensor as fp32, shape `dims` (ne[0] contiguous).
  public func dequantize(_ t: GGUFTensorInfo) throws -> FloatBuffer {
    let out = FloatBuffer(count: t.elementCount)
    try dequantize(t, rows: 0..<t.rowCount, into: out.pointer)
    return out
  }

  public func dequantize(named name: String) throws -> FloatBuffer { try dequantize(tensor(named: name)) }

  /// Rows `rows` (each `rowLength` values) written contiguously to `dst`, which must hold
  /// `rows.count * t.rowLength` floats. Used for embedding lookups of single token rows.
  public func dequantize(_ t: GGUFTensorInfo, rows: Range<Int>, into dst: UnsafeMutablePointer<Float>) throws {
    let t = try own(t)
    guard t.type.canDequantize else {
      throw GGUFError.unsupportedTensorType(
        file: displayName, tensor: t.name, type: t.type.name, operation: "dequantization")
    }
    guard rows.lowerBound >= 0, rows.upperBound <= t.rowCount else {
      throw GGUFError.rowRangeOutOfBounds(file: displayName, tensor: t.name, rows: "\(rows)", rowCount: t.rowCount)
    }
    if rows.isEmpty { return }
    let src = storage.base + dataOffset + t.offset + rows.lowerBound * t.rowByteCount
    dequantizeRow(t.type, src, dst, count: rows.count * t.rowLength)
  }

  /// The tensor as a `[Float]` (convenience for tests and small tensors).
  public func dequantizeToArray(_ t: GGUFTensorInfo) throws -> [Float] { try dequantize(t).array }

  // MARK: Architecture

  /// `general.architecture`, provided it is one of `supported`.
  public func requireArchitecture(in supported: Set<String>) throws -> String {
    let arch = try string("general.architecture")
    guard supported.contains(arch) else {
      throw GGUFError.unsupportedArchitecture(file: displayName, found: arch, supported: supported.sorted())
    }
    return arch
  }
}
