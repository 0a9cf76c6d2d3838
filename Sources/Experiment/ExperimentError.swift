// ExperimentError.swift: every way an experiment input or run directory can be wrong. Each case
// names the file, the key (a JSON path such as `training.epochs` or `[12].questions[3].answer`),
// what was expected and what was found.
import Foundation

public enum ExperimentError: Error, LocalizedError, Equatable {
  case missingFile(path: String, what: String)
  case malformed(path: String, key: String, expected: String, found: String)
  case invalidInput(what: String, expected: String, found: String)
  /// A committed split manifest no longer matches the data it indexes.
  case splitMismatch(split: String, position: Int, expected: String, found: String)
  /// A run directory holds a different configuration, or shard files that do not belong together.
  case runConflict(dir: String, message: String)

  public var errorDescription: String? {
    switch self {
    case .missingFile(let path, let what): return "\(path): missing (\(what))"
    case .malformed(let path, let key, let expected, let found):
      return "\(path): \(key): expected \(expected), found \(found)"
    case .invalidInput(let what, let expected, let found): return "\(what): expected \(expected), found \(found)"
    case .splitMismatch(let split, let position, let expected, let found):
      return "split \(split), passage \(position): expected \(expected), found \(found)"
    case .runConflict(let dir, let message): return "run directory \(dir): \(message)"
    }
  }
}
