import Experiment
// seb-bench: speed and memory suites (a documented stand-in for ordo-one/benchmark, which needs
// swift-tools 6.1 and a malloc interposer; see Benchmarks/README.md). Every figure is the median
// of repeated runs; the header records threads, OpenBLAS kernel family and build flags.
//   swift run -c release seb-bench [machine|dequant|tokenizer|prefill|decode|kernels|train|all] [--json]
import Foundation
import GGUF
import LLM
import ModelStore
import Search
import SelfEdit
import Tensor
import Tokenizer
import Training
import Workspace

// Same rule as `seb`: on AVX-512 CPUs use OpenBLAS's SkylakeX kernels unless told otherwise.
BLAS.preferAVX512KernelsByReexec()

var args = Array(CommandLine.arguments.dropFirst())
let json = args.contains("--json")
args.removeAll { $0 == "--json" }
var threads = ProcessInfo.processInfo.activeProcessorCount
if let i = args.firstIndex(of: "--threads"), i + 1 < args.count, let t = Int(args[i + 1]) {
  threads = t
  args.removeSubrange(i...(i + 1))
}
var repeats = 5
if let i = args.firstIndex(of: "--repeats"), i + 1 < args.count, let r = Int(args[i + 1]) {
  repeats = max(1, r)
  args.removeSubrange(i...(i + 1))
}
var lengths = [64, 256, 1024]
if let i = args.firstIndex(of: "--lengths"), i + 1 < args.count {
  let l = args[i + 1].split(separator: ",").compactMap { Int($0) }.filter { $0 >= 2 }
  if l.isEmpty {
    fputs("seb-bench: --lengths takes comma-separated token counts >= 2, got '\(args[i + 1])'\n", stderr); exit(2)
  }
  lengths = l
  args.removeSubrange(i...(i + 1))
}
var dumpInputs: String?
if let i = args.firstIndex(of: "--dump-inputs"), i + 1 < args.count {
  dumpInputs = args[i + 1]
  args.removeSubrange(i...(i + 1))
}
var adapterCounts = [1, 4, 8, 16]
if let i = args.firstIndex(of: "--adapters"), i + 1 < args.count {
  adapterCounts = args[i + 1].split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 }
  args.removeSubrange(i...(i + 1))
}
var itemCount = 16
if let i = args.firstIndex(of: "--items"), i + 1 < args.count, let n = Int(args[i + 1]), n >= 1 {
  itemCount = n
  args.removeSubrange(i...(i + 1))
}
let suites = args.isEmpty ? ["all"] : args
if suites.contains("--help") || suites.contains("-h") {
  print(
    """
    usage: seb-bench [machine|dequant|tokenizer|prefill|decode|kernels|train|all]... [--threads N] [--repeats N] [--lengths 64,256,1024] [--json]
      machine    memory bandwidth (GB/s) and cblas_sgemm GFLOP/s: this machine's limits
      dequant    dequantization GB/s per GGUF type (output float32 bytes)
      tokenizer  encoding MB/s on SQuAD contexts (or generated text)
      prefill    prompt tokens/s at T = 512 on the installed SmolLM2
      decode     tokens/s, batch 1 and 8 sequences (aggregate)
      kernels    packed q4_1/q8_0 products (cache-resident) GFLOP/s
      train      LoRA training tokens/s: q,v r32 and all seven r64 at T = --lengths; peak memory
      selfedit   one self-edit evaluation split into stages (not in `all`): generate 512 tokens,
                 train SEAL's inner loop (10 epochs) on a released self-edit, answer the passage's
                 questions (64 tokens each, EOS ignored) and score their gold answers;
                 --dump-inputs FILE writes the exact texts for Benchmarks/compare/selfedit_bench.py
      packed     self-edit evaluations per hour on 16 released self-edits of val200 (train + answer)
                 with K = --adapters 1,4,8,16 adapters trained together, each round beside this
                 machine's cblas_sgemm (512x576x576 and 512x1536x576, pool split), --repeats rounds
                 (default 5; interleave_packed.sh passes 1 and alternates programs instead);
                 --dump-inputs FILE writes the inputs for selfedit_bench.py --packed
      constrained  per-token cost of schema-constrained decoding (the search's template schema) against
                 the same decode unconstrained, 8 sequences of 256 tokens; cold (masks being built) and warm
    """)
  exit(0)
}
ThreadPool.configure(threads: threads)

