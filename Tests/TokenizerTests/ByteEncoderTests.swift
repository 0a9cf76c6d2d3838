import Testing
import Tokenizer

@Suite("GPT-2 byte table")
struct ByteEncoderTests {
  @Test("the table is a bijection with printable bytes kept and the other 68 shifted to U+0100...")
  func bijection() {
    #expect(Set(ByteEncoder.byteToScalar).count == 256)
    #expect(ByteEncoder.byteToScalar.filter { $0 >= 256 }.count == 68)
    #expect(ByteEncoder.byteToScalar[0x21] == 0x21 && ByteEncoder.byteToScalar[0xFF] == 0xFF)
    #expect(ByteEncoder.encode([0x20]) == "Ġ" && ByteEncoder.encode([0x0A]) == "Ċ" && ByteEncoder.encode([0x09]) == "ĉ")
    let all = (0...255).map { UInt8($0) }
    #expect(ByteEncoder.decode(ByteEncoder.encode(all)) == all)
  }

  @Test("a string with a scalar outside the table does not decode")
  func outside() {
    #expect(ByteEncoder.decode("a b") == nil)  // raw space is not a byte-level character
    #expect(ByteEncoder.decode("北") == nil)
  }
}
