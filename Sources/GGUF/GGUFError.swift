// GGUFError.swift: the one error type of the GGUF module.
//
// Every case names the file (path or the display name given to an in-memory reader), the key or
// tensor involved, what was expected and what was found, so that a malformed or unsupported model
// fails with a message a user can act on. Reader, typed metadata accessors, dequantizer and writer
// all throw this type; nothing in the module traps on bad input.
import Foundation

public enum GGUFError: Error, LocalizedError, Equatable, Sendable {
  /// open/fstat/mmap failed.
  case cannotOpen(file: String, reason: String)
  /// The first four bytes are not "GGUF".
  case badMagic(file: String, found: [UInt8])
  /// Only versions 2 and 3 are read (v1 used 32-bit counts; big-endian files look like huge versions).
  case unsupportedVersion(file: String, found: UInt32)
  /// `what` needed `needed` bytes at `offset`, but only `available` remain.
  case truncated(file: String, what: String, offset: Int, needed: UInt64, available: Int)
  /// A count (tensors, keys, array elements) cannot fit in the bytes that remain.
  case countTooLarge(file: String, what: String, count: UInt64, remainingBytes: Int)
  /// Arrays nested deeper than `GGUFLimits.maxArrayNesting`.
  case arrayNestingTooDeep(file: String, key: String, limit: Int)
  case unknownValueType(file: String, key: String, found: UInt32)
  /// A bool stored as a byte other than 0 or 1.
  case invalidBool(file: String, key: String, found: UInt8)
  case invalidUTF8(file: String, what: String)
  case keyTooLong(file: String, length: UInt64, limit: Int)
  case emptyKey(file: String, index: Int)
  case duplicateKey(file: String, key: String)
  /// `general.alignment` has the wrong type or is not a nonzero power of two.
  case badAlignment(file: String, found: String)
  case unknownTensorType(file: String, tensor: String, found: UInt32)
  case badDimensionCount(file: String, tensor: String, found: UInt32)
  case negativeDimension(file: String, tensor: String, index: Int, found: Int64)
  /// ne[0] must be a multiple of the type's block size (quantization runs along rows).
  case rowNotBlockAligned(file: String, tensor: String, type: String, ne0: Int, blockSize: Int)
  case sizeOverflow(file: String, tensor: String)
  case tensorNameTooLong(file: String, tensor: String, length: Int, limit: Int)
  case emptyTensorName(file: String, index: Int)
  case duplicateTensor(file: String, tensor: String)
  case misalignedTensorOffset(file: String, tensor: String, offset: UInt64, alignment: Int)
  /// [start, end) relative to the data section does not fit in its `dataSize` bytes.
  case tensorDataOutOfRange(file: String, tensor: String, start: UInt64, end: UInt64, dataSize: Int)
  case tensorsOverlap(file: String, first: String, second: String)

  // Typed lookups.
  case missingKey(file: String, key: String)
  case wrongValueType(file: String, key: String, expected: String, found: String)
  case valueOutOfRange(file: String, key: String, expected: String, found: String)
  case unsupportedArchitecture(file: String, found: String, supported: [String])
  case missingTensor(file: String, tensor: String)
  /// The type is known to the reader but has no dequantizer/quantizer here (Q8_1, Q2_K, ...).
  case unsupportedTensorType(file: String, tensor: String, type: String, operation: String)
  case rowRangeOutOfBounds(file: String, tensor: String, rows: String, rowCount: Int)

