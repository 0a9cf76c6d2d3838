// Tokenizer: byte-level BPE (GGUF `tokenizer.ggml.model = "gpt2"`) text <-> token ids.
//
// encode: text (UTF-8 bytes)
//   -> special-token split: control (type 3), unknown (type 2) and user-defined (type 4) token texts
//      are cut out first, longest token first (llama.cpp `tokenizer_st_partition`); with
//      parseSpecial = false only user-defined tokens are cut out (as llama.cpp and HF do)
//   -> pre-tokenizer pieces (PreTokenizer.swift)
//   -> each piece's bytes -> their single-byte tokens -> BPE merges (BPE.swift) -> ids.
// decode: ids -> bytes (normal tokens through the reverse GPT-2 byte table, control/unknown/
//   user-defined tokens as their literal text, unused (type 5) as nothing) -> UTF-8 string.
//
// Invariants: after init every merge's parts and result are vocab tokens; `encode` never adds BOS
// (use `encode(_:addSpecial:parseSpecial:)` for the GGUF `add_bos_token` behaviour); decoding of
// encode(text) returns text exactly for any valid string (byte-level BPE is lossless), provided no
// byte lacks a single-byte token. The value is immutable and Sendable; encode allocates its own
// scratch buffers, so concurrent calls are safe.

/// GGUF `tokenizer.ggml.token_type` values (llama.cpp `llama_token_type`).
public enum TokenType {
  public static let normal: Int32 = 1
  public static let unknown: Int32 = 2
  public static let control: Int32 = 3
  public static let userDefined: Int32 = 4
  public static let unused: Int32 = 5
  public static let byte: Int32 = 6
}

public struct Tokenizer: Sendable {
  /// Token texts as stored in the vocab (byte-level characters for normal tokens). (V)
  public let tokens: [String]
  /// GGUF token types, see `TokenType`. (V)
  public let tokenTypes: [Int32]
  /// Merge entries "left right", rank = index.
  public let merges: [String]
  public let bosId: Int?
  public let eosId: Int?
  public let unknownId: Int?
  public let paddingId: Int?
  /// GGUF `tokenizer.ggml.add_bos_token`; only `encode(_:addSpecial:parseSpecial:)` uses it.
  public let addBOS: Bool
  public let preTokenizer: PreTokenizer
  /// Ids of type-3 (control) tokens, e.g. `<|im_start|>`.
  public let controlTokenIds: Set<Int>

  public var vocabSize: Int { tokens.count }

  /// UTF-8 of the token text -> id. Keys are bytes, not Strings: String equality is canonical
  /// equivalence, which would merge distinct tokens such as "é" and "e\u{301}".
  private let idByText: [[UInt8]: Int32]
  /// Token of each byte's GPT-2 character, -1 if the vocab lacks it. (256)
  private let byteTokens: [Int32]
  /// Bytes that have no token of their own: encoding drops them (HF tokenizers and llama.cpp too).
  public var bytesWithoutToken: [UInt8] { (0..<256).filter { byteTokens[$0] < 0 }.map { UInt8($0) } }
  private let mergeTable: MergeTable
  /// Decoded bytes of every token, concatenated; token i is decodedBytes[decodedOffsets[i]..<[i+1]].
  private let decodedBytes: [UInt8]  // (sum of token byte lengths)
  private let decodedOffsets: [Int32]  // (V + 1)
  /// Tokens split out before BPE, longest text first then lowest id.
  private let specials: [Special]

  struct Special: Sendable {
    let bytes: [UInt8]
    let id: Int32
    /// User-defined tokens are split out even when parseSpecial is false.
    let alwaysParsed: Bool
  }

