// Tokenizer+GGUF.swift: builds a Tokenizer from a GGUF file's tokenizer.* keys (model-facts 2.6).
// Here, where the runtime meets the file format, so the tokenizer itself depends on nothing.
import GGUF
import Tokenizer

extension Tokenizer {
  public init(gguf f: GGUFFile) throws {
    let model = try f.string("tokenizer.ggml.model")
    guard model == "gpt2" else { throw TokenizerError.unsupportedModel(file: f.displayName, found: model) }
    let tokens = try f.stringArray("tokenizer.ggml.tokens")
    let types = try f.int32ArrayIfPresent("tokenizer.ggml.token_type") ?? [Int32](repeating: 1, count: tokens.count)
    try self.init(
      tokens: tokens, merges: try f.stringArrayIfPresent("tokenizer.ggml.merges") ?? [], tokenTypes: types,
      bosId: try f.intIfPresent("tokenizer.ggml.bos_token_id"),
      eosId: try f.intIfPresent("tokenizer.ggml.eos_token_id"),
      unknownId: try f.intIfPresent("tokenizer.ggml.unknown_token_id"),
      paddingId: try f.intIfPresent("tokenizer.ggml.padding_token_id"),
      preTokenizer: try f.stringIfPresent("tokenizer.ggml.pre") ?? "gpt2",
      addBOS: try f.boolIfPresent("tokenizer.ggml.add_bos_token") ?? false)
  }
}
