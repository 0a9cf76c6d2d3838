// PreTokenizer: splits text into the "words" that BPE merges within, as llama.cpp does for the
// `tokenizer.ggml.pre` values implemented here. Hand-rolled scanners over Unicode scalars replace
// the regexes (no NSRegularExpression in the hot path); tests check them against
// NSRegularExpression running the original patterns.
//
//  smollm (+ starcoder, refact, command-r, codeshell, exaone, minerva):
//    1. "\p{N}"  — every number scalar becomes its own piece (HF `Digits(individual_digits)`),
//    2. "'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+" on each piece.
//  gpt2: step 2 alone.
//  llama3 (llama-bpe) / qwen2: "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])
//    |[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
//    (qwen2 uses \p{N} instead of \p{N}{1,3}).
//
// Invariants: regexes are applied in sequence and each splits every piece made so far, KEEPING the
// unmatched spans, so the pieces always concatenate back to the input. A piece boundary acts as
// end-of-text for the next regex (lookahead `(?!\S)` sees nothing past it). Classes: \p{L} and
// \p{N} are Unicode general categories L* and N*; \s is the Unicode White_Space property (as in
// llama.cpp's tables and HF's Rust regex). Each scalar is in exactly one of letter / number /
// whitespace / other.

public enum PreTokenizerKind: String, Sendable, CaseIterable {
  case smollm, gpt2, llama3, qwen2

  /// `tokenizer.ggml.pre` values accepted, per kind (llama.cpp `llama-vocab.cpp` groups them).
  public static let namesByKind: [(PreTokenizerKind, [String])] = [
    (.smollm, ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"]),
    (.gpt2, ["gpt2"]),
    (.llama3, ["llama-bpe", "llama3", "llama-v3", "falcon3"]),
    (.qwen2, ["qwen2", "deepseek-r1-qwen"]),
  ]

  public static var supportedNames: [String] { namesByKind.flatMap { $0.1 } }

  /// Maps a `tokenizer.ggml.pre` value to a kind; unknown names throw `.unknownPreTokenizer`.
  public init(ggufName: String) throws {
    for (kind, names) in Self.namesByKind where names.contains(ggufName) {
      self = kind
      return
    }
    throw TokenizerError.unknownPreTokenizer(ggufName)
  }
}

/// Scalar classes, one bit each; 0 means "outside the current piece" (end-of-text for lookahead).
enum ScalarClass {
  static let letter: UInt8 = 1
  static let number: UInt8 = 2
  static let space: UInt8 = 4
  static let other: UInt8 = 8

  /// Classes of U+0000..U+07FF, precomputed because Latin/Greek/Cyrillic text is common. (0x800)
  /// `Tokenizer.encode` indexes it directly; `classify` answers for every other scalar.
  static let table: [UInt8] = (0..<0x800).map { classify(UInt32($0)) }

  @inline(__always) static func of(_ v: UInt32) -> UInt8 {
    v < 0x800 ? table[Int(v)] : classify(v)
  }

  static func classify(_ v: UInt32) -> UInt8 {
    guard let s = Unicode.Scalar(v) else { return other }
    if s.properties.isWhitespace { return space }
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      return letter
    case .decimalNumber, .letterNumber, .otherNumber:
      return number
    default:
      return other
    }
  }
}

public struct PreTokenizer: Sendable {
  public let kind: PreTokenizerKind

  public init(kind: PreTokenizerKind) { self.kind = kind }

  public init(ggufName: String) throws { self.kind = try PreTokenizerKind(ggufName: ggufName) }

  /// The pieces of `text`, in order; they concatenate back to `text`. For tests and inspection:
  /// `Tokenizer.encode` uses `splitScalars` on buffers it reuses.
  public func split(_ text: String) -> [String] {
    let scalars = text.unicodeScalars.map { $0.value }
    let classes = scalars.map { ScalarClass.of($0) }
    var ends: [Int] = []
    scalars.withUnsafeBufferPointer { s in
      classes.withUnsafeBufferPointer { c in splitScalars(s, c, into: &ends) }
    }
    var out: [String] = []
    var start = 0
    for end in ends {
      var view = String.UnicodeScalarView()
      for v in scalars[start..<end] { view.append(Unicode.Scalar(v)!) }
      out.append(String(view))
      start = end
    }
    return out
  }

  /// Replaces `ends` with the end index (exclusive, in scalars) of every piece of `scalars`.
  /// `classes[i]` must be `ScalarClass.of(scalars[i])`. (N) each.
  func splitScalars(
    _ scalars: UnsafeBufferPointer<UInt32>, _ classes: UnsafeBufferPointer<UInt8>, into ends: inout [Int]
  ) {
    ends.removeAll(keepingCapacity: true)
    var scanner = Scanner(cps: scalars, cls: classes, ends: ends)
    ends = []  // drop our reference so the scanner's appends do not copy
    let n = scalars.count
    switch kind {
    case .gpt2:
      scanner.gpt2(0, n)
    case .llama3:
      scanner.llama3(0, n, maxDigits: 3)
    case .qwen2:
      scanner.llama3(0, n, maxDigits: 1)
    case .smollm:
      // Regex 1: each number scalar is its own piece; the runs between go through regex 2.
      var runStart = 0
      for i in 0..<n where classes[i] == ScalarClass.number {
        if runStart < i { scanner.gpt2(runStart, i) }
        scanner.emit(i + 1)
        runStart = i + 1
      }
      if runStart < n { scanner.gpt2(runStart, n) }
    }
    ends = scanner.ends
  }
}

