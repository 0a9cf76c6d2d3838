// Regeneration of the published numbers (shared/docs/paper-numbers.md) from the released files.
// Everything computed here comes from the files under the data root; the only constants are the
// published values themselves (`PaperNumbers.published`), kept to compare against, and the file
// layout of the data root. Definitions (reference-pipeline.md 2.4, 4.1, 4.4):
// - single-passage accuracy: macro = mean over the 200 passages of correct/questions (adapter
//   verdicts of completion 0), micro = over the 974 questions; "Base model" = baseline verdicts of
//   base.json.
// - CPT: micro adapter accuracy over server_reply.adapter_correct.
// - ranking runs: per passage baseline = mean of its completions' baseline_mean, adapter = mean of
//   adapter_mean, best-of-5 = max adapter_mean; each then averaged over passages.
// - self-edit length: characters (Unicode scalars) of the first non-blank completion of the first
//   200 passages of each *_val.json, averaged.
// - search: Collapse.analyze on the two *_templates_by_iter.json files.
import Foundation

public struct DataFileRecord: Equatable, Sendable {
  public var path: String
  public var bytes: Int
  public var sha256: String?
}

/// One [recomputed] number: what paper-numbers.md prints and what the files give.
public struct PublishedCheck: Equatable, Sendable {
  public var id: String
  public var label: String
  /// As printed in paper-numbers.md; its number of decimals sets the comparison precision.
  public var published: String
  public var computed: Double
  public var source: String
  public var decimals: Int { published.split(separator: ".").dropFirst().first?.count ?? 0 }
  public var computedText: String { String(format: "%.\(decimals)f", computed) }
  public var matches: Bool { computedText == published }
}

/// One method of SEAL's single-passage table as plain per-passage data.
public struct MethodAccuracy: Sendable {
  public var key: String
  public var name: String
  public var source: String
  /// The paper's printed percentage, if any.
  public var paper: String?
  public var correct: [Int]  // (P) per passage
  public var total: [Int]  // (P) per passage
  public var perPassage: [Double] { zip(correct, total).map { Double($0) / Double($1) } }
  public var macro: Estimate
  public var micro: Double
}

public struct NamedPair: Sendable {
  public var a: String
  public var b: String
  public var result: PairedDifference
}

public struct RankingSummary: Sendable {
  public var round: Int
  public var source: String
  public var baseline: [Double]  // (P)
  public var adapter: [Double]  // (P) mean over completions
  public var bestOfK: [Double]  // (P) max over completions
}

public struct SelfEditLength: Sendable {
  public var method: String
  public var source: String
  public var perPassage: [Double]  // (P) characters
  public var estimate: Estimate
}

/// The collapse metrics of one released search variant's templates (ours are Search.SearchVariant runs).
public struct ReleasedSearchCollapse: Sendable {
  public var name: String
  public var source: String
  public var iterations: [IterationCollapse]
}

public struct CPTResult: Sendable {
  public var name: String
  public var source: String
  public var paper: String
  public var micro: Double
  public var questions: Int
}

public struct PaperRegeneration: Sendable {
  public var dataRoot: String
  public var seal: [MethodAccuracy]
  public var pairs: [NamedPair]
  public var cpt: [CPTResult]
  public var ranking: [RankingSummary]
  public var lengths: [SelfEditLength]
  public var search: [ReleasedSearchCollapse]
  public var checks: [PublishedCheck]
  /// Where a released file and the paper's printed value differ.
  public var disagreements: [String]
  public var files: [DataFileRecord]
  public var embedderName: String?
  public var seed: UInt64
  public var resamples: Int
}

