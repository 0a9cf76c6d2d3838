// ByteDFA.swift: byte-level automata for schema-constrained decoding, built from JSON pieces
// (forced literals, strings with escapes and UTF-8, bounded integers, floats, enumerations, lists).
// A leaf module: the search writes its output schemas with it without importing the runtime; the
// runtime (LLM's TokenConstraint) lifts an automaton to a vocabulary.
//
// Invariants: every state of a built automaton can reach an accepting state; a sequence never
// needs more tokens than its budget: a token is allowed only if the bytes still needed after it
// (the shortest path to acceptance, one token per byte at worst) fit the tokens left, so the
// output always completes and parses. Accepting states have no way out: the sequence ends there.
import Foundation

/// A deterministic automaton over bytes; state -1 is dead.
public struct ByteDFA: Sendable {
  public static let dead: Int32 = -1
  let next: [Int32]  // (states, 256)
  public let accepting: [Bool]  // (states)
  public let start: Int32
  /// Bytes on the shortest path from each state to acceptance (Int32.max: none).
  public let distance: [Int32]  // (states)
  public var stateCount: Int { accepting.count }

  @inline(__always) public func step(_ s: Int32, _ b: UInt8) -> Int32 {
    s < 0 ? ByteDFA.dead : next[Int(s) * 256 + Int(b)]
  }

  /// The state after `bytes` from `s` (dead if any byte is refused).
  public func run(_ s: Int32, _ bytes: some Sequence<UInt8>) -> Int32 {
    var q = s
    for b in bytes {
      q = step(q, b)
      if q < 0 { return ByteDFA.dead }
    }
    return q
  }

  public func accepts(_ bytes: some Sequence<UInt8>) -> Bool {
    let q = run(start, bytes)
    return q >= 0 && accepting[Int(q)]
  }
}

/// Builds a ByteDFA from pieces. Each piece has an entry state whose outgoing transitions say how
/// it begins and a set of exit states; pieces are chained by copying the entry's transitions into
/// the previous exits (so no empty moves are ever needed). A schema whose pieces would make two
/// transitions on one byte from one state is ambiguous and refused (a programming error).
public final class ByteDFABuilder {
  public typealias Piece = (entry: Int32, exits: [Int32])
  var table: [[Int32]] = []

  public init() {}

  func newState() -> Int32 {
    table.append([Int32](repeating: ByteDFA.dead, count: 256))
    return Int32(table.count - 1)
  }

  func set(_ s: Int32, _ b: UInt8, _ t: Int32) {
    let old = table[Int(s)][Int(b)]
    precondition(old == ByteDFA.dead || old == t, "ambiguous schema: state \(s) has two moves on byte \(b)")
    table[Int(s)][Int(b)] = t
  }

  /// Makes every state of `from` continue as `entry` does.
  public func attach(_ from: [Int32], to entry: Int32) {
    for s in from {
      for b in 0..<256 where table[Int(entry)][b] != ByteDFA.dead { set(s, UInt8(b), table[Int(entry)][b]) }
    }
  }

  /// Pieces one after another.
  public func sequence(_ parts: [Piece]) -> Piece {
    precondition(!parts.isEmpty)
    for i in 1..<parts.count { attach(parts[i - 1].exits, to: parts[i].entry) }
    return (parts[0].entry, parts[parts.count - 1].exits)
  }

  /// Exactly these bytes.
  public func literal(_ text: String) -> Piece {
    let e = newState()
    var cur = e
    for b in text.utf8 {
      let n = newState()
      set(cur, b, n)
      cur = n
    }
    return (e, [cur])
  }

