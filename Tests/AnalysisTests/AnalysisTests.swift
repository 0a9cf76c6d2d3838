// Pins the similarity, length, grading and statistics code on hand-made inputs with known answers.
import Analysis
import Foundation
import Reporting
import Search
import Testing
import Workspace

func close(_ a: Double?, _ b: Double, _ tol: Double = 1e-12) -> Bool {
  guard let a else { return false }
  return abs(a - b) <= tol * max(1, abs(b))
}

/// A hyperparameter object in the search's key order; `without` leaves one key out.
func hp(
  _ r: Double, _ a: Double, _ d: Double, _ lr: Double, _ e: Double, _ ga: Double, without: String? = nil
) -> PyJSON {
  .object(
    zip(SelfEditTemplate.hyperparameterKeys, [r, a, d, lr, e, ga]).filter { $0.0 != without }.map {
      ($0.0, .float($0.1))
    })
}

@Suite("Hyperparameter similarity")
struct HyperparameterSimilarityTests {
  @Test("identical hyperparameters score 1")
  func identical() {
    let a = hp(32, 64, 0.1, 1e-3, 10, 1)
    #expect(close(HyperparameterSimilarity.pair(a, a), 1))
  }

  @Test("per-key scales: linear, log2 and log10 on the fixed domains")
  func scales() {
    // rank 8 vs 16: 1 - 1/4 (log2 range 4); alpha 1 vs 256: 0; dropout 0 vs 0.5: 0.5;
    // lr 1e-4 vs 1e-3: 1 - 1/log10(500); epochs 1 vs 20: 0; GA 1 vs 8: 0.
    let a = hp(8, 1, 0, 1e-4, 1, 1), b = hp(16, 256, 0.5, 1e-3, 20, 8)
    let expected = (0.75 + 0 + 0.5 + (1 - 1 / log10(500.0)) + 0 + 0) / 6
    #expect(close(HyperparameterSimilarity.pair(a, b), expected))
  }

  @Test("values outside the domain are not clamped; only the similarity is")
  func noValueClamp() {
    let d = HyperparameterSimilarity.domains[0]  // lora_rank log2 [4, 64]
    #expect(close(HyperparameterSimilarity.keySimilarity(.int(128), .float(64), domain: d), 0.75))
    #expect(HyperparameterSimilarity.keySimilarity(.int(4096), .int(4), domain: d) == 0)
  }

  @Test("a missing key scores 0 and still counts in the mean; non-positive log values score 0; strings use equality")
  func missingAndOdd() {
    let a = hp(32, 64, 0.1, 1e-3, 10, 1, without: "num_epochs")
    let b = hp(32, 64, 0.1, 1e-3, 10, 1)
    #expect(close(HyperparameterSimilarity.pair(a, b), 5.0 / 6))
    let d = HyperparameterSimilarity.domains[3]
    #expect(HyperparameterSimilarity.keySimilarity(.float(-1e-3), .float(-1e-3), domain: d) == 0)
    #expect(HyperparameterSimilarity.keySimilarity(.string("x"), .string("x"), domain: d) == 1)
    #expect(HyperparameterSimilarity.keySimilarity(.string("x"), .int(1), domain: d) == 0)
    #expect(HyperparameterSimilarity.keySimilarity(.bool(true), .int(1), domain: d) == 0)
  }

  @Test("group score is the mean over unordered pairs; one template has no score")
  func group() {
    let a = hp(32, 64, 0.1, 1e-3, 10, 1)
    let b = hp(32, 64, 0.6, 1e-3, 10, 1)  // dropout sim 0.5 -> pair 1 - 0.5/6
    let ab = 1 - 0.5 / 6
    #expect(close(HyperparameterSimilarity.group([a, a, b]), (1 + ab + ab) / 3))
    #expect(HyperparameterSimilarity.group([a]) == nil)
  }
}

struct FixedEmbedder: TextEmbedder {
  var name = "fixed"
  var vectors: [String: [Float]]
  func embed(_ texts: [String]) throws -> [[Float]] { texts.map { vectors[$0] ?? [0, 0] } }
}