struct Row: Encodable {
  let suite: String
  let name: String
  let value: Double
  let unit: String
  let note: String
}
var rows: [Row] = []
func report(_ suite: String, _ name: String, _ value: Double, _ unit: String, _ note: String = "") {
  rows.append(Row(suite: suite, name: name, value: value, unit: unit, note: note))
  if !json {
    print(
      String(
        format: "%-10@ %-44@ %12.2f %@ %@", suite as NSString, name as NSString, value, unit as NSString,
        note as NSString))
  }
}
func median(_ f: () throws -> Double) rethrows -> Double {
  var v: [Double] = []
  for _ in 0..<repeats { v.append(try f()) }
  v.sort()
  return v[v.count / 2]
}
func seconds(_ body: () throws -> Void) rethrows -> Double {
  let t0 = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}
func peakRSSMiB() -> Double {
  var u = rusage()
  getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
  return Double(u.ru_maxrss) / 1024
}

let root =
  ModelStore.packageRoot(from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
  ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
let modelPath = ModelStore.defaultDirectory(flag: nil).appendingPathComponent(ModelSpec.smolLM2.files[0].path).path
func want(_ s: String) -> Bool { suites.contains(s) || suites.contains("all") }

if !json {
  print(
    "seb-bench: \(threads) threads, OpenBLAS \(BLAS.coreName) (OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")), release -Ounchecked -target-cpu haswell, median of \(repeats)"
  )
}

// MARK: machine limits
if want("machine") {
  let n = 64 << 20  // 256 MiB of floats: far beyond the caches
  let a = FloatBuffer(count: n), b = FloatBuffer(count: n)
  for i in stride(from: 0, to: n, by: 1024) { a[i] = 1 }
  let copy = median { seconds { b.pointer.update(from: a.pointer, count: n) } }
  report("machine", "memcpy bandwidth (read + write)", Double(2 * n * 4) / copy / 1e9, "GB/s", "1 thread")
  // Read bandwidth with every thread summing its own slice (what decode does).
  let pool = ThreadPool.shared
  let read = median {
    seconds {
      pool.run { part in
        let per = n / pool.threads
        let p = a.pointer + part * per
        var acc = SIMD8<Float>()
        var i = 0
        while i < per {
          acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
          i += 8
        }
        if acc.sum() == .infinity { print("") }
      }
    }
  }
  report("machine", "read bandwidth (all threads)", Double(n * 4) / read / 1e9, "GB/s", "\(threads) threads")
  for (M, N, K) in [(1024, 1024, 1024), (512, 1536, 576), (512, 576, 1536), (256, 576, 576)] {
    let x = FloatBuffer(count: M * K), w = FloatBuffer(count: N * K), y = FloatBuffer(count: M * N)
    // OpenBLAS threading itself (the machine's sgemm limit) ...
    BLAS.setThreads(threads)
    let unsplit = {
      sgemmUnsplit(
        transA: false, transB: true, M: M, N: N, K: K, alpha: 1, x.pointer, lda: K, w.pointer, ldb: K, beta: 0,
        y.pointer, ldc: N)
    }
    unsplit()
    let t = median { seconds { for _ in 0..<10 { unsplit() } } / 10 }
    report(
      "machine", "cblas_sgemm \(M)x\(N)x\(K) (x W^T)", 2 * Double(M * N * K) / t / 1e9, "GFLOP/s", "OpenBLAS threads")
    // ... and split over the pool, one OpenBLAS thread per part (what the runtime does).
    BLAS.setThreads(1)
    matmulNT(y.pointer, x.pointer, w.pointer, M: M, N: N, K: K)
    let tp = median { seconds { for _ in 0..<10 { matmulNT(y.pointer, x.pointer, w.pointer, M: M, N: N, K: K) } } / 10 }
    report(
      "machine", "matmulNT \(M)x\(N)x\(K) (pool split)", 2 * Double(M * N * K) / tp / 1e9, "GFLOP/s", "\(threads) parts"
    )
  }
}

