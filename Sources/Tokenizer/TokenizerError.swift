// TokenizerError: every way building or using a Tokenizer can fail on bad input.
// Each message names the GGUF key the value came from, what was expected and what was found, so a
// malformed or unsupported model file is diagnosable from the message alone.

import Foundation

public enum TokenizerError: Error, LocalizedError, Equatable, Sendable {
  /// `tokenizer.ggml.tokens` has no entries.
  case emptyVocab
  /// `tokenizer.ggml.token_type` must have one entry per token.
  case tokenTypeCountMismatch(tokens: Int, types: Int)
  /// A `tokenizer.ggml.merges` entry is not `"left right"` with both sides non-empty.
  case malformedMerge(index: Int, value: String)
  /// A merge names a token (left, right, or their concatenation) that is not in the vocab.
  case mergeUnknownToken(index: Int, value: String, token: String)
  /// A special-token id key (`tokenizer.ggml.bos_token_id`, ...) points outside the vocab.
  case specialIdOutOfRange(key: String, id: Int, vocabSize: Int)
  /// `decode`/`StreamingDecoder` got an id outside `0..<vocabSize`.
  case idOutOfRange(id: Int, vocabSize: Int)
  /// `tokenizer.ggml.pre` names a pre-tokenizer this module does not implement.
  case unknownPreTokenizer(String)
  /// `tokenizer.ggml.model` is not byte-level BPE ("gpt2").
  case unsupportedModel(file: String, found: String)

  public var errorDescription: String? {
    switch self {
    case .emptyVocab:
      return "tokenizer.ggml.tokens: expected at least one token, found an empty vocab"
    case .tokenTypeCountMismatch(let tokens, let types):
      return "tokenizer.ggml.token_type: expected one type per token (\(tokens) tokens), found \(types) types"
    case .malformedMerge(let index, let value):
      return
        "tokenizer.ggml.merges[\(index)]: expected \"left right\" (two non-empty parts separated by one space), found \(quoted(value))"
    case .mergeUnknownToken(let index, let value, let token):
      return
        "tokenizer.ggml.merges[\(index)] = \(quoted(value)): expected every part and their concatenation in tokenizer.ggml.tokens, but \(quoted(token)) is not a token"
    case .specialIdOutOfRange(let key, let id, let vocabSize):
      return "\(key): expected an id in 0..<\(vocabSize), found \(id)"
    case .idOutOfRange(let id, let vocabSize):
      return "decode: expected token ids in 0..<\(vocabSize), found \(id)"
    case .unsupportedModel(let file, let found):
      return "\(file): key 'tokenizer.ggml.model': expected \"gpt2\" (byte-level BPE), found \(quoted(found))"
    case .unknownPreTokenizer(let name):
      return
        "tokenizer.ggml.pre: expected one of \(PreTokenizerKind.supportedNames.joined(separator: ", ")), found \(quoted(name))"
    }
  }
}

/// Debug-quotes a value so that whitespace and control characters in merges stay visible.
private func quoted(_ s: String) -> String {
  String(reflecting: s)
}
