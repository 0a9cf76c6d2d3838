// Scoring.swift: the search repo's metrics (reference-pipeline 3.7), the SFT pair selection (3.9)
// and the quality-diversity archive of `search-qd`.
import Foundation
import Workspace

/// Accuracies of one iteration's evaluations: base[a][t][c][e] is the un-adapted proposer on
/// article a's questions for (template t, completion c, run e); adapted the same with the adapter.
/// A missing run (NaN) counts as 0, as `write_results` does; with `skipMissing` (our runs: a
/// failed self-edit is recorded and counted, never scored) it is left out of every mean instead.
public struct SearchResults: Sendable {
  public let base: [[[[Double]]]]  // (A, T, C, E)
  public let adapted: [[[[Double]]]]  // (A, T, C, E)
  public let skipMissing: Bool

  public init(base: [[[[Double]]]], adapted: [[[[Double]]]], skipMissing: Bool = false) throws {
    self.skipMissing = skipMissing
    func shape(_ x: [[[[Double]]]]) -> [Int] {
      [x.count, x.first?.count ?? 0, x.first?.first?.count ?? 0, x.first?.first?.first?.count ?? 0]
    }
    let s = shape(base)
    guard s == shape(adapted), s.allSatisfy({ $0 > 0 }),
      base.allSatisfy({ $0.count == s[1] && $0.allSatisfy { $0.count == s[2] && $0.allSatisfy { $0.count == s[3] } } }),
      adapted.allSatisfy({
        $0.count == s[1] && $0.allSatisfy { $0.count == s[2] && $0.allSatisfy { $0.count == s[3] } }
      })
    else {
      throw SearchError.badInput(
        what: "search results", expected: "base and adapted of one shape (A, T, C, E), all > 0",
        found: "\(shape(base)) and \(shape(adapted))")
    }
    let clean = { (x: [[[[Double]]]]) in skipMissing ? x : x.map { $0.map { $0.map { $0.map { $0.isNaN ? 0 : $0 } } } }
    }
    self.base = clean(base)
    self.adapted = clean(adapted)
  }

  public var articles: Int { base.count }
  public var templates: Int { base[0].count }
  public var completions: Int { base[0][0].count }