// MARK: dequantization
if want("dequant") {
  let count = 1 << 22  // 4M values per run
  for type in [GGUFType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q6_K] {
    let bytes = type.byteCount(elements: count)!
    var raw = [UInt8](repeating: 0, count: bytes)
    var s: UInt64 = 1
    for i in 0..<bytes { s = s &* 6_364_136_223_846_793_005 &+ 1; raw[i] = UInt8(truncatingIfNeeded: s >> 56) }
    // Keep every f16 scale finite: clear the exponent's top bit of each 16-bit word.
    for i in stride(from: 1, to: bytes, by: 2) { raw[i] &= 0x3B }
    let out = FloatBuffer(count: count)
    let t = median {
      raw.withUnsafeBytes { r in seconds { dequantizeRow(type, r.baseAddress!, out.pointer, count: count) } }
    }
    report(
      "dequant", type.name, Double(count * 4) / t / 1e9, "GB/s",
      String(format: "out f32; in %.2f GB/s", Double(bytes) / t / 1e9))
  }
}

// MARK: tokenizer
var tokenizer: Tokenizer?
var model: ModelWeights?
// MARK: packed kernels (synthetic, cache-resident: the kernels' own speed, no memory or model)
if want("kernels") {
  var rng = SplitMix64(seed: 3)
  for (format, N, K) in [(PackedFormat.q4_1, 1536, 576), (.q4_1, 576, 1536), (.q8_0, 4096, 576)] {
    let w = FloatBuffer(count: N * K)
    for i in 0..<(N * K) { w[i] = Float(rng.nextDouble() * 2 - 1) }
    let p = PackedMatrix(quantizing: w, rows: N, cols: K, format: format)
    for M in [1, 4, 8] {
      let x = FloatBuffer(count: M * K), y = FloatBuffer(count: M * N)
      for i in 0..<(M * K) { x[i] = Float(rng.nextDouble() * 2 - 1) }
      let reps = 200
      let t = median { seconds { for _ in 0..<reps { packedMatmul(y.pointer, x.pointer, p, M: M) } } / Double(reps) }
      report("kernels", "\(format.rawValue) \(N)x\(K) M = \(M)", 2 * Double(M * N * K) / t / 1e9, "GFLOP/s")
    }
  }
}

if want("tokenizer") || want("prefill") || want("decode") || want("train") || suites.contains("selfedit")
  || suites.contains("packed") || suites.contains("constrained")
{
  guard FileManager.default.fileExists(atPath: modelPath) else {
    FileHandle.standardError.write("model not installed at \(modelPath): run `seb model install`\n".data(using: .utf8)!)
    exit(1)
  }
  let lm = try LanguageModel(path: modelPath)
  tokenizer = lm.tokenizer
  model = lm.weights
}
if want("tokenizer"), let tok = tokenizer {
  var text = ""
  let squad = root.deletingLastPathComponent().appendingPathComponent("shared/data/squad/squad_val.json")
  if let d = try? Data(contentsOf: squad), let arr = try? JSONSerialization.jsonObject(with: d) as? [[String: Any]] {
    text = arr.compactMap { $0["context"] as? String }.joined(separator: "\n\n")
  } else {
    text = String(repeating: "The quick brown fox, born 1999, jumps over 12 lazy dogs. Ça va? 北京 ", count: 20000)
  }
  let mb = Double(text.utf8.count) / 1e6
  var n = 0
  let t = median { seconds { n = tok.encode(text).count } }
  report("tokenizer", "encode (\(String(format: "%.1f", mb)) MB, \(n) tokens)", mb / t, "MB/s")
}

// MARK: prefill and decode
if want("prefill") || want("decode"), let model {
  let tr = Transformer(weights: model)
  let prompt = tokenizer!.encode(
    String(
      repeating:
        "Super Bowl 50 was an American football game to determine the champion of the National Football League. ",
      count: 40))
  if want("prefill") {
    for T in [128, 512] {
      let ids = Array(prompt.prefix(T))
      let t = try median {
        try seconds { _ = try tr.forward([(0, ids)], cache: KVCache(config: model.config, slots: 1, capacity: T + 1)) }
      }
      report("prefill", "T = \(T)", Double(T) / t, "tokens/s")
    }
  }
  if want("decode") {
    for B in [1, 8] {
      let steps = 64
      let t = try median {
        let cache = KVCache(config: model.config, slots: B, capacity: 64 + steps + 1)
        for b in 0..<B { _ = try tr.forward([(b, Array(prompt[(b * 3)..<(b * 3 + 64)]))], cache: cache) }
        return try seconds {
          for s in 0..<steps { _ = try tr.forward((0..<B).map { ($0, [prompt[s]]) }, cache: cache) }
        }
      }
      report(
        "decode", B == 1 ? "batch 1 (64 tokens after a 64-token prompt)" : "\(B) sequences (aggregate)",
        Double(B * steps) / t, "tokens/s")
    }
    var bytes = 0
    for l in model.layers {
      for p in [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] { bytes += p.packed?.streamedBytes ?? p.w.count * 4 }
    }
    bytes += model.output.packed?.streamedBytes ?? model.output.w.count * 4
    report("decode", "weight bytes streamed per step", Double(bytes) / 1e6, "MB")
  }
}