  // Writer input.
  case invalidTensorShape(file: String, tensor: String, reason: String)
  case valueCountMismatch(file: String, tensor: String, expected: Int, found: Int)
  case nonFiniteValue(file: String, tensor: String, index: Int)
  case writeFailed(file: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case let .cannotOpen(file, reason):
      return "\(file): cannot open GGUF file: \(reason)"
    case let .badMagic(file, found):
      let hex = found.map { String(format: "%02x", $0) }.joined(separator: " ")
      return "\(file): not a GGUF file: expected magic 47 47 55 46 (\"GGUF\"), found \(hex)"
    case let .unsupportedVersion(file, found):
      return "\(file): unsupported GGUF version \(found); expected 2 or 3 (little-endian)"
    case let .truncated(file, what, offset, needed, available):
      return "\(file): truncated: \(what) needs \(needed) bytes at offset \(offset), "
        + "but only \(available) remain"
    case let .countTooLarge(file, what, count, remaining):
      return "\(file): \(what) is \(count), which cannot fit in the \(remaining) bytes that remain"
    case let .arrayNestingTooDeep(file, key, limit):
      return "\(file): key '\(key)': arrays nested deeper than \(limit) levels"
    case let .unknownValueType(file, key, found):
      return "\(file): key '\(key)': unknown metadata value type \(found); expected 0...12"
    case let .invalidBool(file, key, found):
      return "\(file): key '\(key)': bool must be stored as 0 or 1, found \(found)"
    case let .invalidUTF8(file, what):
      return "\(file): \(what) is not valid UTF-8"
    case let .keyTooLong(file, length, limit):
      return "\(file): metadata key is \(length) bytes long; the limit is \(limit)"
    case let .emptyKey(file, index):
      return "\(file): metadata entry #\(index) has an empty key"
    case let .duplicateKey(file, key):
      return "\(file): duplicate metadata key '\(key)'"
    case let .badAlignment(file, found):
      return "\(file): key 'general.alignment': expected a u32 nonzero power of two, found \(found)"
    case let .unknownTensorType(file, tensor, found):
      return "\(file): tensor '\(tensor)': unknown ggml type id \(found)"
    case let .badDimensionCount(file, tensor, found):
      return "\(file): tensor '\(tensor)': expected 1...4 dimensions, found \(found)"
    case let .negativeDimension(file, tensor, index, found):
      return "\(file): tensor '\(tensor)': ne[\(index)] must be >= 0, found \(found)"
    case let .rowNotBlockAligned(file, tensor, type, ne0, blockSize):
      return "\(file): tensor '\(tensor)': ne[0] = \(ne0) is not a multiple of the \(type) "
        + "block size \(blockSize)"
    case let .sizeOverflow(file, tensor):
      return "\(file): tensor '\(tensor)': element or byte count overflows"
    case let .tensorNameTooLong(file, tensor, length, limit):
      return "\(file): tensor name '\(tensor)' is \(length) bytes; the limit is \(limit)"
    case let .emptyTensorName(file, index):
      return "\(file): tensor #\(index) has an empty name"
    case let .duplicateTensor(file, tensor):
      return "\(file): duplicate tensor name '\(tensor)'"
    case let .misalignedTensorOffset(file, tensor, offset, alignment):
      return "\(file): tensor '\(tensor)': data offset \(offset) is not a multiple of the "
        + "alignment \(alignment)"
    case let .tensorDataOutOfRange(file, tensor, start, end, dataSize):
      return "\(file): tensor '\(tensor)': data bytes [\(start), \(end)) lie outside the "
        + "\(dataSize)-byte data section"
    case let .tensorsOverlap(file, first, second):
      return "\(file): tensors '\(first)' and '\(second)' overlap in the data section"
    case let .missingKey(file, key):
      return "\(file): required metadata key '\(key)' is missing"
    case let .wrongValueType(file, key, expected, found):
      return "\(file): key '\(key)': expected \(expected), found \(found)"
    case let .valueOutOfRange(file, key, expected, found):
      return "\(file): key '\(key)': expected \(expected), found \(found)"
    case let .unsupportedArchitecture(file, found, supported):
      return "\(file): key 'general.architecture' is '\(found)'; supported: "
        + supported.sorted().joined(separator: ", ")
    case let .missingTensor(file, tensor):
      return "\(file): tensor '\(tensor)' is missing"
    case let .unsupportedTensorType(file, tensor, type, operation):
      return "\(file): tensor '\(tensor)': type \(type) is not supported for \(operation); "
        + "supported: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q6_K"
    case let .rowRangeOutOfBounds(file, tensor, rows, rowCount):
      return "\(file): tensor '\(tensor)': rows \(rows) outside 0..<\(rowCount)"
    case let .invalidTensorShape(file, tensor, reason):
      return "\(file): tensor '\(tensor)': \(reason)"
    case let .valueCountMismatch(file, tensor, expected, found):
      return "\(file): tensor '\(tensor)': expected \(expected) values for its shape, found \(found)"
    case let .nonFiniteValue(file, tensor, index):
      return "\(file): tensor '\(tensor)': value #\(index) is not finite and cannot be quantized"
    case let .writeFailed(file, reason):
      return "\(file): cannot write: \(reason)"
    }
  }
}