  static func mean(_ v: [Double]) -> Double {
    let x = v.filter { !$0.isNaN }
    return x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count)
  }

  /// B_a: the article's baseline over all T x C x E baseline runs.
  public func articleBaseline(_ a: Int) -> Double { Self.mean(base[a].flatMap { $0.flatMap { $0 } }) }
  /// Ā[a,t,c]: the completion's accuracy over its runs.
  public func completionAccuracy(_ a: Int, _ t: Int, _ c: Int) -> Double { Self.mean(adapted[a][t][c]) }
  /// A template's accuracy on one article (over C x E).
  public func articleTemplateAccuracy(_ a: Int, _ t: Int) -> Double { Self.mean(adapted[a][t].flatMap { $0 }) }

  /// `self_edit_template_mean_acc[t]`: over articles, completions and runs.
  public func templateAccuracy(_ t: Int) -> Double { Self.mean(adapted.flatMap { $0[t].flatMap { $0 } }) }

  /// `self_edit_template_normalized_gain[t]` = mean over (a, c) of (Ā - B_a) / (1 - B_a), no
  /// epsilon: an article with B_a = 1 gives nan or -inf, as in the reference.
  public func templateNormalizedGain(_ t: Int) -> Double {
    var v: [Double] = []
    for a in 0..<articles {
      let b = articleBaseline(a)
      for c in 0..<completions { v.append((completionAccuracy(a, t, c) - b) / (1 - b)) }
    }
    return Self.mean(v)
  }

  /// The run-level numbers: baseline and self-edit mean accuracy, mean gain, win rate and
  /// normalized gain (with the 1e-6 of the overall formula).
  public var overall: (baseline: Double, accuracy: Double, gain: Double, winRate: Double, normalizedGain: Double) {
    var gains: [Double] = [], wins: [Double] = [], ng: [Double] = []
    for a in 0..<articles {
      let b = articleBaseline(a)
      for t in 0..<templates {
        for c in 0..<completions {
          let g = completionAccuracy(a, t, c) - b
          gains.append(g); wins.append(g.isNaN ? .nan : g > 0 ? 1 : 0); ng.append(g / (1 - b + 1e-6))
        }
      }
    }
    let b = base.flatMap { $0.flatMap { $0.flatMap { $0 } } }, x = adapted.flatMap { $0.flatMap { $0.flatMap { $0 } } }
    // Skipped (failed) self-edits leave their baseline cells out too, so accuracy - baseline is
    // the mean gain over the same cells (the reference scores them as baseline, gain 0).
    let scoredBase = skipMissing ? zip(b, x).filter { !$0.1.isNaN }.map(\.0) : b
    return (Self.mean(scoredBase), Self.mean(x), Self.mean(gains), Self.mean(wins), Self.mean(ng))
  }

  /// The fixed-prompt variants' selection: per article, the top-k completions of template 0 by
  /// their accuracy, stable (ties keep file order), with no positive-gain filter: `build_dataset_baseline`
  /// (k 2, reference-pipeline 3.5) and SEAL's ReST-EM `--k_best 1` (2.6).
  public func topCompletions(k: Int) -> [(article: Int, template: Int, completion: Int)] {
    var out: [(Int, Int, Int)] = []
    for a in 0..<articles {
      let ranked = (0..<completions).filter { !completionAccuracy(a, 0, $0).isNaN }.sorted {
        let x = completionAccuracy(a, 0, $0), y = completionAccuracy(a, 0, $1)
        return x != y ? x > y : $0 < $1
      }
      out += ranked.prefix(k).map { (a, 0, $0) }
    }
    return out
  }

  /// `build_dataset_ours` (K_BEST = 2): per article, the top-k templates by their accuracy on
  /// it (stable: ties keep the lower t); with `archive`, templates at or below B_a are dropped;
  /// for each kept template the completion with the highest accuracy (ties: the first), after
  /// dropping, with `archive`, completions at or below B_a (none left: the template is skipped).
  public func sftPairs(archive: Bool, k: Int = 2) -> [(article: Int, template: Int, completion: Int)] {
    var out: [(Int, Int, Int)] = []
    for a in 0..<articles {
      let b = articleBaseline(a)
      // A template or completion with no evaluated run (skipMissing) ranks last and is never chosen.
      func key(_ v: Double) -> Double { v.isNaN ? -.infinity : v }
      let ranked = (0..<templates).sorted {
        let x = key(articleTemplateAccuracy(a, $0)), y = key(articleTemplateAccuracy(a, $1))
        return x != y ? x > y : $0 < $1
      }
      for t in ranked.prefix(k) where !articleTemplateAccuracy(a, t).isNaN {
        if archive && articleTemplateAccuracy(a, t) <= b { continue }
        let cands = (0..<completions).filter {
          !completionAccuracy(a, t, $0).isNaN && (!archive || completionAccuracy(a, t, $0) > b)
        }
        guard
          let best = cands.max(by: { x, y in
            let p = completionAccuracy(a, t, x), q = completionAccuracy(a, t, y)
            return p != q ? p < q : x > y  // max keeps the first on ties
          })
        else { continue }
        out.append((a, t, best))
      }
    }
    return out
  }
}

/// `search-qd`: a MAP-Elites archive over a 4 x 4 grid of template descriptors, one elite per
/// cell. Descriptors: the mean length of the template's training data in tokens (the strategy's
/// "volume": <128, 128-511, 512-2047, >=2048) and its learning rate (how hard it trains: <1e-4,
/// 1e-4..5e-4, 5e-4..2e-3, >=2e-3). Both come from the run records, need no embedding model, and
/// separate the strategies the released runs collapse between (short paraphrases vs long
/// implication lists; SEAL's 1e-3 vs the proposers' 1e-4). An entry enters an empty cell, or
/// replaces the elite of its cell when its accuracy is strictly higher.
public struct QualityDiversityArchive: Sendable {
  public struct Cell: Hashable, Sendable, Comparable {
    public var length: Int
    public var learningRate: Int
    public init(length: Int, learningRate: Int) { self.length = length; self.learningRate = learningRate }
    public static func < (a: Cell, b: Cell) -> Bool { (a.length, a.learningRate) < (b.length, b.learningRate) }
  }
  public static let lengthEdges: [Double] = [128, 512, 2048]
  public static let learningRateEdges: [Double] = [1e-4, 5e-4, 2e-3]
  public static var cellCount: Int { (lengthEdges.count + 1) * (learningRateEdges.count + 1) }