@Suite("Text similarity")
struct TextSimilarityTests {
  @Test("tokens are lowercase runs of [a-z0-9']")
  func tokens() {
    #expect(
      TextSimilarity.tokens("Let's read: The passage, 2x—fast!") == ["let's", "read", "the", "passage", "2x", "fast"])
  }

  @Test("token Jaccard of hand-made sets")
  func jaccard() {
    #expect(close(TextSimilarity.jaccard("a b c", "b c d"), 2.0 / 4))
    #expect(TextSimilarity.jaccard("", "") == 1)
    #expect(TextSimilarity.jaccard("x", "") == 0)
    #expect(close(TextSimilarity.jaccardGroup(["a b", "a b", "c"]), (1 + 0 + 0) / 3))
  }

  @Test("TF-IDF cosine with smooth idf: identical texts 1, disjoint 0, partial overlap as computed by hand")
  func tfidf() {
    let m = TFIDF(corpus: ["a b", "a c"])
    // idf(a) = ln(3/3)+1 = 1, idf(b) = idf(c) = ln(3/2)+1.
    let w = log(1.5) + 1
    let expected = 1 / (1 + w * w)  // vectors (1, w, 0) and (1, 0, w), normalised
    #expect(close(m.cosine("a b", "a c"), expected))
    #expect(close(m.cosine("a b", "a b"), 1))
    #expect(m.cosine("b", "c") == 0)
  }

  @Test("embedding similarity is (1 + cos) / 2 of the embedder's vectors, blank text becomes [EMPTY]")
  func embedding() throws {
    let e = FixedEmbedder(vectors: ["x": [1, 0], "y": [0, 1], "z": [-1, 0], "[EMPTY]": [1, 0]])
    #expect(close(TextSimilarity.embeddingPair([1, 0], [0, 1]), 0.5, 1e-9))
    #expect(close(TextSimilarity.embeddingPair([1, 0], [-1, 0]), 0, 1e-9))
    #expect(close(try TextSimilarity.embeddingGroup(["x", "y", "z"], embedder: e), (0.5 + 0 + 0.5) / 3, 1e-9))
    #expect(close(try TextSimilarity.embeddingGroup(["x", "  "], embedder: e), 1, 1e-9))
  }

  @Test("an embedder returning the wrong number of vectors is a typed error")
  func badEmbedder() {
    struct Bad: TextEmbedder { var name = "bad"; func embed(_ t: [String]) throws -> [[Float]] { [[1]] } }
    #expect(throws: AnalysisError.self) { try TextSimilarity.embeddingGroup(["a", "b"], embedder: Bad()) }
  }
}

@Suite("Collapse")
struct CollapseTests {
  @Test("flags iterations whose scores exceed the thresholds and counts distinct instructions")
  func flags() throws {
    let t = Template(instruction: "same words here", hyperparameters: hp(32, 64, 0.1, 1e-3, 10, 1))
    let u = Template(instruction: "other text entirely", hyperparameters: hp(4, 1, 0.9, 1e-5, 1, 8))
    let its = try Collapse.analyze([[t, u], [t, t, t]])
    #expect(its[0].distinctInstructions == 2 && its[1].distinctInstructions == 1)
    #expect(!its[0].hyperparameterFlag && its[1].hyperparameterFlag)
    // The text threshold is on the embedding scale: lexical measures are never flagged by it.
    #expect(its[1].textFlags.isEmpty && its[0].textFlags.isEmpty)
    #expect(its[0].text[0].value == nil && its[0].text[0].note == "not computed (model not installed)")
    struct Words: TextEmbedder {
      var name: String
      func embed(_ t: [String]) throws -> [[Float]] { t.map { $0.hasPrefix("same") ? [1, 0] : [0, 1] } }
    }
    // The 0.92 belongs to the paper's model: the same scores from another model are not flagged.
    let paper = try Collapse.analyze([[t, u], [t, t, t]], embedder: Words(name: "text-embedding-3-large"))
    #expect(paper[1].textFlags == ["embedding text-embedding-3-large, (1+cos)/2"] && paper[0].textFlags.isEmpty)
    let miniLM = try Collapse.analyze(
      [[t, u], [t, t, t]], embedder: Words(name: "all-MiniLM-L6-v2 (local, mean pooling)"))
    #expect(miniLM[1].score(miniLM[1].text[0].measure)! > 0.99 && miniLM.allSatisfy { $0.textFlags.isEmpty })
    let own = try Collapse.analyze(
      [[t, t, t]], embedder: Words(name: "mine"), thresholds: CollapseThresholds(textModel: "mine"))
    #expect(own[0].textFlags == ["embedding mine, (1+cos)/2"])
    let strict = try Collapse.analyze([[t, t]], thresholds: CollapseThresholds(text: 1, hyperparameter: 1))
    #expect(!strict[0].hyperparameterFlag && strict[0].textFlags.isEmpty)
  }