  /// A JSON string: `"`, then characters (any valid UTF-8 except `"`, `\` and controls below
  /// 0x20) or escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`), then `"`. `minCharacters` > 0 refuses
  /// the empty string.
  public func string(minCharacters: Int = 0) -> Piece {
    let e = newState(), body = newState(), close = newState()
    set(e, UInt8(ascii: "\""), body)
    // A first state that may not close, when the string must not be empty.
    let first = minCharacters > 0 ? newState() : body
    if minCharacters > 0 { table[Int(e)][Int(UInt8(ascii: "\""))] = first }
    for s in Set([first, body]) {
      for b in 0x20...0x7F where b != Int(UInt8(ascii: "\"")) && b != Int(UInt8(ascii: "\\")) { set(s, UInt8(b), body) }
    }
    set(body, UInt8(ascii: "\""), close)
    // Escapes.
    let esc = newState()
    for s in Set([first, body]) { set(s, UInt8(ascii: "\\"), esc) }
    for c in "\"\\/bfnrt".utf8 { set(esc, c, body) }
    var hex = newState()
    set(esc, UInt8(ascii: "u"), hex)
    for i in 0..<4 {
      let n = i == 3 ? body : newState()
      for c in "0123456789abcdefABCDEF".utf8 { set(hex, c, n) }
      hex = n
    }
    // UTF-8 multi-byte characters (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
    let cont1 = newState(), cont2 = newState(), cont3 = newState()
    for b in 0x80...0xBF { set(cont1, UInt8(b), body); set(cont2, UInt8(b), cont1); set(cont3, UInt8(b), cont2) }
    let e0 = newState(), ed = newState(), f0 = newState(), f4 = newState()
    for b in 0xA0...0xBF { set(e0, UInt8(b), cont1) }
    for b in 0x80...0x9F { set(ed, UInt8(b), cont1) }
    for b in 0x90...0xBF { set(f0, UInt8(b), cont2) }
    for b in 0x80...0x8F { set(f4, UInt8(b), cont2) }
    for s in Set([first, body]) {
      for b in 0xC2...0xDF { set(s, UInt8(b), cont1) }
      set(s, 0xE0, e0)
      for b in 0xE1...0xEC { set(s, UInt8(b), cont2) }
      set(s, 0xED, ed)
      for b in 0xEE...0xEF { set(s, UInt8(b), cont2) }
      set(s, 0xF0, f0)
      for b in 0xF1...0xF3 { set(s, UInt8(b), cont3) }
      set(s, 0xF4, f4)
    }
    return (e, [close])
  }

  /// A non-negative integer without leading zeros, at most `maxDigits` digits.
  public func integer(maxDigits: Int = 6) -> Piece {
    precondition(maxDigits >= 1)
    let e = newState(), zero = newState()
    set(e, UInt8(ascii: "0"), zero)
    var exits = [zero]
    var cur = newState()
    for d in "123456789".utf8 { set(e, d, cur) }
    exits.append(cur)
    for _ in 1..<maxDigits {
      let n = newState()
      for d in "0123456789".utf8 { set(cur, d, n) }
      exits.append(n)
      cur = n
    }
    return (e, exits)
  }

  /// A non-negative JSON number: integer part (no leading zeros, at most `maxIntDigits`),
  /// optional fraction (at most `maxFractionDigits`), optional exponent `e[+-]?d{1,2}`.
  public func number(maxIntDigits: Int = 3, maxFractionDigits: Int = 8) -> Piece {
    let int = integer(maxDigits: maxIntDigits)
    let dot = newState()
    for s in int.exits { set(s, UInt8(ascii: "."), dot) }
    var exits = int.exits
    var cur = dot
    var fracExits: [Int32] = []
    for _ in 0..<maxFractionDigits {
      let n = newState()
      for d in "0123456789".utf8 { set(cur, d, n) }
      fracExits.append(n)
      cur = n
    }
    exits += fracExits
    let ePart = newState(), sign = newState(), d1 = newState(), d2 = newState()
    for s in exits {
      set(s, UInt8(ascii: "e"), ePart)
      set(s, UInt8(ascii: "E"), ePart)
    }
    set(ePart, UInt8(ascii: "-"), sign)
    set(ePart, UInt8(ascii: "+"), sign)
    for d in "0123456789".utf8 { set(ePart, d, d1); set(sign, d, d1); set(d1, d, d2) }
    return (int.entry, exits + [d1, d2])
  }

