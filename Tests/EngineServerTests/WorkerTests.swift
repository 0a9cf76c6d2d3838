// WorkerTests.swift: `seb worker`'s server and the remote engine against the in-process engine
// on a tiny model written by the test: every operation gives the same values through HTTP, bad
// requests are refused naming the field, a token is required beyond loopback and checked, a
// worker that is not there is named after retries, and the chat endpoint of `seb serve` answers.
import CPUEngine
import EngineAPI
import EngineServer
import Experiment
import Foundation
import GGUF
import LLM
import RemoteEngine
import Search
import SelfEdit
import TestSupport
import Testing
import Workspace

/// A tiny model file on disk (the worker hashes and reloads models by path).
func tinyModelPath(seed: UInt64 = 11) throws -> String {
  let cfg = LlamaConfig(
    vocabSize: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffnDim: 128,
    ropeTheta: 10000, rmsEps: 1e-5, contextLength: 512)
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("seb-worker-\(UUID().uuidString).gguf").path
  try Data(try TinyGGUF.make(config: cfg, seed: seed)).write(to: URL(fileURLWithPath: path))
  return path
}

/// Test servers are stopped by cancellation, which the HTTP stack reports as errors.
func quiet(_ o: WorkerOptions) -> WorkerOptions {
  var o = o
  o.logLevel = .critical
  return o
}

/// A worker serving `path` in this process, for the duration of `body` (run on its own thread:
/// the client blocks, the server runs on Swift concurrency).
func withWorker<T: Sendable>(
  modelAt path: String, options: WorkerOptions = quiet(WorkerOptions()),
  _ body: @escaping @Sendable (String) throws -> T
) async throws -> T {
  let service = EngineService(engine: try LocalEngine(path: path)) { OutputSchemas.grammar(named: $0.name) }
  let server = try WorkerServer(service: service, options: options)
  let (ports, cont) = AsyncStream.makeStream(of: Int.self)
  let task = Task { try await server.run { cont.yield($0) } }
  defer { task.cancel() }
  var it = ports.makeAsyncIterator()
  guard let port = await it.next() else { throw CancellationError() }
  let url = "http://127.0.0.1:\(port)"
  return try await withCheckedThrowingContinuation { c in
    Thread { c.resume(with: Result { try body(url) }) }.start()
  }
}

