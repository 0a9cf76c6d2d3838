// EmbeddingError.swift: typed failures of loading and running the sentence-embedding model.
import Foundation

public enum EmbeddingError: Error, LocalizedError, Equatable {
  /// A model file is missing; `hint` says how to install it.
  case modelNotInstalled(directory: String, missing: String, hint: String)
  case fileUnreadable(path: String, message: String)
  /// A config value is absent or out of range.
  case badConfig(file: String, key: String, found: String)
  /// A weight has the wrong shape for the config.
  case shapeMismatch(tensor: String, expected: [Int], found: [Int])
  case missingTensor(file: String, name: String)
  /// The vocabulary lacks a special token the tokenizer needs.
  case missingSpecialToken(file: String, token: String)
  /// A token id is outside the vocabulary (only for ids passed in directly).
  case tokenOutOfRange(id: Int32, vocabSize: Int)
  /// A sequence is longer than the model's position table.
  case sequenceTooLong(length: Int, maximum: Int)

  public var errorDescription: String? {
    switch self {
    case .modelNotInstalled(let dir, let missing, let hint):
      return "embedding model not installed in \(dir): missing \(missing). \(hint)"
    case .fileUnreadable(let path, let message): return "\(path): \(message)"
    case .badConfig(let file, let key, let found): return "\(file): key '\(key)' is missing or invalid (found \(found))"
    case .shapeMismatch(let t, let e, let f): return "tensor '\(t)': expected shape \(e), found \(f)"
    case .missingTensor(let file, let name): return "\(file): no tensor '\(name)'"
    case .missingSpecialToken(let file, let token): return "\(file): vocabulary has no \(token)"
    case .tokenOutOfRange(let id, let v): return "token id \(id) outside vocabulary of \(v)"
    case .sequenceTooLong(let n, let m): return "sequence of \(n) tokens exceeds the \(m) positions of the model"
    }
  }
}