  /// Builds a tokenizer from the GGUF `tokenizer.*` arrays (no GGUF dependency: the GGUF glue
  /// `Tokenizer(gguf:)` reads the keys and calls this). `preTokenizer` is the `tokenizer.ggml.pre`
  /// value. Throws `TokenizerError` for any inconsistent input.
  public init(
    tokens: [String], merges: [String], tokenTypes: [Int32], bosId: Int?, eosId: Int?, unknownId: Int?,
    paddingId: Int?, preTokenizer: String, addBOS: Bool
  ) throws {
    guard !tokens.isEmpty else { throw TokenizerError.emptyVocab }
    guard tokenTypes.count == tokens.count else {
      throw TokenizerError.tokenTypeCountMismatch(tokens: tokens.count, types: tokenTypes.count)
    }
    for (key, id) in [
      ("tokenizer.ggml.bos_token_id", bosId), ("tokenizer.ggml.eos_token_id", eosId),
      ("tokenizer.ggml.unknown_token_id", unknownId), ("tokenizer.ggml.padding_token_id", paddingId),
    ] {
      if let id, !(0..<tokens.count).contains(id) {
        throw TokenizerError.specialIdOutOfRange(key: key, id: id, vocabSize: tokens.count)
      }
    }
    self.preTokenizer = try PreTokenizer(ggufName: preTokenizer)
    self.tokens = tokens
    self.tokenTypes = tokenTypes
    self.merges = merges
    self.bosId = bosId
    self.eosId = eosId
    self.unknownId = unknownId
    self.paddingId = paddingId
    self.addBOS = addBOS

    var idByText: [[UInt8]: Int32] = [:]
    idByText.reserveCapacity(tokens.count)
    for (i, t) in tokens.enumerated() { idByText[Array(t.utf8)] = Int32(i) }  // duplicates: last wins, as llama.cpp
    self.idByText = idByText

    self.byteTokens = (0..<256).map { b in
      idByText[Array(ByteEncoder.encode([UInt8(b)]).utf8)] ?? -1
    }

    var table = MergeTable(minimumCapacity: merges.count)
    for (rank, entry) in merges.enumerated() {
      let bytes = Array(entry.utf8)
      // llama.cpp searches the separator from index 1, so a left part may itself be " ".
      guard bytes.count >= 3, let sep = bytes[1...].firstIndex(of: 0x20), sep + 1 < bytes.count else {
        throw TokenizerError.malformedMerge(index: rank, value: entry)
      }
      let left = Array(bytes[..<sep])
      let right = Array(bytes[(sep + 1)...])
      var ids: [Int32] = []
      for part in [left, right, left + right] {
        guard let id = idByText[part] else {
          throw TokenizerError.mergeUnknownToken(
            index: rank, value: entry, token: String(decoding: part, as: UTF8.self))
        }
        ids.append(id)
      }
      table.insertIfAbsent(left: ids[0], right: ids[1], rank: Int32(rank), merged: ids[2])
    }
    self.mergeTable = table

    var decoded: [UInt8] = []
    var offsets: [Int32] = [0]
    offsets.reserveCapacity(tokens.count + 1)
    var specials: [Special] = []
    var control = Set<Int>()
    for (i, t) in tokens.enumerated() {
      let type = tokenTypes[i]
      switch type {
      case TokenType.control, TokenType.unknown, TokenType.userDefined:
        decoded.append(contentsOf: t.utf8)
        if !t.isEmpty {
          specials.append(Special(bytes: Array(t.utf8), id: Int32(i), alwaysParsed: type == TokenType.userDefined))
        }
        if type == TokenType.control { control.insert(i) }
      case TokenType.unused:
        break
      default:
        // A text outside the byte table decodes as its own UTF-8 (HF ByteLevel decoder fallback).
        decoded.append(contentsOf: ByteEncoder.decode(t) ?? Array(t.utf8))
      }
      offsets.append(Int32(decoded.count))
    }
    self.decodedBytes = decoded
    self.decodedOffsets = offsets
    self.specials = specials.sorted { a, b in
      a.bytes.count != b.bytes.count ? a.bytes.count > b.bytes.count : a.id < b.id
    }
    self.controlTokenIds = control
  }

  // MARK: - Lookup

  /// Id of the token whose vocab text is exactly `token` (byte-level form, e.g. "Ġthe"), or nil.
  public func id(of token: String) -> Int? {
    idByText[Array(token.utf8)].map(Int.init)
  }

  /// The vocab text of `id`, or nil when out of range.
  public func tokenText(_ id: Int) -> String? {
    tokens.indices.contains(id) ? tokens[id] : nil
  }

  /// Ids that end generation: EOS plus the control tokens whose text is a known end-of-turn or
  /// end-of-text marker (llama.cpp `special_eog_ids`); for SmolLM2 that is {2, 0}.
  public var endOfGenerationIds: Set<Int> {
    var ids = Set<Int>()
    if let eosId { ids.insert(eosId) }
    let markers: Set<String> = ["<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>"]
    for id in controlTokenIds where markers.contains(tokens[id]) { ids.insert(id) }
    return ids
  }

  // MARK: - Encode