@Suite("engine worker", .serialized)
struct WorkerTests {
  @Test("every operation through the worker equals the in-process engine")
  func remoteEqualsLocal() async throws {
    let path = try tinyModelPath()
    let local = try LocalEngine(path: path)
    let spec = TrainingSpec()
    var small = spec
    small.rank = 4; small.epochs = 2; small.learningRate = 1e-2
    let jobs = [
      TrainJob(sequences: ["Zed lives in town 7.", "Zed is blue."], spec: small, seed: 1),
      TrainJob(sequences: ["  "], spec: small, seed: 2),
      TrainJob(sequences: ["Ann owns a red boat in town 9."], spec: small, seed: 3),
    ]
    func requests(_ e: Engine, adapter: AdapterHandle?) throws -> [GenerateRequest] {
      [
        GenerateRequest(prompt: try e.chatPrompt(system: nil, user: "Where is Zed?"), maxTokens: 12, adapter: adapter),
        GenerateRequest(
          prompt: "Zed", sampling: SamplingOptions(temperature: 1, topP: 0.9), maxTokens: 10, samples: 3, seed: 9,
          stop: ["\n"]),
        GenerateRequest(
          prompt: "JSON:", sampling: SamplingOptions(temperature: 1), maxTokens: 40, seed: 4,
          grammar: OutputSchemas.trainingSequencesGrammar),
      ]
    }
    func run(_ e: Engine) throws -> ([Generation], [[Double]], [String], Int, String) {
      let trained = try e.train(jobs, adaptersPerStep: 2, progress: nil)
      let summaries = trained.map { r -> String in
        switch r {
        case .success(let t): return "\(t.summary)"
        case .failure(let f): return "failed: \(f.message)"
        }
      }
      let a = try trained[0].get().adapter
      let gens = try e.generate(try requests(e, adapter: a), batchSize: 2, progress: nil)
      let scores = try e.score([
        ScoreRequest(prompt: "Where is Zed? ", continuation: "town 7", adapter: a),
        ScoreRequest(prompt: "Where is Zed? ", continuation: "town 7"),
        ScoreRequest(prompt: "x", continuation: ""),
      ])
      e.release([a])
      return (gens, scores, summaries, try e.countTokens("Zed lives in town 7."), e.identity.modelSHA256)
    }
    let want = try run(local)
    let got = try await withWorker(modelAt: path) { url in
      let remote = try RemoteEngine(url: url + "/v1/")
      var progress: [Int] = []
      _ = try remote.generate(
        [GenerateRequest(prompt: "Zed", maxTokens: 4, samples: 2)], batchSize: 1,
        progress: { d, _ in progress.append(d) })
      let r = try run(remote)
      // A released adapter is gone on the worker too.
      #expect(throws: EngineError.unknownAdapter(0)) {
        try remote.score([ScoreRequest(prompt: "a", continuation: "b", adapter: AdapterHandle(id: 0))])
      }
      return r
    }
    #expect(got.0 == want.0)
    #expect(got.1 == want.1)
    #expect(got.2 == want.2)
    #expect(got.2[1].hasPrefix("failed: "))
    #expect(got.3 == want.3)
    #expect(got.4 == want.4 && !want.4.isEmpty)
  }

  @Test("the proposer update and its reload run on the worker, with the in-process engine's bytes")
  func proposerUpdateAndLoad() async throws {
    let path = try tinyModelPath()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seb-worker-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var spec = SFTSpec()
    spec.epochs = 1; spec.rank = 4; spec.maxLength = 64
    let rows = [SFTRow(prompt: "Make data:", completion: "Zed is blue."), SFTRow(prompt: "Q:", completion: "A.")]
    let local = try LocalEngine(path: path)
    let wantLog = try local.proposerUpdate(rows: rows, spec: spec, out: dir + "/local.gguf") { _ in }
    let wantText = try local.loading(modelAt: dir + "/local.gguf").generate(
      [GenerateRequest(prompt: "Zed", maxTokens: 8)], batchSize: 1, progress: nil)
    let (log, text, messages) = try await withWorker(modelAt: path) { url in
      let remote = try RemoteEngine(url: url)
      var messages: [String] = []
      let log = try remote.proposerUpdate(rows: rows, spec: spec, out: dir + "/remote.gguf") { messages.append($0) }
      let next = try remote.loading(modelAt: dir + "/remote.gguf")
      #expect(next.identity.modelPath == dir + "/remote.gguf")
      return (
        log, try next.generate([GenerateRequest(prompt: "Zed", maxTokens: 8)], batchSize: 1, progress: nil), messages
      )
    }
    var same = log
    same.checkpoint = wantLog.checkpoint
    #expect(same == wantLog)
    #expect(text == wantText)
    #expect(!messages.isEmpty)
    #expect(
      FileManager.default.contents(atPath: dir + "/remote.gguf")
        == FileManager.default.contents(atPath: dir + "/local.gguf"))
  }

  @Test("a malformed request is refused naming its field; an unknown operation is named")
  func badRequests() async throws {
    let path = try tinyModelPath()
    try await withWorker(modelAt: path) { url in
      let body = Data(
        #"{"requests": [{"prompt": "a", "maxTokens": "ten", "samples": 1, "seed": 0, "stop": [], "sampling": {"temperature": 0, "topP": 1, "topK": 0, "minP": 0, "presencePenalty": 0}}], "batchSize": 1}"#
          .utf8)
      let (status, data, _) = HTTPPost.send(
        "POST", url + "/v1/generate", body: body, headers: ["Content-Type": "application/json"], timeout: 20)
      #expect(status == 400)
      let text = String(decoding: data, as: UTF8.self)
      #expect(text.contains(#""field":"requests[0].maxTokens""#), "\(text)")
      #expect(text.contains(#""kind":"bad_request""#), "\(text)")
      let (s2, d2, _) = HTTPPost.send("POST", url + "/v1/teleport", body: Data("{}".utf8), headers: [:], timeout: 20)
      #expect(s2 == 404)
      #expect(String(decoding: d2, as: UTF8.self).contains("no operation teleport"))
      // An unknown grammar name is a bad request, not a crash of the worker.
      let remote = try RemoteEngine(url: url)
      let g = OutputGrammar(name: "nope", jsonSchema: "{}", automaton: { OutputSchemas.templateGrammar.automaton() })
      do {
        _ = try remote.generate([GenerateRequest(prompt: "a", maxTokens: 2, grammar: g)], batchSize: 1, progress: nil)
        Issue.record("an unknown grammar was accepted")
      } catch EngineError.rejected(_, let m) {
        #expect(m.contains("requests[0].grammar"), "\(m)")
      }
      #expect(try remote.countTokens("still serving") > 0)
    }
  }

  @Test("beyond loopback a token is required, and every request must carry it")
  func tokens() async throws {
    let path = try tinyModelPath()
    let service = EngineService(engine: try LocalEngine(path: path)) { _ in nil }
    var open = WorkerOptions()
    open.host = "0.0.0.0"
    #expect(throws: WorkerError.tokenRequired(host: "0.0.0.0")) { try WorkerServer(service: service, options: open) }
    var o = WorkerOptions()
    o.token = "s3cret"
    setenv("SEB_TEST_WORKER_TOKEN", "s3cret", 1)
    try await withWorker(modelAt: path, options: quiet(o)) { url in
      let (status, _, _) = HTTPPost.send(
        "POST", url + "/v1/count", body: Data(#"{"texts":["a"]}"#.utf8), headers: [:], timeout: 20)
      #expect(status == 401)
      let remote = try RemoteEngine(url: url, tokenEnv: "SEB_TEST_WORKER_TOKEN")
      #expect(try remote.countTokens("abc") > 0)
    }
  }

  @Test("a worker that is not there is named after the retries")
  func unavailable() throws {
    do {
      _ = try RemoteEngine(url: "http://127.0.0.1:9/v1", tokenEnv: nil, retries: 1, backoff: 0.01)
      Issue.record("connected to nothing")
    } catch EngineError.unavailable(let url, let m) {
      #expect(url == "http://127.0.0.1:9/v1/health")
      #expect(m.contains("after 2 attempts"))
    }
  }

  @Test("seb serve's chat endpoint answers the OpenAI-compatible client with the model's greedy text")
  func chatCompletions() async throws {
    let path = try tinyModelPath()
    let model = try LanguageModel(path: path)
    var o = WorkerOptions()
    o.engineRoutes = false
    o.name = "tiny"
    let a = try await withWorker(modelAt: path, options: quiet(o)) { url in
      let e = ChatEndpoint(
        spec: EndpointSpec(url: url + "/v1", model: "tiny", maxTokens: 6, retries: 0, timeoutSeconds: 20))
      let a = try e.complete("hello", temperature: 0)
      #expect(try e.complete("hello", temperature: 0) == a)
      // Only the chat route is served by `seb serve`.
      let (status, _, _) = HTTPPost.send("POST", url + "/v1/count", body: Data("{}".utf8), headers: [:], timeout: 20)
      #expect(status == 404)
      return a
    }
    let want = try model.generator().generate([
      GenerationRequest(
        promptTokens: model.encode(model.chatPrompt(user: "hello")), maxNewTokens: 6, stopTokens: model.stopIds)
    ])[0]
    var toks = want.tokens
    if let l = toks.last, model.stopIds.contains(l) { toks.removeLast() }
    #expect(a == model.decode(toks))
  }
}
