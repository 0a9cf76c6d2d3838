// TrainingData.swift: reading training sequences from files for `seb train`.
//
// Formats:
// - `.jsonl`: one JSON object per line, either {"text": ...} (one sequence) or
//   {"prompt": ..., "completion": ...} (plain concatenation, no chat template, as TRL does for
//   prompt/completion data; the prompt is masked under the completion-only loss).
// - anything else: plain text; blocks separated by blank lines are sequences.
// Tokenization is a closure so this file does not depend on the tokenizer module.
import Foundation

public enum TrainingData {
  /// Text pieces of a file: (prompt, completion); prompt is "" for plain sequences.
  public static func read(path: String) throws -> [(prompt: String, completion: String)] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TrainingError.badDataFile(path: path, line: 0, detail: "cannot read the file")
    }
    let text = String(decoding: data, as: UTF8.self)
    var out: [(String, String)] = []
    if path.hasSuffix(".jsonl") {
      for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let s = line.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { continue }
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] else {
          throw TrainingError.badDataFile(path: path, line: i + 1, detail: "expected a JSON object")
        }
        if let t = obj["text"] as? String {
          out.append(("", t))
        } else if let p = obj["prompt"] as? String, let c = obj["completion"] as? String {
          out.append((p, c))
        } else {
          throw TrainingError.badDataFile(
            path: path, line: i + 1, detail: "expected a string key 'text' or string keys 'prompt' and 'completion'")
        }
      }
    } else {
      for block in text.components(separatedBy: "\n\n") {
        let b = block.trimmingCharacters(in: .whitespacesAndNewlines)
        if !b.isEmpty { out.append(("", b)) }
      }
    }
    if out.isEmpty { throw TrainingError.badDataFile(path: path, line: 0, detail: "no training sequence found") }
    return out
  }

  /// Tokenizes pieces into examples; `eos` (if given) is appended to every sequence (TRL add_eos).
  public static func examples(
    _ pieces: [(prompt: String, completion: String)], eos: Int?, tokenize: (String) -> [Int]
  ) -> [TrainingExample] {
    pieces.map { p in
      // As TRL: tokenize prompt + completion as one text; the prompt length is that of the
      // prompt tokenized alone (a merge across the boundary counts as completion).
      let promptLength = p.prompt.isEmpty ? 0 : tokenize(p.prompt).count
      var tokens = tokenize(p.prompt + p.completion)
      if let e = eos { tokens.append(e) }
      return TrainingExample(tokens: tokens, promptLength: min(promptLength, tokens.count))
    }
  }
}