  /// Token ids of `text`. Never adds BOS. With `parseSpecial` (default) the texts of control tokens
  /// such as "<|im_start|>" become their ids; without it they are encoded as ordinary text.
  public func encode(_ text: String, parseSpecial: Bool = true) -> [Int] {
    var out: [Int] = []
    out.reserveCapacity(text.utf8.count / 3 + 4)
    var ws = EncodeWorkspace()
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBufferPointer { buf in
      let all = UnsafeBufferPointer(buf)
      for f in splitSpecials(all, parseSpecial: parseSpecial) {
        if f.id >= 0 {
          out.append(Int(f.id))
        } else {
          encodeText(UnsafeBufferPointer(rebasing: all[f.lo..<f.hi]), &ws, &out)
        }
      }
    }
    return out
  }

  /// `encode`, with BOS prepended when the model asks for it (`addBOS`) and `addSpecial` is set,
  /// like llama.cpp's `add_special`.
  public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool = true) -> [Int] {
    let ids = encode(text, parseSpecial: parseSpecial)
    if addSpecial, addBOS, let bos = bosId { return [bos] + ids }
    return ids
  }

  /// A text fragment or a special token, as produced by the special-token split.
  public enum Fragment: Equatable, Sendable {
    case text(String)
    case special(Int)
  }

  /// The special-token split of `text` (first stage of `encode`).
  public func fragments(_ text: String, parseSpecial: Bool = true) -> [Fragment] {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { all in
      splitSpecials(all, parseSpecial: parseSpecial).map { f in
        f.id >= 0 ? .special(Int(f.id)) : .text(String(decoding: all[f.lo..<f.hi], as: UTF8.self))
      }
    }
  }

  /// Byte range [lo, hi) of plain text (id = -1) or one special token (id >= 0).
  private struct RawFragment {
    var lo: Int
    var hi: Int
    var id: Int32
  }

  /// Cuts special tokens out of plain-text fragments, one token at a time, longest first; each
  /// token cuts all its non-overlapping occurrences left to right. Cuts happen on whole UTF-8
  /// sequences because a valid UTF-8 needle only matches at scalar boundaries.
  private func splitSpecials(_ all: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [RawFragment] {
    var frags = [RawFragment(lo: 0, hi: all.count, id: -1)]
    if all.isEmpty { return [] }
    if specials.isEmpty { return frags }
    // One pass to find which bytes occur, so tokens that cannot match skip their pass.
    var present = [Bool](repeating: false, count: 256)
    for b in all { present[Int(b)] = true }
    for special in specials where parseSpecial || special.alwaysParsed {
      let needle = special.bytes
      let first = needle[0]
      guard present[Int(first)] else { continue }
      var next: [RawFragment] = []
      var changed = false
      for f in frags {
        guard f.id < 0, f.hi - f.lo >= needle.count else {
          next.append(f)
          continue
        }
        var start = f.lo
        var i = f.lo
        let last = f.hi - needle.count
        while i <= last {
          if all[i] == first
            && needle.withUnsafeBufferPointer({ n in
              var k = 1
              while k < n.count && all[i + k] == n[k] { k += 1 }
              return k == n.count
            })
          {
            if start < i { next.append(RawFragment(lo: start, hi: i, id: -1)) }
            next.append(RawFragment(lo: i, hi: i + needle.count, id: special.id))
            changed = true
            i += needle.count
            start = i
          } else {
            i += 1
          }
        }
        if start < f.hi { next.append(RawFragment(lo: start, hi: f.hi, id: -1)) }
      }
      if changed { frags = next }
    }
    return frags
  }

  /// Scratch buffers reused across the fragments and pieces of one encode call.
  private struct EncodeWorkspace {
    var scalars: [UInt32] = []  // (N) scalars of the fragment (only the first `count` are valid)
    var classes: [UInt8] = []  // (N) ScalarClass of each scalar
    var offsets: [Int] = []  // (N + 1) byte offset of each scalar in the fragment, then the end
    var ends: [Int] = []  // piece ends, in scalars
    let bpe = BPEWorkspace()
  }

  private func encodeText(_ bytes: UnsafeBufferPointer<UInt8>, _ ws: inout EncodeWorkspace, _ out: inout [Int]) {
    let n = bytes.count
    if ws.scalars.count < n + 1 {
      ws.scalars = [UInt32](repeating: 0, count: n + 1)
      ws.classes = [UInt8](repeating: 0, count: n + 1)
      ws.offsets = [Int](repeating: 0, count: n + 1)
    }
    // Decode UTF-8 (the bytes come from a Swift String, so they are valid).
    let count: Int = ws.scalars.withUnsafeMutableBufferPointer { scalars in
      ws.classes.withUnsafeMutableBufferPointer { classes in
        ws.offsets.withUnsafeMutableBufferPointer { offsets in
          ScalarClass.table.withUnsafeBufferPointer { table in
            var i = 0
            var m = 0
            while i < n {
              let b0 = UInt32(bytes[i])
              var v: UInt32
              var len: Int
              if b0 < 0x80 {
                v = b0
                len = 1
              } else if b0 < 0xE0 {
                v = b0 & 0x1F
                len = 2
              } else if b0 < 0xF0 {
                v = b0 & 0x0F
                len = 3
              } else {
                v = b0 & 0x07
                len = 4
              }
              if i + len > n { len = n - i }  // unreachable for valid UTF-8; keeps indices in range
              var k = 1
              while k < len {
                v = v << 6 | UInt32(bytes[i + k] & 0x3F)
                k += 1
              }
              scalars[m] = v
              classes[m] = v < UInt32(table.count) ? table[Int(v)] : ScalarClass.classify(v)
              offsets[m] = i
              m += 1
              i += len
            }
            offsets[m] = n
            return m
          }
        }
      }
    }

    ws.scalars.withUnsafeBufferPointer { s in
      ws.classes.withUnsafeBufferPointer { c in
        preTokenizer.splitScalars(
          UnsafeBufferPointer(rebasing: s[..<count]), UnsafeBufferPointer(rebasing: c[..<count]), into: &ws.ends)
      }
    }
    let bpe = ws.bpe
    byteTokens.withUnsafeBufferPointer { byteTokens in
      ws.offsets.withUnsafeBufferPointer { offsets in
        var start = 0
        for end in ws.ends {
          let lo = offsets[start]
          let hi = offsets[end]
          start = end
          bpe.reserve(hi - lo)
          for j in lo..<hi {
            let t = byteTokens[Int(bytes[j])]
            if t >= 0 {
              bpe.append(t)
            } else {
              // No token for this byte: merge what came before and drop the byte, as HF tokenizers
              // (unk_token None) and llama.cpp do. Emitting the GGUF's unknown id would put
              // <|endoftext|> into the text (SmolLM2 has no token for 0x04, 0x06, 0x13, 0x14, 0x16, 0x1D).
              BPEMerger.merge(bpe, table: mergeTable, into: &out)
            }
          }
          BPEMerger.merge(bpe, table: mergeTable, into: &out)
        }
      }
    }
  }

  // MARK: - Decode

  /// Raw bytes of one token (empty for unused tokens, and for control/unknown tokens when
  /// `skipSpecial`). Throws `.idOutOfRange`.
  public func bytes(of id: Int, skipSpecial: Bool = false) throws -> ArraySlice<UInt8> {
    guard id >= 0 && id < tokens.count else { throw TokenizerError.idOutOfRange(id: id, vocabSize: tokens.count) }
    if skipSpecial {
      let t = tokenTypes[id]
      if t == TokenType.control || t == TokenType.unknown { return [] }
    }
    return decodedBytes[Int(decodedOffsets[id])..<Int(decodedOffsets[id + 1])]
  }

  /// Concatenated bytes of `ids`. Throws `.idOutOfRange` for an invalid id.
  public func decodeBytes(_ ids: [Int], skipSpecial: Bool = false) throws -> [UInt8] {
    var out: [UInt8] = []
    for id in ids { out.append(contentsOf: try bytes(of: id, skipSpecial: skipSpecial)) }
    return out
  }

  /// Text of `ids`: control tokens appear as their text ("<|im_end|>") unless `skipSpecial`.
  /// Invalid UTF-8 (a sequence cut by the end of `ids`) becomes U+FFFD. Throws `.idOutOfRange`.
  public func decode(_ ids: [Int], skipSpecial: Bool = false) throws -> String {
    String(decoding: try decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
  }

  /// Human-readable text of one token for display: its decoded text when that is valid UTF-8,
  /// otherwise its bytes as `\xHH` escapes (a piece of a multi-byte character); "<invalid id N>"
  /// for an id outside the vocab.
  public func piece(_ id: Int) -> String {
    guard let raw = try? bytes(of: id) else { return "<invalid id \(id)>" }
    if UTF8Util.isValid(raw) { return String(decoding: raw, as: UTF8.self) }
    return raw.map { "\\x" + String($0, radix: 16, uppercase: true).leftPadded(2) }.joined()
  }
}

extension String {
  fileprivate func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
