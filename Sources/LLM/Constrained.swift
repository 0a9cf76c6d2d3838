// Constrained.swift: schema-constrained decoding. A byte-level automaton (module Decoding) is run
// over the bytes of every token: at each step only tokens whose bytes all keep the automaton alive
// may be sampled, so a token that spans JSON syntax (`",` or `"]}`) is judged by all its bytes.
// The allowed-token row of a state is computed once (lazily) and shared by every sequence.
import Foundation

/// A DFA over the bytes of a vocabulary: which tokens may come next in each state. Shared by all
/// sequences that follow the same schema (thread-safe).
public final class TokenConstraint: @unchecked Sendable {
  public let dfa: ByteDFA
  let tokenBytes: [[UInt8]]  // (V) empty for special tokens, which are never allowed inside
  let lock = NSLock()
  var rows: [Int32: [Int32]] = [:]  // state -> (V) state after the token, or dead

  /// `tokenBytes(id)`: a token's raw bytes (empty: never allowed, e.g. control tokens).
  public init(dfa: ByteDFA, vocabSize: Int, tokenBytes: (Int) -> [UInt8]) {
    self.dfa = dfa
    self.tokenBytes = (0..<vocabSize).map(tokenBytes)
  }

  public var vocabSize: Int { tokenBytes.count }

  /// For each token, the state after it from `state` (dead: not allowed). Computed once per state.
  public func row(_ state: Int32) -> [Int32] {
    lock.lock()
    if let r = rows[state] { lock.unlock(); return r }
    lock.unlock()
    let r = tokenBytes.map { $0.isEmpty ? ByteDFA.dead : dfa.run(state, $0) }
    lock.lock()
    rows[state] = r
    lock.unlock()
    return r
  }

  /// Sets the logits of every token that may not follow `state` to -inf, given that at most
  /// `tokensLeft` tokens (this one included) remain. Returns the number of allowed tokens.
  @discardableResult
  public func mask(_ logits: UnsafeMutablePointer<Float>, state: Int32, tokensLeft: Int) -> Int {
    let r = row(state)
    var allowed = 0
    for t in 0..<r.count {
      let n = r[t]
      if n >= 0 && Int(dfa.distance[Int(n)]) <= tokensLeft - 1 { allowed += 1 } else { logits[t] = -.infinity }
    }
    return allowed
  }
}
