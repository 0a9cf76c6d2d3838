// ExperimentTests.swift: splits, prompts, self-edit parsing, configs, aggregation and expectations
// against hand-made inputs with known answers, and against the released files when ../shared is present.
import Experiment
import Foundation
import Testing
import Workspace

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path
let dataRoot = URL(fileURLWithPath: packageRoot).appendingPathComponent("../shared/data").standardizedFileURL.path
let haveData = FileManager.default.fileExists(atPath: dataRoot + "/squad/squad_val.json")
let released = dataRoot + "/seal/data/synthetic_data/eval/"

func tempDir() -> String {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("seb-exp-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
  return d
}

@Suite("CPython random port")
struct PythonRandomTests {
  @Test("seed(42) gives getrandbits(32) = 2746317213 first (reference-pipeline 1.3)")
  func firstWord() {
    var r = PythonRandom(seed: 42)
    #expect(r.getrandbits(32) == 2_746_317_213)
  }

  @Test("shuffling 2067 indices starts 1168, 760, 685, 1193, 1679")
  func shuffle() {
    #expect(Array(PythonRandom.shuffledIndices(count: 2067).prefix(5)) == [1168, 760, 685, 1193, 1679])
  }
}

@Suite("Splits", .enabled(if: haveData, "needs ../shared/data"))
struct SplitTests {
  let splits = packageRoot + "/Data/splits"

  @Test("val200 is the seed-42 shuffle's first 200 of squad_val.json: 974 questions, hashes check")
  func val200() throws {
    let m = try SplitManifest.load("val200", splitsDir: splits)
    let all = try Datasets.loadSEAL(path: dataRoot + "/squad/squad_val.json")
    let again = try SplitManifest.make(
      name: "val200", source: Datasets.validationFile, passages: all, start: 0, count: 200)
    #expect(m == again)
    #expect(m.questions == 974)
    let ps = try m.passages(dataRoot: dataRoot)
    #expect(
      ps.map(\.title).prefix(5) == [
        "Genghis Khan", "European Union law", "1973 oil crisis", "Genghis Khan", "Chloroplast",
      ])
    // The explorer file adds every official reference; SEAL's single answer is among them (a
    // question asked twice in one paragraph gets both occurrences' references).
    #expect(ps.allSatisfy { $0.questions.allSatisfy { $0.references.contains($0.answer) } })
    #expect(ps.flatMap(\.questions).contains { $0.references.count > 1 })
  }

  @Test("the manifest equals, passage by passage, every released SEAL evaluation file")
  func matchesReleasedFiles() throws {
    let ps = try SplitManifest.load("val200", splitsDir: splits).passages(dataRoot: dataRoot)
    for f in ["base_val.json", "gpt4_1_val.json", "iter1_val.json", "iter2_val.json", "naive_val.json"] {
      let r = try Datasets.loadReleased(path: released + f)
      #expect(r.count >= 200, "\(f)")
      for (i, p) in ps.enumerated() {
        #expect(r[i].context == p.context && r[i].title == p.title, "\(f) passage \(i)")
      }
    }
    // The questions too (SEAL format inside the released files).
    let withQuestions = try Datasets.loadSEAL(path: released + "base_val.json")
    for (i, p) in ps.enumerated() { #expect(withQuestions[i].questions.map(\.question) == p.questions.map(\.question)) }
  }

  @Test("train50 is the seed-42 shuffle's first 50 of squad_train.json.gz")
  func train50() throws {
    let m = try SplitManifest.load("train50", splitsDir: splits)
    let ps = try m.passages(dataRoot: dataRoot)
    #expect(ps.count == 50)
    #expect(ps.prefix(2).map(\.title) == ["Crimean War", "Financial crisis of 2007%E2%80%9308"])
  }

  @Test(
    "seal-iter0 and seal-iter1 are the passages of SEAL's two ReST-EM rounds, in order; seal-iter1 is the shuffle's 50-99"
  )
  func sealRounds() throws {
    let train = try Datasets.loadSEAL(path: try Datasets.file("squad/squad_train.json.gz", dataRoot: dataRoot))
    for (name, file) in [("seal-iter0", "rank_iter0.json"), ("seal-iter1", "rank_iter1.json")] {
      let m = try SplitManifest.load(name, splitsDir: splits)
      let ref = "seal/results/query_server/train/" + file
      let again = try SplitManifest.matching(
        name: name, source: "squad/squad_train.json.gz", passages: train,
        reference: try JSONNode.load(dataRoot + "/" + ref), referenceName: ref)
      #expect(m == again && m.count == 50)
    }
    let shuffled = try SplitManifest.make(
      name: "x", source: "squad/squad_train.json.gz", passages: train, start: 50, count: 50)
    #expect(try SplitManifest.load("seal-iter1", splitsDir: splits).indices == shuffled.indices)
    #expect(
      try SplitManifest.load("seal-iter0", splitsDir: splits).passages(dataRoot: dataRoot).first?.title
        == "Estonian language")
    // A listed passage the source lacks is named.
    let missing = try JSONNode.parse(Data(#"[{"context": "nowhere to be found"}]"#.utf8), path: "m.json")
    do {
      _ = try SplitManifest.matching(
        name: "m", source: "squad/squad_train.json.gz", passages: train, reference: missing, referenceName: "m.json")
      Issue.record("matched a context the source lacks")
    } catch { #expect("\(error)".contains("m.json entry 0") && "\(error)".contains("nowhere")) }
  }

  @Test("a changed context is refused with the split, position and hashes")
  func changedContext() throws {
    let d = tempDir()
    try FileManager.default.createDirectory(atPath: d + "/squad", withIntermediateDirectories: true)
    let ps = [
      Passage(index: 0, title: "T", context: "one", questions: [Question(question: "q", answer: "a")]),
      Passage(index: 1, title: "U", context: "two", questions: [Question(question: "q", answer: "a")]),
    ]
    let m = try SplitManifest.make(name: "tiny", source: "squad/squad_val.json", passages: ps, start: 0, count: 2)
    let changed =
      "[{\"title\":\"T\",\"context\":\"one!\",\"questions\":[]},{\"title\":\"U\",\"context\":\"two!\",\"questions\":[]}]"
    try Data(changed.utf8).write(to: URL(fileURLWithPath: d + "/squad/squad_val.json"))
    #expect(throws: ExperimentError.self) { _ = try m.passages(dataRoot: d) }
  }
}

@Suite("Data files")
struct DataFileTests {
  @Test("a missing field names the file and the key path")
  func missingField() throws {
    let p = tempDir() + "/bad.json"
    try Data("[{\"title\":\"T\",\"context\":\"c\",\"questions\":[{\"question\":\"q\"}]}]".utf8).write(
      to: URL(fileURLWithPath: p))
    #expect(
      throws: ExperimentError.malformed(
        path: p, key: "[0].questions[0].answer", expected: "a value", found: "no such key")
    ) {
      _ = try Datasets.loadSEAL(path: p)
    }
  }

  @Test("a wrong type names the key and what was found")
  func wrongType() throws {
    let p = tempDir() + "/bad.json"
    try Data("[{\"title\":3,\"context\":\"c\",\"questions\":[]}]".utf8).write(to: URL(fileURLWithPath: p))
    #expect(throws: ExperimentError.malformed(path: p, key: "[0].title", expected: "a string", found: "the number 3")) {
      _ = try Datasets.loadSEAL(path: p)
    }
  }

  @Test("a missing file and a missing data root are errors that say what to do")
  func missingFiles() throws {
    #expect(throws: ExperimentError.missingFile(path: "/nonexistent/x.json", what: "no such file")) {
      _ = try Datasets.loadSEAL(path: "/nonexistent/x.json")
    }
    #expect(throws: ExperimentError.self) {
      _ = try Datasets.file("squad/squad_val.json", dataRoot: "/nonexistent-root")
    }
  }

  @Test("invalid JSON and a corrupt .gz name the file")
  func invalid() throws {
    let d = tempDir()
    try Data("[{".utf8).write(to: URL(fileURLWithPath: d + "/a.json"))
    try Data("not gzip".utf8).write(to: URL(fileURLWithPath: d + "/b.json.gz"))
    #expect(throws: ExperimentError.self) { _ = try Datasets.loadSEAL(path: d + "/a.json") }
    #expect(throws: ExperimentError.self) { _ = try Datasets.loadSEAL(path: d + "/b.json.gz") }
  }
}