/// One scan over a piece [lo, hi); mirrors llama.cpp `unicode_regex_split_custom_gpt2/_llama3`.
private struct Scanner {
  let cps: UnsafeBufferPointer<UInt32>
  let cls: UnsafeBufferPointer<UInt8>
  var ends: [Int]
  var hi = 0
  var prev = 0

  init(cps: UnsafeBufferPointer<UInt32>, cls: UnsafeBufferPointer<UInt8>, ends: [Int]) {
    self.cps = cps
    self.cls = cls
    self.ends = ends
  }

  /// Class at `i`, or 0 past the end of the current piece.
  @inline(__always) func c(_ i: Int) -> UInt8 { i < hi ? cls[i] : 0 }

  @inline(__always) mutating func emit(_ end: Int) {
    // Zero-length matches produce no piece.
    if end > prev {
      ends.append(end)
      prev = end
    }
  }

  @inline(__always) func isContraction(_ pos: Int, caseFold: Bool) -> Int {
    // Returns the length of 's 't 're 've 'm 'll 'd at pos, or 0.
    guard cps[pos] == 0x27, pos + 1 < hi else { return 0 }
    @inline(__always) func low(_ v: UInt32) -> UInt32 { caseFold && v >= 0x41 && v <= 0x5A ? v + 32 : v }
    let a = low(cps[pos + 1])
    if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return 2 }  // s t m d
    guard pos + 2 < hi else { return 0 }
    let b = low(cps[pos + 2])
    if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return 3 }  // re ve ll
    return 0
  }

  mutating func gpt2(_ lo: Int, _ hiBound: Int) {
    hi = hiBound
    var pos = lo
    while pos < hi {
      let cp = cps[pos]
      let k = isContraction(pos, caseFold: false)
      if k > 0 {
        pos += k
        emit(pos)
        continue
      }
      let isSpace = cp == 0x20
      let f2 = isSpace ? c(pos + 1) : cls[pos]
      // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
      if f2 & (ScalarClass.letter | ScalarClass.number | ScalarClass.other) != 0 {
        if isSpace { pos += 1 }
        while c(pos) == f2 { pos += 1 }
        emit(pos)
        continue
      }
      pos = whitespace(pos, allowNewlineRule: false)
    }
  }

  /// `\s*[\r\n]+` (llama3 only) | `\s+(?!\S)` | `\s+` | a single unmatched scalar.
  mutating func whitespace(_ start: Int, allowNewlineRule: Bool) -> Int {
    var pos = start
    var n = 0
    var lastNewlineEnd = -1
    while c(pos + n) == ScalarClass.space {
      let v = cps[pos + n]
      if v == 0x0D || v == 0x0A { lastNewlineEnd = pos + n + 1 }
      n += 1
    }
    if allowNewlineRule && lastNewlineEnd > 0 {
      pos = lastNewlineEnd
    } else if n > 1 && pos + n < hi {
      pos += n - 1  // leave the last space to prefix the following word
    } else if n > 0 {
      pos += n
    } else {
      pos += 1  // unreachable: every scalar has a class; kept so the scan always advances
    }
    emit(pos)
    return pos
  }

  mutating func llama3(_ lo: Int, _ hiBound: Int, maxDigits: Int) {
    hi = hiBound
    var pos = lo
    while pos < hi {
      let cp = cps[pos]
      let f = cls[pos]
      let k = isContraction(pos, caseFold: true)
      if k > 0 {
        pos += k
        emit(pos)
        continue
      }
      // `[^\r\n\p{L}\p{N}]?\p{L}+`
      if !(cp == 0x0D || cp == 0x0A || f == ScalarClass.number) {
        if f == ScalarClass.letter || c(pos + 1) == ScalarClass.letter {
          pos += 1
          while c(pos) == ScalarClass.letter { pos += 1 }
          emit(pos)
          continue
        }
      }
      // `\p{N}{1,maxDigits}`, repeated
      if f == ScalarClass.number {
        var runStart = pos
        while c(pos) == ScalarClass.number {
          pos += 1
          if pos - runStart >= maxDigits {
            emit(pos)
            runStart = pos
          }
        }
        emit(pos)
        continue
      }
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
      let f2 = cp == 0x20 ? c(pos + 1) : f
      if f2 == ScalarClass.other {
        if cp == 0x20 { pos += 1 }
        while c(pos) == ScalarClass.other { pos += 1 }
        while pos < hi && (cps[pos] == 0x0D || cps[pos] == 0x0A) { pos += 1 }
        emit(pos)
        continue
      }
      pos = whitespace(pos, allowNewlineRule: true)
    }
  }
}
