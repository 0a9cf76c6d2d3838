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
    case let .missingFile(path, what): return "\(path): missing (\(what))"
    case let .malformed(path, key, expected, found): return "\(path): \(key): expected \(expected), found \(found)"
    case let .invalidInput(what, expected, found): return "\(what): expected \(expected), found \(found)"
    case let .splitMismatch(split, position, expected, found):
      return "split \(split), passage \(position): expected \(expected), found \(found)"
    case let .runConflict(dir, message): return "run directory \(dir): \(message)"
    }
  }
}
