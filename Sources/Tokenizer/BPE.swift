// BPE: byte-pair merging of one pre-tokenized piece, two implementations of the same rule.
//
// Rule (HF `tokenizers` and llama.cpp `llm_tokenizer_bpe_session`): start from one symbol per byte
// (the vocab token of that byte's GPT-2 character), then repeatedly merge the adjacent pair whose
// merge has the lowest rank (rank = index in `tokenizer.ggml.merges`); among pairs of equal rank
// the leftmost goes first. Stop when no adjacent pair has a merge.
//
// - `BPEMerger` (fast): symbols are token ids in a linked list over a fixed array, candidate pairs
//   sit in a binary min-heap keyed by (rank << 32 | left position), stale heap entries are skipped
//   when popped. O(n log n) per piece, no allocation once the workspace has grown.
// - `NaiveBPE` (reference): symbols are Strings, every step rescans all pairs. O(n^2), obviously
//   correct; tests check that the two agree on random text.
//
// Invariants: a merge's result is always a vocab token (checked when the table is built), so every
// symbol is a token id; a token that absorbs its right neighbour gets a strictly longer text, so an
// id at a position never repeats and (position, left id, right id) identifies a live pair.

/// Open-addressing hash table (linear probing) from a pair of token ids to (rank, merged id).
/// Swift's Dictionary hashes with SipHash; this multiplicative hash is several times cheaper and
/// pair lookups dominate BPE time.
struct MergeTable: Sendable {
  private static let empty = UInt64.max
  private var keys: [UInt64]  // (capacity) left << 32 | right, `empty` when unused
  private var values: [UInt64]  // (capacity) rank << 32 | merged id
  private let shift: UInt64
  private let mask: Int
  private(set) var count = 0

  init(minimumCapacity: Int) {
    var bits: UInt64 = 4
    while (1 << bits) < minimumCapacity * 2 { bits += 1 }  // load factor <= 0.5
    keys = [UInt64](repeating: Self.empty, count: 1 << bits)
    values = [UInt64](repeating: 0, count: 1 << bits)
    shift = 64 - bits
    mask = (1 << Int(bits)) - 1
  }

  @inline(__always) static func key(_ left: Int32, _ right: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
  }

  @inline(__always) private func slot(_ key: UInt64) -> Int {
    Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
  }

  /// Inserts unless the pair is already present: a repeated merge keeps its first (lowest) rank.
  mutating func insertIfAbsent(left: Int32, right: Int32, rank: Int32, merged: Int32) {
    let k = Self.key(left, right)
    var i = slot(k)
    while keys[i] != Self.empty {
      if keys[i] == k { return }
      i = (i + 1) & mask
    }
    keys[i] = k
    values[i] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: merged))
    count += 1
  }

  /// (rank, merged id) of the pair, or nil.
  @inline(__always) func lookup(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
    let k = Self.key(left, right)
    var i = slot(k)
    while true {
      let stored = keys[i]
      if stored == k {
        let v = values[i]
        return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
      }
      if stored == Self.empty { return nil }
      i = (i + 1) & mask
    }
  }
}

/// Reusable buffers for `BPEMerger`, grown on demand; one per encode call, never shared between
/// threads. Raw pointers because Array's copy-on-write checks dominated the merge loop.
final class BPEWorkspace {
  private(set) var capacity = 0
  /// Number of symbols of the current piece (N).
  var count = 0
  var ids: UnsafeMutablePointer<Int32>  // (N) symbol id per position, -1 once absorbed into its left neighbour
  var prev: UnsafeMutablePointer<Int32>  // (N) linked list over live positions, -1 = none
  var next: UnsafeMutablePointer<Int32>  // (N) N = none
  var heap: UnsafeMutablePointer<HeapEntry>  // (3N) at most N-1 initial pairs + 2 per merge
  var heapCount = 0

  struct HeapEntry {
    var key: UInt64  // rank << 32 | left position: smaller = merge first, ties -> leftmost
    var left: Int32
    var right: Int32
  }

  init(capacity: Int = 64) {
    ids = .allocate(capacity: 1)
    prev = .allocate(capacity: 1)
    next = .allocate(capacity: 1)
    heap = .allocate(capacity: 1)
    reserve(capacity)
  }

  deinit {
    ids.deallocate()
    prev.deallocate()
    next.deallocate()
    heap.deallocate()
  }

  /// Makes room for `n` symbols, dropping the current contents.
  func reserve(_ n: Int) {
    guard n > capacity else { return }
    let c = max(n, capacity * 2)
    ids.deallocate()
    prev.deallocate()
    next.deallocate()
    heap.deallocate()
    ids = .allocate(capacity: c)
    prev = .allocate(capacity: c)
    next = .allocate(capacity: c)
    heap = .allocate(capacity: 3 * c)
    capacity = c
  }

  /// Appends a symbol, growing (and keeping the contents) when full.
  @inline(__always) func append(_ id: Int32) {
    if count == capacity {
      let old = UnsafeMutableBufferPointer(start: ids, count: count).map { $0 }
      reserve(count + 1)
      for (i, v) in old.enumerated() { ids[i] = v }
    }
    ids[count] = id
    count += 1
  }
}

