import Testing
import Tokenizer

@Suite("Decoding")
struct DecodeTests {
  let tok: Tokenizer

  init() throws {
    tok = try Tiny.make(merges: Tiny.chain("Ġhello"))
  }

  @Test("control tokens decode to their text unless skipped")
  func control() throws {
    let ids = [1, tok.id(of: "Ġhello")!, 2]
    #expect(try tok.decode(ids) == "<|im_start|> hello<|im_end|>")
    #expect(try tok.decode(ids, skipSpecial: true) == " hello")
  }

  @Test("an id outside the vocab is an error")
  func outOfRange() {
    #expect(throws: TokenizerError.idOutOfRange(id: tok.vocabSize, vocabSize: tok.vocabSize)) {
      try tok.decode([tok.vocabSize])
    }
    #expect(throws: TokenizerError.idOutOfRange(id: -1, vocabSize: tok.vocabSize)) { try tok.decode([-1]) }
  }

  @Test("piece shows text, escapes partial UTF-8 and flags invalid ids")
  func piece() {
    #expect(tok.piece(tok.id(of: "Ġhello")!) == " hello")
    #expect(tok.piece(tok.id(of: "ð")!) == "\\xF0")
    #expect(tok.piece(1) == "<|im_start|>")
    #expect(tok.piece(-3) == "<invalid id -3>")
  }

  @Test("a cut multi-byte character becomes U+FFFD in one-shot decode")
  func cutCharacter() throws {
    let ids = tok.encode("🙂")
    #expect(try tok.decode(Array(ids.prefix(2))) == "\u{FFFD}")
  }

  @Test("the streaming decoder holds back incomplete characters and flushes a dangling one as U+FFFD")
  func streaming() throws {
    var d = StreamingDecoder(tokenizer: tok)
    let ids = tok.encode("a🙂")
    #expect(ids.count == 5)
    #expect(try d.append(ids[0]) == "a")
    #expect(try d.append(ids[1]) == "")
    #expect(try d.append(ids[2]) == "")
    #expect(d.pendingByteCount == 2)
    #expect(try d.append(ids[3]) == "")
    #expect(try d.append(ids[4]) == "🙂")
    #expect(d.flush() == "")
    _ = try d.append(ids[1])
    #expect(d.flush() == "\u{FFFD}")
    #expect(d.flush() == "")
  }

  @Test("streamed text equals one-shot decoding for random byte streams cut anywhere")
  func streamingMatchesOneShot() {
    var rng = SplitMix64(seed: 3)
    let interesting: [UInt8] = [
      0x41, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xEF, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF,
    ]
    for _ in 0..<500 {
      let bytes = (0..<rng.below(24)).map { _ in
        rng.below(2) == 0 ? interesting[rng.below(interesting.count)] : UInt8(rng.below(256))
      }
      var d = StreamingDecoder(tokenizer: tok)
      var out = ""
      var i = 0
      while i < bytes.count {
        let n = 1 + rng.below(4)
        out += d.append(bytes: bytes[i..<min(i + n, bytes.count)])
        i += n
      }
      out += d.flush()
      #expect(scalars([out]) == scalars([String(decoding: bytes, as: UTF8.self)]), "\(bytes)")
    }
  }

  @Test("streaming a real encoding reproduces the text")
  func streamingText() throws {
    let s = "héllo 🙂 北京 👩‍👩‍👧!"
    var d = StreamingDecoder(tokenizer: tok)
    var out = ""
    for id in tok.encode(s) {
      let part = try d.append(id)
      #expect(!part.unicodeScalars.contains("\u{FFFD}"))
      out += part
    }
    out += d.flush()
    #expect(out == s)
  }
}
