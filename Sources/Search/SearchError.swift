// SearchError.swift: the one error type of the Search module. Every case says what was read, what
// was expected and what was found.
import Foundation

public enum SearchError: Error, LocalizedError, Equatable {
  /// Text that is not the JSON expected (a model's template or completion, an archive file).
  case badJSON(source: String, offset: Int, expected: String, found: String)
  /// A proposed template that misses a key or has a wrong type (reference-pipeline 3.3 parse).
  case badTemplate(reason: String)
  /// A meta prompt placeholder without a value, or an archive too short to fill it.
  case badMetaPrompt(reason: String)
  /// Inputs of a metric or a selection that do not fit together.
  case badInput(what: String, expected: String, found: String)
  /// Answers the judge did not grade (the endpoint failed after its retries): never taken as "no".
  case judgeFailures(count: Int, url: String, last: String)

  public var errorDescription: String? {
    switch self {
    case .badJSON(let s, let o, let e, let f): return "\(s): at byte \(o) expected \(e), found \(f)"
    case .badTemplate(let r): return "template: \(r)"
    case .badMetaPrompt(let r): return "meta prompt: \(r)"
    case .badInput(let w, let e, let f): return "\(w): expected \(e), found \(f)"
    case .judgeFailures(let n, let url, let last):
      return "judge \(url): \(n) answer(s) not graded (last: \(last)); run again to retry them"
    }
  }
}