@Suite("Prompts and training sequences")
struct SequenceTests {
  let lib = PromptLibrary(directory: packageRoot + "/Data/prompts")

  @Test("SEAL's prompt files are byte for byte the prompts stored in the released files", .enabled(if: haveData))
  func promptsMatchReleased() throws {
    let t = try lib.text("implications")
    for f in ["base_val.json", "iter2_val.json", "gpt4_1_val.json"] {
      let e = try Datasets.loadReleased(path: released + f)[0]
      #expect(PromptLibrary.fill(t, ["title": e.title, "context": e.context]) == e.prompt)
    }
    #expect(try lib.text("self-qa").hasSuffix("Question 1: "))
    #expect(try lib.text("implications-search").contains("from the text"))
  }

  @Test("passage 0 of base_val.json gives 11 sequences, header-free, passage last", .enabled(if: haveData))
  func basePassage0() throws {
    let e = try Datasets.loadReleased(path: released + "base_val.json")[0]
    let s = TrainingSequences.seal(
      completion: Datasets.firstNonEmpty(e.completions)[0], context: e.context, title: e.title)
    #expect(s.count == 11)
    #expect(s[0].hasPrefix("Genghis Khan\n1. The Shah's decision"))
    #expect(s.last == "Genghis Khan\n" + e.context.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  @Test(
    "sequence totals over the 200 released passages equal the reference counts (1714, 1580, 3034)",
    .enabled(if: haveData))
  func releasedTotals() throws {
    for (f, n) in [("base_val.json", 1714), ("iter2_val.json", 1580), ("gpt4_1_val.json", 3034)] {
      let es = try Datasets.loadReleased(path: released + f).prefix(200)
      let total = es.reduce(0) {
        $0
          + TrainingSequences.seal(
            completion: Datasets.firstNonEmpty($1.completions).first ?? "", context: $1.context, title: $1.title
          ).count
      }
      #expect(total == n, "\(f)")
    }
  }