  /// Exactly one of these texts (a trie; none may be a prefix of another).
  public func oneOf(_ options: [String]) -> Piece {
    precondition(!options.isEmpty)
    let e = newState()
    var exits: [Int32] = []
    for o in options {
      var cur = e
      for b in o.utf8 {
        let n = table[Int(cur)][Int(b)]
        if n != ByteDFA.dead { cur = n; continue }
        let s = newState()
        set(cur, b, s)
        cur = s
      }
      exits.append(cur)
    }
    for x in exits {
      precondition(!table[Int(x)].contains { $0 != ByteDFA.dead }, "oneOf: an option is a prefix of another")
    }
    return (e, exits)
  }

  /// `open` item (`separator` item)* `close`, at least one item.
  public func list(
    open: String = "[", separator: String = ", ", close: String = "]", allowEmpty: Bool = false, item: () -> Piece
  ) -> Piece {
    let o = literal(open), it = item(), sep = literal(separator), c = literal(close)
    attach(o.exits, to: it.entry)
    if allowEmpty { attach(o.exits, to: c.entry) }
    attach(it.exits, to: sep.entry)
    attach(sep.exits, to: it.entry)
    attach(it.exits, to: c.entry)
    return (o.entry, c.exits)
  }

  /// `piece` with an optional leading "-" (JSON's negative numbers; `piece` must not begin with "-").
  public func optionalMinus(_ p: Piece) -> Piece {
    let e = newState()
    table[Int(e)] = table[Int(p.entry)]
    set(e, UInt8(ascii: "-"), p.entry)
    return (e, p.exits)
  }

  /// The automaton whose language is `piece` (its exits accept; reachable states renumbered).
  public func build(_ piece: Piece) -> ByteDFA {
    // Keep the states reachable from the entry, entry first.
    var index: [Int32: Int32] = [piece.entry: 0]
    var order: [Int32] = [piece.entry]
    var i = 0
    while i < order.count {
      for t in table[Int(order[i])] where t != ByteDFA.dead && index[t] == nil {
        index[t] = Int32(order.count)
        order.append(t)
      }
      i += 1
    }
    let exits = Set(piece.exits)
    var next = [Int32](repeating: ByteDFA.dead, count: order.count * 256)
    var accepting = [Bool](repeating: false, count: order.count)
    for (k, s) in order.enumerated() {
      accepting[k] = exits.contains(s)
      precondition(
        !accepting[k] || !table[Int(s)].contains { $0 != ByteDFA.dead }, "an accepting state may not continue")
      for b in 0..<256 where table[Int(s)][b] != ByteDFA.dead { next[k * 256 + b] = index[table[Int(s)][b]]! }
    }
    // Shortest distance to acceptance: breadth-first search on the reversed transitions.
    var reverse = [[Int32]](repeating: [], count: order.count)
    for s in 0..<order.count {
      for b in 0..<256 where next[s * 256 + b] >= 0 { reverse[Int(next[s * 256 + b])].append(Int32(s)) }
    }
    var dist = [Int32](repeating: .max, count: order.count)
    var queue: [Int32] = []
    for s in 0..<order.count where accepting[s] { dist[s] = 0; queue.append(Int32(s)) }
    var q = 0
    while q < queue.count {
      let s = queue[q]
      q += 1
      for p in reverse[Int(s)] where dist[Int(p)] == .max { dist[Int(p)] = dist[Int(s)] + 1; queue.append(p) }
    }
    precondition(dist.allSatisfy { $0 != .max }, "every state must be able to reach acceptance")
    return ByteDFA(next: next, accepting: accepting, start: 0, distance: dist)
  }
}

extension ByteDFA {
  /// The JSON object `{"k1": v1, "k2": v2, ...}` with keys in this order and `", "` / `": "`
  /// separators (Python's json.dumps defaults).
  public static func jsonObject(
    _ b: ByteDFABuilder, _ fields: [(key: String, value: ByteDFABuilder.Piece)]
  ) -> ByteDFABuilder.Piece {
    var parts: [ByteDFABuilder.Piece] = [b.literal("{")]
    for (i, f) in fields.enumerated() {
      parts.append(b.literal((i > 0 ? ", " : "") + "\"\(f.key)\": "))
      parts.append(f.value)
    }
    parts.append(b.literal("}"))
    return b.sequence(parts)
  }
}