  @Test("template files: malformed entries are typed errors naming the position")
  func loading() throws {
    let ok = try JSONValue.parse(
      Data(#"[[{"data_creation_instruction": "x", "hyperparameters": {"lora_rank": 8}}, "y"]]"#.utf8), path: "t.json")
    let g = try Collapse.templateGroups(ok, path: "t.json")
    #expect(g[0].count == 2 && g[0][0].hyperparameters["lora_rank"] == .float(8) && g[0][1].instruction == "y")
    let bad = try JSONValue.parse(Data(#"[[{"hyperparameters": {}}]]"#.utf8), path: "t.json")
    #expect(
      throws: AnalysisError.malformed(
        path: "t.json", key: "[0][0].data_creation_instruction", expected: "a string", found: "missing")
    ) {
      try Collapse.templateGroups(bad, path: "t.json")
    }
  }
}

@Suite("Lengths")
struct LengthTests {
  @Test("mean characters per training_sequences list, empty lists in the denominator, nested lists found")
  func lengths() throws {
    let doc = try JSONValue.parse(
      Data(
        #"""
        {"a": [{"training_sequences": ["abc", "de"]}, {"training_sequences": []}],
         "b": {"inner": {"training_sequences": ["é✓", 3]}}}
        """#.utf8), path: "x")
    let s = Lengths.summarize(doc, tokenCounter: { $0.split(separator: " ").count + 1 })
    #expect(s.lists == 3 && s.emptyLists == 1 && s.sequences == 3)  // the number 3 is not a string: skipped
    #expect(s.totalCharacters == 5 + 0 + 2)
    #expect(close(s.meanCharacters, 7.0 / 3))
    #expect(s.totalTokens == 2 + 2 + 2)
  }

  @Test("seb analyze lengths: a row per group of a list of lists, then all; a file without lists is an error naming it")
  func adHocTable() throws {
    let doc: JSONValue = [[["training_sequences": ["abc", "de"]]], [["training_sequences": []]]]
    let md = try AdHocReport.lengths(doc, file: "g.json", tokenCounter: nil)
    #expect(md.hasPrefix("# Training-data length of g.json\n\n| scope | lists |"))
    #expect(md.contains("| group 0 | 1 | 0 | 2 | 5.0 | not computed") && md.contains("| group 1 | 1 | 1 | 0 | 0.0 |"))
    #expect(md.contains("| all | 2 | 1 | 2 | 2.5 |"))
    #expect(throws: AnalysisError.self) { try AdHocReport.lengths(["x": 1], file: "none.json", tokenCounter: nil) }
  }

  @Test("characters are Unicode scalars, as Python len")
  func scalars() {
    #expect(Lengths.characters("e\u{301}") == 2)  // one Character, two scalars
  }
}

@Suite("Grading")
struct GradingTests {
  @Test("SQuAD normalisation: lowercase, punctuation, articles, whitespace")
  func normalize() {
    #expect(Grading.normalize("  The  Eiffel-Tower, in a city! ") == "eiffeltower in city")
    #expect(Grading.normalize("Theory of an Anthem") == "theory of anthem")
  }

  @Test("exact match, F1 and contains on hand-made answers")
  func graders() {
    #expect(Grading.exactMatch("the Denver Broncos", "Denver Broncos"))
    #expect(close(Grading.f1("Denver Broncos won", "Denver Broncos"), 0.8))
    #expect(Grading.f1("", "x") == 0)
    #expect(Grading.contains("They were the Denver Broncos.", "denver broncos"))
    #expect(!Grading.contains("Broncos", "Denver Broncos"))
    #expect(Grading.contains("x", references: ["y", "x"]))
    let g = OfflineGrader(rule: .f1(atLeast: 0.5), references: .all)
    #expect(
      g.grade(prediction: "Santa Clara", single: "Levi's Stadium", all: ["Levi's Stadium", "Santa Clara, California"]))
    #expect(
      !OfflineGrader(rule: .f1(atLeast: 0.5), references: .single).grade(
        prediction: "Santa Clara", single: "Levi's Stadium", all: []))
  }

  @Test("agreement, precision, recall and Cohen's kappa of a hand-made confusion table")
  func agreement() {
    var a = Agreement()
    for _ in 0..<20 { a.add(grader: true, judge: true) }
    for _ in 0..<5 { a.add(grader: true, judge: false) }
    for _ in 0..<10 { a.add(grader: false, judge: true) }
    for _ in 0..<15 { a.add(grader: false, judge: false) }
    #expect(close(a.agreement, 0.7) && close(a.precision, 0.8) && close(a.recall, 20.0 / 30))
    // p_o 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5 -> kappa 0.4
    #expect(close(a.kappa, 0.4))
    #expect(close(GraderFidelity.kendallTau([1, 2, 3], [3, 2, 1]), -1))
  }
}

@Suite("Statistics")
struct StatisticsTests {
  @Test("SplitMix64 matches the reference sequence for seed 0")
  func splitmix() {
    var r = SplitMix64(seed: 0)
    #expect(r.next() == 0xE220_A839_7B1D_CDAF)
    #expect(r.next() == 0x6E78_9E6A_A1B9_65F4)
  }

  @Test(
    "bootstrap: constant data gives a zero-width interval; same seed gives the same interval; the interval holds the mean"
  )
  func bootstrap() throws {
    let c = try Stats.bootstrapMean([0.5, 0.5, 0.5], resamples: 100, seed: 1)
    #expect(c.mean == 0.5 && c.lower == 0.5 && c.upper == 0.5)
    let xs = (0..<50).map { Double($0 % 7) / 7 }
    let a = try Stats.bootstrapMean(xs, seed: 7), b = try Stats.bootstrapMean(xs, seed: 7)
    #expect(a == b && a.lower < a.mean && a.mean < a.upper)
    #expect(throws: ExperimentError.self) { try Stats.bootstrapMean([]) }
  }

  @Test("macro and micro averages differ as expected")
  func averages() {
    #expect(close(Stats.macro(correct: [1, 0], total: [1, 3]), 0.5))
    #expect(close(Stats.micro(correct: [1, 0], total: [1, 3]), 0.25))
  }

  @Test("paired differences count wins, losses, ties; the sign test is exact")
  func paired() throws {
    let p = try PairedDifference(a: [1, 0.5, 0.2, 0.3], b: [0, 0.5, 0.4, 0.1], resamples: 200, seed: 3)
    #expect(p.wins == 2 && p.losses == 1 && p.ties == 1)
    #expect(close(p.difference.mean, (1 + 0 - 0.2 + 0.2) / 4))
    #expect(close(PairedDifference.signTest(wins: 5, losses: 0), 2.0 / 32, 1e-9))
    #expect(throws: ExperimentError.self) { try PairedDifference(a: [1], b: []) }
  }

  @Test("percentile interpolates like numpy")
  func percentile() {
    #expect(close(Stats.percentile(sorted: [1, 2, 3, 4], 50), 2.5))
    #expect(close(Stats.percentile(sorted: [1, 2, 3, 4], 2.5), 1.075))
  }

  @Test("sha256 of known inputs")
  func sha() {
    #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }
}

@Suite("Charts")
struct ChartTests {
  @Test("a chart's .dat holds the numbers and its .gp reads the .dat and writes PNG and SVG")
  func render() throws {
    let c = Chart(
      name: "t", title: "T", xLabel: "x", yLabel: "y",
      kind: .lines(
        [Series(name: "s", x: [0, 1], y: [0.5, 0.25], lower: [0.4, 0.2], upper: [0.6, 0.3])],
        references: [ReferenceLine(label: "thr", y: 0.9)]))
    let (dat, gp) = try ChartWriter.render(c)
    // x y lower upper x_drawn (one series: not moved sideways).
    #expect(dat.contains("0 0.5 0.4 0.6 0\n1 0.25 0.2 0.3 1\n"))
    #expect(
      gp.contains("do for [fmt in \"png svg\"]") && gp.contains("set output \"t.\" . fmt")
        && gp.contains("\"t.dat\" index 0"))
    #expect(gp.contains("0.9 with lines"))
    let bad = Chart(
      name: "b", title: "", xLabel: "x", yLabel: "y", kind: .lines([Series(name: "s", x: [0], y: [])], references: []))
    #expect(throws: ReportingError.self) { try ChartWriter.render(bad) }
  }

  @Test("without gnuplot the data and script are still written and the result says why")
  func missingGnuplot() throws {
    let dir = NSTemporaryDirectory() + "seb-chart-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let c = Chart(name: "b", title: "B", xLabel: "m", yLabel: "v", kind: .bars([Bar(label: "a", value: 1)]))
    let o = try ChartWriter(directory: dir, gnuplot: "/nonexistent/gnuplot").write(c)
    #expect(!o.rendered && o.message != nil)
    #expect(
      FileManager.default.fileExists(atPath: dir + "/b.dat") && FileManager.default.fileExists(atPath: dir + "/b.gp"))
  }
}
