import Testing
import Tokenizer

@Suite("Tokenizer errors")
struct TokenizerErrorTests {
  let bytes = (0..<256).map { ByteEncoder.encode([UInt8($0)]) }

  func make(
    tokens: [String]? = nil, merges: [String] = [], types: [Int32]? = nil, bos: Int? = nil, pre: String = "smollm"
  ) throws {
    let t = tokens ?? bytes
    _ = try Tokenizer(
      tokens: t, merges: merges, tokenTypes: types ?? Array(repeating: 1, count: t.count), bosId: bos, eosId: nil,
      unknownId: nil, paddingId: nil, preTokenizer: pre, addBOS: false)
  }

  @Test("an empty vocab is rejected")
  func emptyVocab() {
    #expect(throws: TokenizerError.emptyVocab) { try make(tokens: []) }
  }

  @Test("token types must match the token count")
  func typeCount() {
    #expect(throws: TokenizerError.tokenTypeCountMismatch(tokens: 256, types: 3)) { try make(types: [1, 1, 1]) }
  }

  @Test("a merge without a separator or with an empty side is malformed, with its index and value")
  func malformed() {
    #expect(throws: TokenizerError.malformedMerge(index: 1, value: "ab")) {
      try make(tokens: bytes + ["ab"], merges: ["a b", "ab"])
    }
    #expect(throws: TokenizerError.malformedMerge(index: 0, value: "a ")) { try make(merges: ["a "]) }
    #expect(throws: TokenizerError.malformedMerge(index: 0, value: "")) { try make(merges: [""]) }
  }

  @Test("a merge naming a token missing from the vocab is rejected, naming the token")
  func unknownToken() {
    #expect(throws: TokenizerError.mergeUnknownToken(index: 0, value: "a bc", token: "bc")) {
      try make(merges: ["a bc"])
    }
    // The concatenation must be a token too.
    #expect(throws: TokenizerError.mergeUnknownToken(index: 0, value: "a b", token: "ab")) { try make(merges: ["a b"]) }
  }

  @Test("special ids outside the vocab are rejected, naming the GGUF key")
  func specialId() {
    #expect(throws: TokenizerError.specialIdOutOfRange(key: "tokenizer.ggml.bos_token_id", id: 300, vocabSize: 256)) {
      try make(bos: 300)
    }
  }

  @Test("an unknown pre-tokenizer is rejected")
  func pre() {
    #expect(throws: TokenizerError.unknownPreTokenizer("bert")) { try make(pre: "bert") }
  }

  @Test("messages name the key, the value and what was expected")
  func messages() {
    let m = TokenizerError.malformedMerge(index: 7, value: "ab").errorDescription ?? ""
    #expect(m.contains("tokenizer.ggml.merges[7]") && m.contains("\"ab\"") && m.contains("left right"))
    let t = TokenizerError.tokenTypeCountMismatch(tokens: 5, types: 4).errorDescription ?? ""
    #expect(t.contains("tokenizer.ggml.token_type") && t.contains("5") && t.contains("4"))
    let d = TokenizerError.idOutOfRange(id: 9, vocabSize: 3).errorDescription ?? ""
    #expect(d.contains("9") && d.contains("0..<3"))
  }
}