public enum PaperNumbers {
  /// [recomputed] values of paper-numbers.md, keyed by check id.
  public static let published: [(id: String, label: String, value: String)] =
    [
      ("seal.baseline.macro", "SEAL single passage: Base model (base.json baseline), macro", "0.3267"),
      ("seal.naive.macro", "SEAL single passage: Train on passage, macro", "0.3351"),
      ("seal.naive.micro", "SEAL single passage: Train on passage, micro", "0.3357"),
      ("seal.base.macro", "SEAL single passage: Passage + base-model implications, macro", "0.3968"),
      ("seal.base.micro", "SEAL single passage: Passage + base-model implications, micro", "0.4066"),
      ("seal.gpt4_1.macro", "SEAL single passage: Passage + GPT-4.1 implications, macro", "0.4631"),
      ("seal.gpt4_1.micro", "SEAL single passage: Passage + GPT-4.1 implications, micro", "0.4559"),
      ("seal.iter1.macro", "SEAL single passage: after ReST-EM round 1, macro", "0.4268"),
      ("seal.iter1.micro", "SEAL single passage: after ReST-EM round 1, micro", "0.4230"),
      ("seal.iter2.macro", "SEAL single passage: after round 2, macro", "0.4699"),
      ("seal.iter2.micro", "SEAL single passage: after round 2, micro", "0.4671"),
      ("cpt.naive", "CPT (200 passages at once), naive, micro", "0.3224"),
      ("cpt.base", "CPT, base-model implications, micro", "0.4097"),
      ("cpt.gpt4_1", "CPT, GPT-4.1 implications, micro", "0.3943"),
      ("cpt.iter2", "CPT, SEAL round 2, micro", "0.4384"),
      ("rank.1.baseline", "ReST-EM round 1 ranking: baseline", "0.3187"),
      ("rank.1.adapter", "ReST-EM round 1 ranking: mean adapter", "0.4018"),
      ("rank.1.best", "ReST-EM round 1 ranking: mean best-of-5", "0.5431"),
      ("rank.2.baseline", "ReST-EM round 2 ranking: baseline", "0.3526"),
      ("rank.2.adapter", "ReST-EM round 2 ranking: mean adapter", "0.4332"),
      ("rank.2.best", "ReST-EM round 2 ranking: mean best-of-5", "0.5935"),
      ("len.base", "Mean self-edit length (chars): implications, base model", "976.9"),
      ("len.iter1", "Mean self-edit length (chars): round 1", "880.9"),
      ("len.iter2", "Mean self-edit length (chars): round 2", "850.1"),
      ("len.gpt4_1", "Mean self-edit length (chars): GPT-4.1", "2092.8"),
    ] + searchPublished

  static let searchHP: [String: [String]] = [
    "noarchive": ["0.8355", "0.9289", "0.9269", "0.9179", "0.9750"],
    "archive": ["0.9329", "0.9594", "0.9729", "1.0000", "1.0000"],
  ]
  static let searchDistinct: [String: [String]] = [
    "archive": ["5", "5", "4", "4", "3"], "noarchive": ["5", "5", "5", "5", "5"],
  ]
  static let searchJaccard: [String: [String]] = [
    "archive": ["0.218", "0.391", "0.602", "0.789", "0.843"],
    "noarchive": ["0.160", "0.256", "0.425", "0.405", "0.574"],
  ]
  static var searchPublished: [(id: String, label: String, value: String)] {
    var out: [(id: String, label: String, value: String)] = []
    for v in ["noarchive", "archive"] {
      let name = v == "archive" ? "Archive" : "No archive"
      for i in 0..<5 {
        out.append(("search.\(v).hp.\(i)", "Search \(name): hyperparameter similarity, iter \(i)", searchHP[v]![i]))
      }
      for i in 0..<5 {
        out.append(
          ("search.\(v).distinct.\(i)", "Search \(name): distinct instructions, iter \(i)", searchDistinct[v]![i]))
      }
      for i in 0..<5 {
        out.append(
          ("search.\(v).jaccard.\(i)", "Search \(name): mean pairwise token Jaccard, iter \(i)", searchJaccard[v]![i]))
      }
    }
    return out
  }

  /// The paper's printed percentages for SEAL's tables (for the side-by-side columns).
  public static let paperSingle: [String: String] = [
    "baseline": "32.7", "naive": "33.5", "base": "39.7", "gpt4_1": "46.3", "iter1": "43.7", "iter2": "47.0",
  ]
  public static let paperCPT: [String: String] = ["naive": "32.2", "base": "41.0", "gpt4_1": "39.4", "iter2": "43.8"]

  static let methodNames: [(key: String, name: String)] = [
    ("naive", "Train on passage"), ("base", "Passage + base-model implications"),
    ("gpt4_1", "Passage + GPT-4.1 implications"), ("iter1", "SEAL after ReST-EM round 1"),
    ("iter2", "SEAL after round 2"),
  ]