// MARK: training
if want("train"), let model {
  for (name, targets, rank) in [("q,v r32", [Projection.q, .v], 32), ("all7 r64", Projection.allCases, 64)] {
    for T in lengths {
      let r = try TrainingBenchmark.run(
        model: model, sequenceLength: T, targets: targets, rank: rank, steps: repeats, warmup: 1)
      report(
        "train", "\(name) T = \(T)", r.tokensPerSecond, "tokens/s",
        String(format: "%.0f GFLOP/s in products", r.gflopsPerSecond))
    }
  }
}
// MARK: one self-edit evaluation, by stage
if suites.contains("selfedit"), let model, let tokenizer {
  let bench = try SelfEditStageBench(
    model: LanguageModel(file: try GGUFFile(path: modelPath), tokenizer: tokenizer, weights: model),
    dataRoot: Paths.dataRoot(explicit: nil))
  if let dumpInputs { try AtomicFile.write(try CanonicalJSON.pretty(bench.inputs), to: dumpInputs) }
  var stages: [String: [Double]] = [:]
  for _ in 0..<repeats {
    for (k, v) in try bench.runOnce() { stages[k, default: []].append(v) }
  }
  func med(_ k: String) -> Double { let v = stages[k]!.sorted(); return v[v.count / 2] }
  let i = bench.inputs
  report("selfedit", "generate \(i.generateTokens) tokens (T 1.0, top-p 0.95)", med("generate"), "s")
  report(
    "selfedit", "train: \(i.sequences.count) sequences x \(i.epochs) epochs (q,v r32)", med("train"), "s",
    "\(bench.trainedTokens) tokens")
  report(
    "selfedit", "answer \(i.questions.count) questions x \(i.answerTokens) tokens + gold log-lik", med("answer"), "s")
  report("selfedit", "one evaluation (sum of stages)", med("total"), "s")
  report("selfedit", "evaluations per hour", 3600 / med("total"), "1/h")
}
// MARK: many self-edit evaluations, K adapters trained together
if suites.contains("packed"), let model, let tokenizer {
  let bench = try PackedEvaluationBench(
    model: LanguageModel(file: try GGUFFile(path: modelPath), tokenizer: tokenizer, weights: model),
    dataRoot: Paths.dataRoot(explicit: nil), count: itemCount)
  if let dumpInputs { try AtomicFile.write(try CanonicalJSON.pretty(bench.inputs), to: dumpInputs) }
  func sgemmGFLOPs() -> Double {
    var total = 0.0
    for (M, N, K) in [(512, 576, 576), (512, 1536, 576)] {
      let x = FloatBuffer(count: M * K), w = FloatBuffer(count: N * K), y = FloatBuffer(count: M * N)
      for i in 0..<(M * K) { x[i] = Float(i % 7) * 0.1 }
      matmulNT(y.pointer, x.pointer, w.pointer, M: M, N: N, K: K)
      let t = seconds { for _ in 0..<20 { matmulNT(y.pointer, x.pointer, w.pointer, M: M, N: N, K: K) } } / 20
      total += 2 * Double(M * N * K) / t / 1e9
    }
    return total / 2
  }
  // Rounds interleave every K with an sgemm measurement, so each ratio compares like moments.
  var byK: [Int: [[String: Double]]] = [:]
  for round in 1...repeats {
    for k in adapterCounts {
      var r = try bench.run(adaptersPerStep: k)
      r["sgemm"] = sgemmGFLOPs()
      byK[k, default: []].append(r)
      // Progress on stderr even with --json (stdout stays one JSON document): a K = 1 run of 16 self-edits is ~20 min.
      fputs(
        "  round \(round)/\(repeats) K = \(k): train \(String(format: "%.1f", r["train"]!)) s, answer \(String(format: "%.1f", r["answer"]!)) s, sgemm \(String(format: "%.0f", r["sgemm"]!)) GFLOP/s\n",
        stderr)
    }
  }
  let n = bench.inputs.items.count
  for k in adapterCounts {
    let rs = byK[k]!
    func med(_ f: ([String: Double]) -> Double) -> Double { let v = rs.map(f).sorted(); return v[v.count / 2] }
    report("packed", "K = \(k): evaluations per hour (\(n) self-edits)", med { 3600 * Double(n) / $0["total"]! }, "1/h")
    report("packed", "K = \(k): train seconds", med { $0["train"]! }, "s", "\(Int(rs[0]["tokens"]!)) tokens")
    report("packed", "K = \(k): answer seconds", med { $0["answer"]! }, "s")
    report(
      "packed", "K = \(k): training products", med { $0["flops"]! / $0["train"]! / 1e9 }, "GFLOP/s",
      String(format: "%.0f%% of the same round's sgemm", 100 * med { $0["flops"]! / $0["train"]! / 1e9 / $0["sgemm"]! })
    )
    report("packed", "K = \(k): sgemm in the same rounds", med { $0["sgemm"]! }, "GFLOP/s")
  }
}
// MARK: constrained decoding overhead
if suites.contains("constrained"), let model, let tokenizer {
  let lm = LanguageModel(file: try GGUFFile(path: modelPath), tokenizer: tokenizer, weights: model)
  let dfa = OutputSchemas.template()
  let prompt = lm.encode(
    lm.chatPrompt(user: "Write a JSON learning plan template with a data_creation_instruction and hyperparameters."))
  func run(_ c: TokenConstraint?) throws -> (seconds: Double, tokens: Int) {
    let reqs = (0..<8).map {
      GenerationRequest(
        promptTokens: prompt, options: SamplingOptions(temperature: 1, topP: 0.95), maxNewTokens: 256,
        stopTokens: c == nil ? [] : lm.stopIds, seed: UInt64($0), constraint: c)
    }
    var n = 0
    let t = try seconds { n = try lm.generator().generate(reqs, batchSize: 8).reduce(0) { $0 + $1.tokens.count } }
    return (t, n)
  }
  let plain = try run(nil)
  let constraint = TokenConstraint(dfa: dfa, vocabSize: lm.config.vocabSize) {
    Array((try? tokenizer.bytes(of: $0, skipSpecial: true)) ?? [])
  }
  // The constraint's own work, measured directly: building a state's allowed-token row (once per
  // state) and masking the logits of one token (every step).
  let build = seconds { for s in 0..<dfa.stateCount { _ = constraint.row(Int32(s)) } } / Double(dfa.stateCount)
  let logits = FloatBuffer(count: lm.config.vocabSize)
  var k = 0
  let maskTime =
    seconds {
      for i in 0..<2000 {
        k += constraint.mask(logits.pointer, state: Int32(i % dfa.stateCount), tokensLeft: 4096)
      }
    } / 2000
  let warm = try run(constraint)
  report(
    "constrained", "unconstrained decode, 8 sequences x 256 tokens", plain.seconds / Double(plain.tokens) * 1000,
    "ms/token")
  report(
    "constrained", "template schema decode (\(dfa.stateCount) states)", warm.seconds / Double(warm.tokens) * 1000,
    "ms/token", "\(warm.tokens) tokens")
  report(
    "constrained", "mask one token's logits (49,152)", maskTime * 1e6, "us",
    String(format: "%.2f%% of an unconstrained decode token", 100 * maskTime / (plain.seconds / Double(plain.tokens))))
  report(
    "constrained", "build one state's allowed-token row", build * 1000, "ms",
    "once per state, \(dfa.stateCount) states: \(String(format: "%.2f", build * Double(dfa.stateCount))) s in all")
}
report("memory", "peak resident set", peakRSSMiB(), "MiB")

if json {
  struct Out: Encodable {
    let threads: Int
    let blasCore: String
    let buildFlags: String
    let repeats: Int
    let rows: [Row]
  }
  let enc = JSONEncoder()
  enc.outputFormatting = [.prettyPrinted, .sortedKeys]
  print(
    String(
      data: try enc.encode(
        Out(
          threads: threads, blasCore: BLAS.coreName, buildFlags: "release -Ounchecked -target-cpu haswell",
          repeats: repeats, rows: rows)), encoding: .utf8)!)
}