enum BPEMerger {
  /// Merges the `ws.count` symbols in `ws.ids` (all valid ids), appends the result to `out`, and
  /// empties the workspace.
  static func merge(_ ws: BPEWorkspace, table: MergeTable, into out: inout [Int]) {
    let n = ws.count
    defer { ws.count = 0 }
    let ids = ws.ids
    if n == 0 { return }
    if n == 1 {
      out.append(Int(ids[0]))
      return
    }
    if n == 2 {
      if let m = table.lookup(ids[0], ids[1]) {
        out.append(Int(m.merged))
      } else {
        out.append(Int(ids[0]))
        out.append(Int(ids[1]))
      }
      return
    }
    let prev = ws.prev
    let next = ws.next
    ws.heapCount = 0
    for i in 0..<n {
      prev[i] = Int32(i - 1)
      next[i] = Int32(i + 1)
    }
    for i in 0..<(n - 1) {
      push(ws, table: table, at: i, ids[i], ids[i + 1])
    }
    while let top = pop(ws) {
      let l = Int(truncatingIfNeeded: top.key & 0xFFFF_FFFF)
      guard ids[l] == top.left else { continue }  // l changed or was absorbed
      let r = Int(next[l])
      guard r < n, ids[r] == top.right else { continue }  // right neighbour changed
      guard let m = table.lookup(top.left, top.right) else { continue }
      ids[l] = m.merged
      ids[r] = -1
      let rr = Int(next[r])
      next[l] = Int32(rr)
      if rr < n { prev[rr] = Int32(l) }
      let p = Int(prev[l])
      if p >= 0 { push(ws, table: table, at: p, ids[p], m.merged) }
      if rr < n { push(ws, table: table, at: l, m.merged, ids[rr]) }
    }
    var i = 0  // position 0 is never absorbed: it has no left neighbour
    while i < n {
      out.append(Int(ids[i]))
      i = Int(next[i])
    }
  }

  @inline(__always)
  private static func push(_ ws: BPEWorkspace, table: MergeTable, at pos: Int, _ a: Int32, _ b: Int32) {
    guard let m = table.lookup(a, b) else { return }
    let entry = BPEWorkspace.HeapEntry(key: UInt64(UInt32(m.rank)) << 32 | UInt64(pos), left: a, right: b)
    let heap = ws.heap
    var child = ws.heapCount
    ws.heapCount += 1
    while child > 0 {
      let parent = (child - 1) >> 1
      if heap[parent].key <= entry.key { break }
      heap[child] = heap[parent]
      child = parent
    }
    heap[child] = entry
  }

  @inline(__always)
  private static func pop(_ ws: BPEWorkspace) -> BPEWorkspace.HeapEntry? {
    if ws.heapCount == 0 { return nil }
    let heap = ws.heap
    ws.heapCount -= 1
    let n = ws.heapCount
    let top = heap[0]
    if n == 0 { return top }
    let last = heap[n]
    var i = 0
    while true {
      var c = 2 * i + 1
      if c >= n { break }
      if c + 1 < n && heap[c + 1].key < heap[c].key { c += 1 }
      if heap[c].key >= last.key { break }
      heap[i] = heap[c]
      i = c
    }
    heap[i] = last
    return top
  }
}

/// Reference BPE over strings: rescans every adjacent pair each step. Slow; for tests and
/// for checking `Tokenizer.encode` (see `encode(_:parseSpecial:)` of this type).
public struct NaiveBPE: Sendable {
  public let tokenizer: Tokenizer
  /// "left right" -> rank, first occurrence wins.
  private let ranks: [String: Int]

  public init(tokenizer: Tokenizer) {
    self.tokenizer = tokenizer
    var r: [String: Int] = [:]
    for (i, m) in tokenizer.merges.enumerated() where r[m] == nil { r[m] = i }
    ranks = r
  }

  /// Merged symbols of one piece given as raw bytes (each byte starts as its GPT-2 character).
  public func mergeSymbols(_ bytes: [UInt8]) -> [String] {
    var symbols = bytes.map { ByteEncoder.encode([$0]) }
    while symbols.count > 1 {
      var best = -1
      var bestRank = Int.max
      for i in 0..<(symbols.count - 1) {
        if let rank = ranks[symbols[i] + " " + symbols[i + 1]], rank < bestRank {
          bestRank = rank
          best = i
        }
      }
      if best < 0 { break }
      symbols[best] += symbols[best + 1]
      symbols.remove(at: best + 1)
    }
    return symbols
  }

  /// Same pipeline as `Tokenizer.encode` (special-token split, pre-tokenizer) but naive merging.
  public func encode(_ text: String, parseSpecial: Bool = true) -> [Int] {
    var out: [Int] = []
    for fragment in tokenizer.fragments(text, parseSpecial: parseSpecial) {
      switch fragment {
      case .special(let id):
        out.append(id)
      case .text(let s):
        for piece in tokenizer.preTokenizer.split(s) {
          for symbol in mergeSymbols(Array(piece.utf8)) {
            // A byte without a token is dropped, as HF tokenizers (unk_token None) and llama.cpp do;
            // SmolLM2 lacks 0x04, 0x06, 0x13, 0x14, 0x16, 0x1D. Its GGUF "unknown" id is <|endoftext|>.
            if let id = tokenizer.id(of: symbol) { out.append(id) }
          }
        }
      }
    }
    return out
  }
}