  public static let evalDir = "seal/results/query_server/eval"
  public static let searchFiles: [(key: String, name: String, path: String)] = [
    ("noarchive", "No archive", "self-edit-search/Qwen3-8B/ours/noarchive/no_archive_train_templates_by_iter.json"),
    ("archive", "Archive", "self-edit-search/Qwen3-8B/ours/archive/archive_train_templates_by_iter.json"),
  ]

  /// Recomputes every [recomputed] number from `dataRoot`. `hashFiles` adds sha256 of each file read.
  public static func regenerate(
    dataRoot: String, embedder: TextEmbedder? = nil, seed: UInt64 = 0,
    resamples: Int = 2000, hashFiles: Bool = false,
    thresholds: CollapseThresholds = CollapseThresholds()
  ) throws -> PaperRegeneration {
    var files: [DataFileRecord] = []
    func path(_ rel: String) throws -> String {
      let p = (dataRoot as NSString).appendingPathComponent(rel)
      guard FileManager.default.fileExists(atPath: p) else {
        throw AnalysisError.unreadable(path: p, reason: "file not found under the data root \(dataRoot)")
      }
      if !files.contains(where: { $0.path == rel }) {
        let data = try readFile(p)
        files.append(DataFileRecord(path: rel, bytes: data.count, sha256: hashFiles ? SHA256.hex(data) : nil))
      }
      return p
    }
    var computed: [String: (Double, String)] = [:]

    // SEAL single passage.
    var seal: [MethodAccuracy] = []
    var passageKeys: [String]? = nil
    for (i, m) in (methodNames).enumerated() {
      let rel = "\(evalDir)/\(m.key).json"
      let run = try SEALFiles.loadEvalRun(try path(rel))
      let keys = run.map { $0.title + "\u{1F}" + $0.context }
      if let pk = passageKeys, pk != keys {
        throw AnalysisError.malformed(
          path: rel, key: "articles", expected: "the same passages in the same order as \(evalDir)/naive.json",
          found: "a different list")
      }
      passageKeys = keys
      let total = run.map(\.adapterCorrect.count)
      func row(key: String, name: String, correct: [Int], paper: String?, seedOffset: UInt64) throws -> MethodAccuracy {
        let per = zip(correct, total).map { Double($0) / Double($1) }
        return MethodAccuracy(
          key: key, name: name, source: rel, paper: paper, correct: correct, total: total,
          macro: try Stats.bootstrapMean(per, resamples: resamples, seed: seed &+ seedOffset),
          micro: Stats.micro(correct: correct, total: total))
      }
      if m.key == "base" {
        let b = try row(
          key: "baseline", name: "Base model (no adaptation)",
          correct: run.map { $0.baselineCorrect.filter { $0 }.count },
          paper: paperSingle["baseline"], seedOffset: 100)
        seal.insert(b, at: 0)
        computed["seal.baseline.macro"] = (b.macro.mean, rel)
      }
      let r = try row(
        key: m.key, name: m.name, correct: run.map { $0.adapterCorrect.filter { $0 }.count },
        paper: paperSingle[m.key], seedOffset: UInt64(i))
      seal.append(r)
      computed["seal.\(m.key).macro"] = (r.macro.mean, rel)
      computed["seal.\(m.key).micro"] = (r.micro, rel)
    }
    seal.sort { order($0.key) < order($1.key) }
    var pairs: [NamedPair] = []
    let byKey = Dictionary(uniqueKeysWithValues: seal.map { ($0.key, $0) })
    for (k, (a, b)) in [
      ("iter2", "base"), ("iter2", "gpt4_1"), ("iter1", "base"), ("iter2", "iter1"), ("base", "naive"),
      ("naive", "baseline"),
    ].enumerated() {
      guard let x = byKey[a], let y = byKey[b] else { continue }
      pairs.append(
        NamedPair(
          a: x.name, b: y.name,
          result: try PairedDifference(
            a: x.perPassage, b: y.perPassage, resamples: resamples, seed: seed &+ 200 &+ UInt64(k))))
    }

    // CPT.
    var cpt: [CPTResult] = []
    for key in ["naive", "base", "gpt4_1", "iter2"] {
      let rel = "seal/results/cpt/cpt_\(key).json"
      let reply = try SEALFiles.loadCPT(try path(rel))
      let micro = Stats.micro(
        correct: [reply.adapter_correct.filter { $0 }.count], total: [reply.adapter_correct.count])
      cpt.append(
        CPTResult(
          name: methodNames.first { $0.key == key }!.name, source: rel, paper: paperCPT[key]!, micro: micro,
          questions: reply.adapter_correct.count))
      computed["cpt.\(key)"] = (micro, rel)
    }

    // ReST-EM ranking runs: round r is ranked on rank_iter{r-1}.json.
    var ranking: [RankingSummary] = []
    for round in 1...2 {
      let rel = "seal/results/query_server/train/rank_iter\(round - 1).json"
      let run = try SEALFiles.loadRankingRun(try path(rel))
      let s = RankingSummary(
        round: round, source: rel, baseline: run.map { Stats.mean($0.baselineMeans) },
        adapter: run.map { Stats.mean($0.adapterMeans) }, bestOfK: run.map { $0.adapterMeans.max() ?? .nan })
      ranking.append(s)
      computed["rank.\(round).baseline"] = (Stats.mean(s.baseline), rel)
      computed["rank.\(round).adapter"] = (Stats.mean(s.adapter), rel)
      computed["rank.\(round).best"] = (Stats.mean(s.bestOfK), rel)
    }

    // Self-edit lengths.
    var lengths: [SelfEditLength] = []
    for (k, (key, name)) in [
      ("base", "Implications, base model"), ("iter1", "SEAL round 1"), ("iter2", "SEAL round 2"), ("gpt4_1", "GPT-4.1"),
    ].enumerated() {
      let rel = "seal/data/synthetic_data/eval/\(key)_val.json"
      let gen = try SEALFiles.loadGenerated(try path(rel)).prefix(200)
      let per = gen.map { Double(Lengths.characters(SEALFiles.firstNonEmpty($0.completions))) }
      let e = try Stats.bootstrapMean(Array(per), resamples: resamples, seed: seed &+ 300 &+ UInt64(k))
      lengths.append(SelfEditLength(method: name, source: rel, perPassage: Array(per), estimate: e))
      computed["len.\(key)"] = (e.mean, rel)
    }

    // Search: collapse per iteration.
    var search: [ReleasedSearchCollapse] = []
    for f in searchFiles {
      let groups = try Collapse.loadTemplateGroups(try path(f.path))
      let its = try Collapse.analyze(groups, embedder: embedder, thresholds: thresholds)
      search.append(ReleasedSearchCollapse(name: f.name, source: f.path, iterations: its))
      for it in its {
        if let hp = it.hyperparameter { computed["search.\(f.key).hp.\(it.iteration)"] = (hp, f.path) }
        computed["search.\(f.key).distinct.\(it.iteration)"] = (Double(it.distinctInstructions), f.path)
        if let j = it.score(.tokenJaccard) { computed["search.\(f.key).jaccard.\(it.iteration)"] = (j, f.path) }
      }
    }

    let checks = published.map { p -> PublishedCheck in
      let c = computed[p.id]
      return PublishedCheck(
        id: p.id, label: p.label, published: p.value, computed: c?.0 ?? .nan, source: c?.1 ?? "(not computed)")
    }
    var disagreements: [String] = []
    for m in seal {
      guard let paper = m.paper else { continue }
      let ours = String(format: "%.1f", m.macro.mean * 100)
      if ours != paper {
        disagreements.append(
          "\(m.name): the released file \(m.source) gives \(ours) (macro \(String(format: "%.4f", m.macro.mean))); the paper prints \(paper)."
        )
      }
    }
    for c in cpt {
      let ours = String(format: "%.1f", c.micro * 100)
      if ours != c.paper {
        disagreements.append("CPT \(c.name): \(c.source) gives \(ours); the paper prints \(c.paper).")
      }
    }
    return PaperRegeneration(
      dataRoot: dataRoot, seal: seal, pairs: pairs, cpt: cpt, ranking: ranking, lengths: lengths,
      search: search, checks: checks, disagreements: disagreements, files: files,
      embedderName: embedder?.name, seed: seed, resamples: resamples)
  }

  static func order(_ key: String) -> Int {
    ["baseline", "naive", "base", "gpt4_1", "iter1", "iter2"].firstIndex(of: key) ?? 99
  }
}
