// AnalysisError: the one error type of the Analysis module.
// Every case names the file (or input), the key or position, what was expected and what was found,
// so that a malformed released file or ad-hoc input fails at the point of reading, never later.
import Foundation

public enum AnalysisError: Error, LocalizedError, Equatable {
  /// A file could not be read at all.
  case unreadable(path: String, reason: String)
  /// A file was read but its content does not have the expected shape.
  case malformed(path: String, key: String, expected: String, found: String)
  /// An argument to an analysis function is out of its domain (empty input, mismatched lengths...).
  case invalidInput(what: String, expected: String, found: String)
  /// A helper program (gzip) failed.
  case toolFailed(tool: String, status: Int32, message: String)
  /// The text embedder returned something unusable.
  case embedder(name: String, expected: String, found: String)
  /// An embeddings endpoint gave no reply after its retries, or refused the request.
  case endpoint(url: String, message: String)

  public var errorDescription: String? {
    switch self {
    case .unreadable(let path, let reason):
      return "cannot read \(path): \(reason)"
    case .malformed(let path, let key, let expected, let found):
      return "\(path): at \(key) expected \(expected), found \(found)"
    case .invalidInput(let what, let expected, let found):
      return "\(what): expected \(expected), found \(found)"
    case .toolFailed(let tool, let status, let message):
      return "\(tool) exited with status \(status): \(message)"
    case .embedder(let name, let expected, let found):
      return "embedder \(name): expected \(expected), found \(found)"
    case .endpoint(let url, let message):
      return "endpoint \(url): \(message)"
    }
  }
}
