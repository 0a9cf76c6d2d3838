// WorkspaceError.swift: file-system and plumbing failures, each naming the path and what happened.
import Foundation

public enum WorkspaceError: Error, LocalizedError, Equatable {
  /// A file-system operation failed.
  case io(path: String, message: String)
  /// An output location cannot be created or written.
  case notWritable(path: String, message: String)
  /// A JSON Lines file has a bad line that is not the (torn) last one.
  case badRecordLine(path: String, line: Int, message: String)

  public var errorDescription: String? {
    switch self {
    case .io(let path, let message): return "\(path): \(message)"
    case .notWritable(let path, let message): return "cannot write \(path): \(message)"
    case .badRecordLine(let path, let line, let message): return "\(path) line \(line): \(message)"
    }
  }
}