  @Test("'---' segments, the self-QA branch and the switches")
  func branches() {
    let plain = TrainingSequences.seal(completion: "a\nb---c", context: " ctx ", title: "T")
    #expect(plain == ["T\na", "T\nb", "T\nc", "T\nctx"])
    let noSplit = TrainingSequences.seal(
      completion: "a\nb---c", context: "ctx", title: "T",
      options: .init(splitNewlines: false, titlePrefix: false, appendPassage: false))
    #expect(noSplit == ["a\nb", "c"])
    let qa = TrainingSequences.seal(
      completion: "Who? Answer: me\nQuestion 2: Why? Answer: so", context: "c", title: "T")
    #expect(qa == ["T\nQuestion 1: Who? Answer: me", "T\nQuestion 2: Why? Answer: so", "T\nc"])
    let header = TrainingSequences.seal(completion: "Sure, here:\n1. x\n2. y", context: "c", title: "T")
    #expect(header == ["T\n1. x", "T\n2. y", "T\nc"])
    #expect(TrainingSequences.pySplitLines("a\r\nb\u{2028}c\n") == ["a", "b", "c"])
  }

  @Test("the search repo's JSON and line parsers")
  func searchParsers() {
    #expect(TrainingSequences.searchJSON("<think>x</think>{\"training_sequences\": [\"a\", \"b\"]}") == ["a", "b"])
    #expect(TrainingSequences.searchJSON("{\"training_sequences\": [\"a\"]") == ["a"])
    #expect(TrainingSequences.searchJSON("no json") == nil)
    #expect(TrainingSequences.searchJSON("{\"training_sequences\": [1]}") == nil)
    #expect(TrainingSequences.searchLines("Here:\n1. a\n\n2. b ") == ["1. a", "2. b"])
  }
}

@Suite("Run config")
struct ConfigTests {
  func parse(_ s: String) throws -> RunConfig { try RunConfig.parse(Data(s.utf8), path: "c.json") }

