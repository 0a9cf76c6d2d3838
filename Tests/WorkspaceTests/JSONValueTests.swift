import Foundation
import Testing
import Workspace

@Suite("JSON values")
struct JSONValueTests {
  @Test("every double a JSONEncoder writes reads back as the same double, long mantissas included")
  func doublesRoundTripExactly() throws {
    var rng = SplitMix64(seed: 7)
    var values: [Double] = [-33.605741219756595, 0.30000000000000004, 1e-300, 2.2250738585072014e-308, 5e-324]
    for _ in 0..<2000 {
      let bits = rng.next()
      let d = Double(bitPattern: bits)
      if d.isFinite { values.append(d) }
      values.append(Double(rng.next() % 1_000_000) / 997)
    }
    let back = try JSONValue.parse(try JSONEncoder().encode(values))
    let got = try #require(back.array).map { try #require($0.double) }
    #expect(got.count == values.count)
    for (a, b) in zip(values, got) where a != b { Issue.record("\(a) came back as \(b)") }
  }

  @Test("integers keep every digit (64-bit seeds, both signs); 1.0 and 1e3 are integers, true is not")
  func integersAndBooleans() throws {
    let v = try JSONValue.parse(
      Data("[18446744073709551615, -9223372036854775808, 9007199254740993, 1.0, 1e3, true, 0.5, null]".utf8))
    #expect(
      v
        == .array([
          .integer(18_446_744_073_709_551_615), .integer(-9_223_372_036_854_775_808), .integer(9_007_199_254_740_993),
          .integer(1), .integer(1000), .bool(true), .number(0.5), .null,
        ]))
    #expect(String(decoding: try v.text(), as: UTF8.self).hasPrefix("[18446744073709551615,-9223372036854775808,"))
    #expect(v.array?[0].int == nil)  // does not fit Int
    #expect(v.array?[2].int == 9_007_199_254_740_993)
    #expect(v.array?[5].double == nil)
  }

  @Test("text that is not JSON is an error that says where; keys come back sorted")
  func syntaxErrorsAndSortedText() throws {
    #expect(throws: JSONValue.SyntaxError(reason: "Invalid value around character 9.")) {
      try JSONValue.parse(Data(#"{"a": 1} x"#.utf8))
    }
    #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parse(Data("[1, 2".utf8)) }
    #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parse(Data("{'a': 1}".utf8)) }
    let v: JSONValue = ["b": [1, 2.5, "x/y"], "a": nil, "c": ["d": true]]
    #expect(String(decoding: try v.text(), as: UTF8.self) == #"{"a":null,"b":[1,2.5,"x\/y"],"c":{"d":true}}"#)
    #expect(try JSONValue.parse(try v.text()) == v)
    #expect(try JSONDecoder().decode(JSONValue.self, from: try v.text()) == v)
  }
}
