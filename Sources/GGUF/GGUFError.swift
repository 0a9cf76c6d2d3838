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
    case .cannotOpen(let file, let reason):
      return "\(file): cannot open GGUF file: \(reason)"
    case .badMagic(let file, let found):
      let hex = found.map { String(format: "%02x", $0) }.joined(separator: " ")
      return "\(file): not a GGUF file: expected magic 47 47 55 46 (\"GGUF\"), found \(hex)"
    case .unsupportedVersion(let file, let found):
      return "\(file): unsupported GGUF version \(found); expected 2 or 3 (little-endian)"
    case .truncated(let file, let what, let offset, let needed, let available):
      return "\(file): truncated: \(what) needs \(needed) bytes at offset \(offset), "
        + "but only \(available) remain"
    case .countTooLarge(let file, let what, let count, let remaining):
      return "\(file): \(what) is \(count), which cannot fit in the \(remaining) bytes that remain"
    case .arrayNestingTooDeep(let file, let key, let limit):
      return "\(file): key '\(key)': arrays nested deeper than \(limit) levels"
    case .unknownValueType(let file, let key, let found):
      return "\(file): key '\(key)': unknown metadata value type \(found); expected 0...12"
    case .invalidBool(let file, let key, let found):
      return "\(file): key '\(key)': bool must be stored as 0 or 1, found \(found)"
    case .invalidUTF8(let file, let what):
      return "\(file): \(what) is not valid UTF-8"
    case .keyTooLong(let file, let length, let limit):
      return "\(file): metadata key is \(length) bytes long; the limit is \(limit)"
    case .emptyKey(let file, let index):
      return "\(file): metadata entry #\(index) has an empty key"
    case .duplicateKey(let file, let key):
      return "\(file): duplicate metadata key '\(key)'"
    case .badAlignment(let file, let found):
      return "\(file): key 'general.alignment': expected a u32 nonzero power of two, found \(found)"
    case .unknownTensorType(let file, let tensor, let found):
      return "\(file): tensor '\(tensor)': unknown ggml type id \(found)"
    case .badDimensionCount(let file, let tensor, let found):
      return "\(file): tensor '\(tensor)': expected 1...4 dimensions, found \(found)"
    case .negativeDimension(let file, let tensor, let index, let found):
      return "\(file): tensor '\(tensor)': ne[\(index)] must be >= 0, found \(found)"
    case .rowNotBlockAligned(let file, let tensor, let type, let ne0, let blockSize):
      return "\(file): tensor '\(tensor)': ne[0] = \(ne0) is not a multiple of the \(type) "
        + "block size \(blockSize)"
    case .sizeOverflow(let file, let tensor):
      return "\(file): tensor '\(tensor)': element or byte count overflows"
    case .tensorNameTooLong(let file, let tensor, let length, let limit):
      return "\(file): tensor name '\(tensor)' is \(length) bytes; the limit is \(limit)"
    case .emptyTensorName(let file, let index):
      return "\(file): tensor #\(index) has an empty name"
    case .duplicateTensor(let file, let tensor):
      return "\(file): duplicate tensor name '\(tensor)'"
    case .misalignedTensorOffset(let file, let tensor, let offset, let alignment):
      return "\(file): tensor '\(tensor)': data offset \(offset) is not a multiple of the "
        + "alignment \(alignment)"
    case .tensorDataOutOfRange(let file, let tensor, let start, let end, let dataSize):
      return "\(file): tensor '\(tensor)': data bytes [\(start), \(end)) lie outside the "
        + "\(dataSize)-byte data section"
    case .tensorsOverlap(let file, let first, let second):
      return "\(file): tensors '\(first)' and '\(second)' overlap in the data section"
    case .missingKey(let file, let key):
      return "\(file): required metadata key '\(key)' is missing"
    case .wrongValueType(let file, let key, let expected, let found):
      return "\(file): key '\(key)': expected \(expected), found \(found)"
    case .valueOutOfRange(let file, let key, let expected, let found):
      return "\(file): key '\(key)': expected \(expected), found \(found)"
    case .unsupportedArchitecture(let file, let found, let supported):
      return "\(file): key 'general.architecture' is '\(found)'; supported: "
        + supported.sorted().joined(separator: ", ")
    case .missingTensor(let file, let tensor):
      return "\(file): tensor '\(tensor)' is missing"
    case .unsupportedTensorType(let file, let tensor, let type, let operation):
      return "\(file): tensor '\(tensor)': type \(type) is not supported for \(operation); "
        + "supported: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q6_K"
    case .rowRangeOutOfBounds(let file, let tensor, let rows, let rowCount):
      return "\(file): tensor '\(tensor)': rows \(rows) outside 0..<\(rowCount)"
    case .invalidTensorShape(let file, let tensor, let reason):
      return "\(file): tensor '\(tensor)': \(reason)"
    case .valueCountMismatch(let file, let tensor, let expected, let found):
      return "\(file): tensor '\(tensor)': expected \(expected) values for its shape, found \(found)"
    case .nonFiniteValue(let file, let tensor, let index):
      return "\(file): tensor '\(tensor)': value #\(index) is not finite and cannot be quantized"
    case .writeFailed(let file, let reason):
      return "\(file): cannot write: \(reason)"
    }
  }
}