  @Test("an empty object is SEAL's defaults; the canonical form holds every field")
  func defaults() throws {
    let c = try parse("{}")
    #expect(
      c.training.rank == 32 && c.training.alpha == 64 && c.training.epochs == 10 && c.training.learningRate == 1e-3)
    #expect(
      c.training.targets == ["q", "v"] && c.evaluation.maxTokens == 64 && c.evaluation.topic
        && c.sequences.appendPassage)
    let text = String(decoding: try c.canonical(), as: UTF8.self)
    #expect(text.contains("\"lossMask\" : \"unpadded\"") && text.contains("\"splitNewlines\" : true"))
    #expect(try parse(text) == c)
  }

  @Test("the committed configs parse")
  func committed() throws {
    for f in ["smoke", "paper-val200"] { _ = try RunConfig.load(path: packageRoot + "/Data/configs/\(f).json") }
  }

  @Test("config sections decode through their types: left-out and null keys keep defaults, null clears clipping")
  func sectionsThroughCodable() throws {
    let c = try parse(#"{"training": {"rank": 8, "epochs": null, "maxGradNorm": null}, "selfEdit": {"chat": true}}"#)
    #expect(c.training.rank == 8 && c.training.epochs == 10 && c.training.maxGradNorm == nil && c.selfEdit.chat)
    #expect(try parse(#"{"training": {"epochs": 3.0}}"#).training.epochs == 3)
    // Every digit of a 64-bit seed survives the merge with the defaults (a double would round it).
    let big = try parse(#"{"seed": 18446744073709551615, "training": {"learningRate": 0.30000000000000004}}"#)
    #expect(big.seed == UInt64.max && big.training.learningRate == 0.30000000000000004)
    #expect(try parse(#"{"seed": 9007199254740993}"#).seed == 9_007_199_254_740_993)
    // Top-level optional keys: null is their default; a teacher keeps init's defaults for what it leaves out.
    let t = try parse(
      #"{"limit": null, "engine": null, "methods": ["base", "teacher"], "teacher": {"url": "http://h:1/v1", "model": "m"}}"#
    )
    #expect(t.limit == nil && t.engine == nil && t.teacher == EndpointSpec(url: "http://h:1/v1", model: "m"))
    for (text, key, expected, found) in [
      (#"{"training": {"epochs": 1.5}}"#, "training.epochs", "an integer", "the number 1.5"),
      (#"{"training": {"targets": ["q", 3]}}"#, "training.targets[1]", "a string", "the number 3"),
      (#"{"training": {"targets": "q"}}"#, "training.targets", "an array", "the string \"q\""),
      (#"{"training": {"alpha": true}}"#, "training.alpha", "a finite number", "true"),
      (
        #"{"training": {"lossMask": "padded"}}"#, "training.lossMask", "unpadded or seal-padded",
        "the string \"padded\""
      ),
      (#"{"evaluation": {"template": "qwen"}}"#, "evaluation.template", "seal or chat", "the string \"qwen\""),
      (#"{"methods": ["base", "implicatons"]}"#, "methods[1]", Method.expected, "the string \"implicatons\""),
      (#"{"sequences": {"titlePrefix": "yes"}}"#, "sequences.titlePrefix", "true or false", "the string \"yes\""),
      (
        #"{"selfEdit": {"kk": 1}}"#, "selfEdit.kk", "one of the keys chat, k, maxTokens, temperature, topP",
        "an unknown key"
      ),
      (#"{"seed": -1}"#, "seed", "an integer >= 0", "the number -1"),
      (#"{"limit": "all"}"#, "limit", "an integer", "the string \"all\""),
      (#"{"engine": 8765}"#, "engine", "a string", "the number 8765"),
      (#"{"methods": "base"}"#, "methods", "an array", "the string \"base\""),
      (#"{"teacher": {"model": "m"}}"#, "teacher.url", "a value", "no such key"),
      (
        #"{"teacher": {"url": "http://h", "model": "m", "maxTokens": 1.5}}"#, "teacher.maxTokens", "an integer",
        "the number 1.5"
      ),
      (
        #"{"teacher": {"url": "http://h", "model": "m", "key": "k"}}"#, "teacher.key",
        "one of the keys apiKeyEnv, maxTokens, model, retries, timeoutSeconds, url", "an unknown key"
      ),
      (
        #"{"nmae": "x"}"#, "nmae",
        "one of the keys engine, evaluation, limit, methods, name, seed, selfEdit, sequences, split, teacher, training",
        "an unknown key"
      ),
    ] {
      #expect(throws: ExperimentError.malformed(path: "c.json", key: key, expected: expected, found: found)) {
        try parse(text)
      }
    }
  }

  @Test(
    "bad keys and values are errors naming the key, the expected range and the value",
    arguments: [
      ("{\"trainig\": {}}", "trainig"),
      ("{\"training\": {\"epochs\": -3}}", "training.epochs"),
      ("{\"training\": {\"epochs\": 1.5}}", "training.epochs"),
      ("{\"training\": {\"rank\": 100000}}", "training.rank"),
      ("{\"training\": {\"learningRate\": \"fast\"}}", "training.learningRate"),
      ("{\"training\": {\"dropout\": 1}}", "training.dropout"),
      ("{\"training\": {\"maxGradNorm\": 0}}", "training.maxGradNorm"),
      ("{\"training\": {\"lossMask\": \"padded\"}}", "training.lossMask"),
      ("{\"training\": {\"targets\": [\"q\", \"x\"]}}", "training.targets"),
      ("{\"methods\": [\"implicatons\"]}", "methods[0]"),
      ("{\"methods\": []}", "methods"),
      ("{\"methods\": [\"teacher\"]}", "teacher"),
      ("{\"methods\": [\"released:../x\"]}", "methods[0]"),
      ("{\"selfEdit\": {\"k\": 0}}", "selfEdit.k"),
      ("{\"selfEdit\": {\"topP\": 0}}", "selfEdit.topP"),
      ("{\"evaluation\": {\"template\": \"qwen\"}}", "evaluation.template"),
      ("{\"evaluation\": {\"runs\": 0}}", "evaluation.runs"),
      ("{\"limit\": 0}", "limit"),
      ("{\"seed\": -1}", "seed"),
      ("{\"name\": \"a/b\"}", "name"),
      ("{\"teacher\": {\"url\": \"ftp://x\", \"model\": \"m\"}, \"methods\": [\"teacher\"]}", "teacher.url"),
      ("[1]", "(top level)"),
      ("{", "(file)"),
    ])
  func badValues(_ text: String, _ key: String) throws {
    do {
      _ = try parse(text)
      Issue.record("accepted \(text)")
    } catch let ExperimentError.malformed(path, k, _, _) {
      #expect(path == "c.json")
      #expect(k == key)
    }
  }
}

@Suite("Aggregation")
struct AggregationTests {
  func answers(_ correct: [Bool], ll: Double = -1) -> [AnswerRecord] {
    correct.enumerated().map { i, c in
      AnswerRecord(
        q: i, text: c ? "yes" : "x",
        grades: Grades(
          prediction: c ? "yes" : "x", question: Question(question: "q", answer: "yes"), goldLogLikelihood: ll))
    }
  }

  @Test("macro adapter, baseline, gain, win rate and normalised gain with a baseline of 1 counted and left out")
  func handMade() throws {
    var c = RunConfig()
    c.methods = [.passage]
    c.evaluation.runs = 2
    let recs: [EvalRecord] = [
      EvalRecord(kind: .baseline, method: "", passage: 0, answers: answers([false, false, true, true])),  // B 0.5
      EvalRecord(kind: .baseline, method: "", passage: 1, answers: answers([true, true])),  // B 1
      EvalRecord(kind: .adapter, method: "passage", passage: 0, run: 0, answers: answers([true, true, true, true])),  // 1
      EvalRecord(kind: .adapter, method: "passage", passage: 0, run: 1, answers: answers([true, false, false, true])),  // 0.5
      EvalRecord(kind: .adapter, method: "passage", passage: 1, run: 0, answers: answers([true, false])),  // 0.5
      EvalRecord(kind: .adapter, method: "passage", passage: 1, run: 1, failure: "training: nan"),
    ]
    let s = try Summarize.run(config: c, configSHA256: "c", modelSHA256: "m", passages: 2, questions: 6, records: recs)
    let m = try #require(s.methods["passage"]?.metrics[.containsSingle])
    #expect(m.adapter.mean == 0.625)  // (0.75 + 0.5) / 2
    #expect(m.baseline.mean == 0.75)
    #expect(m.gain.mean == -0.125)  // (0.25 - 0.5) / 2
    #expect(m.winRate == 0.5)
    #expect(m.baselineIsOne == 1)
    #expect(m.normalizedGain?.mean == 0.5)  // passage 0 only: 0.25 / 0.5
    #expect(m.adapterMicro == 7.0 / 10)
    #expect(s.methods["passage"]?.failures == 1 && s.methods["passage"]?.failureReasons == ["training: nan": 1])
    #expect(s.expectedEvaluations == 6 && s.foundEvaluations == 6 && s.complete)
    #expect(m.gain.n == 2)
  }

  @Test("the same records in another order give the same summary bytes")
  func orderFree() throws {
    var c = RunConfig()
    c.methods = [.base, .passage]
    var recs: [EvalRecord] = []
    for p in 0..<6 {
      let even: Bool = p % 2 == 0, third: Bool = p % 3 == 0
      recs.append(EvalRecord(kind: .baseline, method: "", passage: p, answers: answers([even, false])))
      recs.append(EvalRecord(kind: .adapter, method: "base", passage: p, answers: answers([even, false])))
      recs.append(
        EvalRecord(kind: .adapter, method: "passage", passage: p, answers: answers([true, third], ll: -Double(p))))
    }
    let a = try CanonicalJSON.pretty(
      try Summarize.run(config: c, configSHA256: "c", modelSHA256: "m", passages: 6, questions: 12, records: recs))
    let b = try CanonicalJSON.pretty(
      try Summarize.run(
        config: c, configSHA256: "c", modelSHA256: "m", passages: 6, questions: 12, records: recs.reversed()))
    #expect(a == b)
    let s = try Summarize.run(config: c, configSHA256: "c", modelSHA256: "m", passages: 6, questions: 12, records: recs)
    let pd = try #require(s.paired.first { $0.a == "passage" && $0.b == "base" && $0.metric == .containsSingle })
    #expect(pd.comparison.wins == 4 && pd.comparison.ties == 2 && pd.comparison.losses == 0)
  }

  @Test("judge verdicts: a failed verdict is counted and left out, never scored as wrong")
  func judgeMetric() throws {
    var c = RunConfig()
    c.methods = [.passage]
    let recs = [
      EvalRecord(kind: .baseline, method: "", passage: 0, answers: answers([false, false])),
      EvalRecord(kind: .adapter, method: "passage", passage: 0, answers: answers([false, false])),
    ]
    let judged: [String: Bool?] = [
      "baseline/p0/q0": false, "baseline/p0/q1": true,
      "passage/p0/s0/r0/q0": true, "passage/p0/s0/r0/q1": Bool?.none,
    ]
    let s = try Summarize.run(
      config: c, configSHA256: "c", modelSHA256: "m", passages: 1, questions: 2, records: recs, judged: judged)
    let j = try #require(s.methods["passage"]?.metrics[.judge])
    #expect(j.adapter.mean == 1 && j.baseline.mean == 0.5 && j.gradeFailures == 1 && j.answers == 1)
    // Without verdicts there is no judge metric at all (not a column of zeros).
    let none = try Summarize.run(
      config: c, configSHA256: "c", modelSHA256: "m", passages: 1, questions: 2, records: recs)
    #expect(none.methods["passage"]?.metrics[.judge] == nil)
  }

  @Test("SEAL's judge verdict rule: yes and not no")
  func verdict() {
    #expect(judgeVerdict("Yes."))
    #expect(!judgeVerdict("yes, no"))
    #expect(!judgeVerdict("nope"))
    #expect(!judgeVerdict("eyes"))
  }
}

@Suite("Expectations")
struct ExpectationTests {
  @Test("values inside bands pass; each metric outside is named; an unknown metric fails")
  func bands() throws {
    let summary = Data("{\"a\": {\"b\": 0.5}, \"complete\": true, \"n\": 3}".utf8)
    let e = Data(
      "{\"metrics\": {\"a.b\": {\"value\": 0.4, \"tolerance\": 0.2}, \"n\": {\"min\": 4}, \"complete\": {\"equals\": true}, \"zz\": {\"min\": 0}}}"
        .utf8)
    let r = try Expectations.check(summary: summary, summaryPath: "s", expectations: e, expectationsPath: "e")
    #expect(r.map(\.passed) == [true, true, false, false])
    #expect(r[2].message.contains("n") && r[2].message.contains("OUTSIDE"))
    #expect(throws: ExperimentError.self) {
      _ = try Expectations.check(
        summary: summary, summaryPath: "s", expectations: Data("{\"metrics\": {\"a.b\": {\"tol\": 1}}}".utf8),
        expectationsPath: "e")
    }
  }
}