  /// How elites are compared and the meta prompt's entries chosen: `topBottom` (ours: accuracy,
  /// the top-2 and bottom-2 elites) or `mapElites` (normalized gain, which does not move with the
  /// baseline as the proposer changes; parents drawn uniformly from the filled cells).
  public enum Selection: String, Codable, Sendable { case topBottom, mapElites }
  public let selection: Selection

  public private(set) var elites: [Cell: ArchiveEntry] = [:]
  /// Each elite's length descriptor (mean training tokens), so the grid can be stored and rebuilt.
  public private(set) var descriptors: [Cell: Double] = [:]
  /// Entries shown while fewer than 4 elites exist (the seed archive).
  public var seed: [ArchiveEntry]

  public init(seed: [ArchiveEntry], selection: Selection = .topBottom) { self.seed = seed; self.selection = selection }

  static func bucket(_ x: Double, _ edges: [Double]) -> Int { edges.firstIndex { x < $0 } ?? edges.count }

  public static func cell(meanTrainingTokens: Double, learningRate: Double) -> Cell {
    Cell(length: bucket(meanTrainingTokens, lengthEdges), learningRate: bucket(learningRate, learningRateEdges))
  }

  /// Places an entry; true if it became its cell's elite. `learningRate`: the value the adapter
  /// trained with (nil: the proposed one, which a clamp may have changed).
  @discardableResult
  public mutating func insert(_ e: ArchiveEntry, meanTrainingTokens: Double, learningRate: Double? = nil) -> Bool {
    let c = Self.cell(
      meanTrainingTokens: meanTrainingTokens, learningRate: learningRate ?? e.template.value("learning_rate") ?? 0)
    if let old = elites[c] {
      // A NaN never wins (an entry without a finite gain does not displace an elite).
      let better = selection == .mapElites ? e.normalizedGain > old.normalizedGain : e.accuracy > old.accuracy
      if !better { return false }
    }
    elites[c] = e
    descriptors[c] = meanTrainingTokens
    return true
  }

  /// Share of the grid's cells holding an elite.
  public var coverage: Double { Double(elites.count) / Double(Self.cellCount) }
  /// QD-score: the sum over elites of their normalized gain over the un-adapted proposer, floored
  /// at 0 (an empty cell, or an elite that does no better than no adaptation, adds 0). A gain is
  /// used rather than the raw score so the sum is non-negative for every reward (a log-likelihood
  /// is negative) and a cell counts only for what its strategy adds.
  public var qdScore: Double {
    elites.values.reduce(0) { $0 + max(0, $1.normalizedGain.isNaN ? 0 : $1.normalizedGain) }
  }

  /// What the meta prompt shows: the elites by accuracy (so the top-2 and bottom-2 come from four
  /// different cells), topped up with seed entries (not already elites) while fewer than 4 exist.
  public var shown: [ArchiveEntry] {
    let e = elites.sorted { $0.key < $1.key }.map(\.value)
    let pool = e.count >= 4 ? e : e + seed.filter { !e.contains($0) }
    return ArchiveEntry.update([], with: pool)
  }

  /// MAP-Elites' parent selection: 4 elites drawn uniformly without replacement from the filled
  /// cells (`shown` while 4 or fewer exist), put in archive order (accuracy descending) for the
  /// meta prompt's four slots.
  public func parents(seed: UInt64) -> [ArchiveEntry] {
    var cells = elites.keys.sorted()
    guard cells.count > 4 else { return shown }
    var rng = SplitMix64(seed: seed)
    for k in 0..<4 { cells.swapAt(k, k + Int(rng.next() % UInt64(cells.count - k))) }
    return ArchiveEntry.update([], with: cells.prefix(4).map { elites[$0]! })
  }

  /// What the meta prompt of an iteration shows under this grid's selection.
  public func metaPromptEntries(seed: UInt64) -> [ArchiveEntry] {
    selection == .mapElites ? parents(seed: seed) : shown
  }
}
