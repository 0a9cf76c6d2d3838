// SelfEditError.swift: failures of the harness itself (endpoints, another model or engine). Data
// problems are ExperimentError, training problems TrainingError; a failure that belongs to one
// self-edit (no sequence, NaN loss, endpoint down) is recorded in its record, not thrown.
import Foundation

public enum SelfEditError: Error, LocalizedError, Equatable {
  case endpoint(url: String, message: String)
  case modelMismatch(dir: String, expected: String, found: String)
  /// Another engine kind, version or arithmetic than the run was made with: its numbers would differ.
  case engineMismatch(dir: String, expected: String, found: String)

  public var errorDescription: String? {
    switch self {
    case .endpoint(let url, let message): return "endpoint \(url): \(message)"
    case .modelMismatch(let dir, let expected, let found):
      return "run directory \(dir) was made with model sha256 \(expected); this model is \(found)"
    case .engineMismatch(let dir, let expected, let found):
      return "run directory \(dir) was made with engine \(expected); this engine is \(found) (its numbers would differ)"
    }
  }
}
