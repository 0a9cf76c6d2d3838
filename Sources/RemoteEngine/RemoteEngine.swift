// RemoteEngine.swift: the engine interface over HTTP, to any worker that speaks the engine
// protocol (`seb worker`, the PyTorch worker; PROTOCOL.md in EngineAPI). Every call is a job:
// posted with a request id (so a retried post never runs twice), then polled until done, with
// the worker's progress passed on. Transient failures (no connection, a timeout, HTTP 429/5xx)
// are retried with exponential backoff; after `retries` of them the call fails with
// `EngineError.unavailable` naming the URL. Adapter handles and paths are the worker's: paths
// (saved adapters, updated proposers) must be on its machine or a shared filesystem.
import EngineAPI
import Experiment
import Foundation
import Workspace

public final class RemoteEngine: Engine {
  /// The worker's base URL ("http://host:port").
  public let url: String
  public let identity: EngineIdentity
  /// The worker-side model path this engine addresses (nil: the worker's own model).
  let model: String?
  let tokenEnv: String?
  public var retries: Int
  public var backoff: Double
  /// How long one poll may wait on the worker for its job.
  public var pollSeconds = 20.0

  /// Connects to the worker at `url` (with or without a trailing /v1) and reads its identity.
  public init(url: String, tokenEnv: String? = nil, retries: Int = 6, backoff: Double = 0.5) throws {
    self.retries = retries
    self.backoff = backoff
    var base = url
    while base.hasSuffix("/") { base.removeLast() }
    if base.hasSuffix("/v1") { base.removeLast(3) }
    self.url = base
    self.tokenEnv = tokenEnv
    self.model = nil
    let data = try Self.exchange(
      "GET", base + "/v1/health", body: nil, requestID: nil, tokenEnv: tokenEnv, timeout: 30, retries: retries,
      backoff: backoff)
    let health: Wire.Health
    do { health = try Wire.decoder().decode(Wire.Health.self, from: data) } catch {
      throw EngineError.rejected(url: base + "/v1/health", message: "not an engine worker's health reply: \(error)")
    }
    guard health.protocol == Wire.version else {
      throw EngineError.rejected(
        url: base, message: "the worker speaks engine protocol \(health.protocol), this client \(Wire.version)")
    }
    identity = health.identity
  }

  init(from e: RemoteEngine, model: String, identity: EngineIdentity) {
    url = e.url; tokenEnv = e.tokenEnv; retries = e.retries; backoff = e.backoff; pollSeconds = e.pollSeconds
    self.model = model; self.identity = identity
  }

  public func countTokens(_ text: String) throws -> Int {
    let r: Wire.Counts = try call(.count, Wire.Count(model: model, texts: [text]))
    guard r.counts.count == 1 else { throw malformed(.count, "1 count, found \(r.counts.count)") }
    return r.counts[0]
  }

  public func chatPrompt(system: String?, user: String) throws -> String {
    let r: Wire.Prompt = try call(.chatPrompt, Wire.ChatPrompt(model: model, system: system, user: user))
    return r.prompt
  }

  public func checkFits(_ spec: TrainingSpec) throws {
    let _: Wire.Empty = try call(.checkFits, Wire.CheckFits(model: model, spec: spec))
  }

  public func generate(
    _ requests: [GenerateRequest], batchSize: Int, progress: ((Int, Int) -> Void)?
  ) throws -> [Generation] {
    let r: Wire.Generations = try call(
      .generate, Wire.Generate(model: model, requests: requests, batchSize: batchSize), progress: progress)
    let want = requests.reduce(0) { $0 + $1.samples }
    guard r.generations.count == want else {
      throw malformed(.generate, "\(want) generations, found \(r.generations.count)")
    }
    return r.generations
  }

  public func train(
    _ jobs: [TrainJob], adaptersPerStep: Int, progress: ((Int, Int) -> Void)?
  ) throws -> [Result<TrainedAdapter, EngineFailure>] {
    let r: Wire.Trained = try call(
      .train, Wire.Train(model: model, jobs: jobs, adaptersPerStep: adaptersPerStep), progress: progress)
    guard r.results.count == jobs.count else {
      throw malformed(.train, "\(jobs.count) results, found \(r.results.count)")
    }
    return try r.results.map { t in
      if let a = t.adapter, let s = t.summary {
        return .success(TrainedAdapter(adapter: AdapterHandle(id: a), summary: s))
      }
      guard let f = t.failure else { throw malformed(.train, "an adapter and its summary, or a failure") }
      return .failure(EngineFailure(f))
    }
  }

  public func score(_ items: [ScoreRequest]) throws -> [[Double]] {
    let r: Wire.Scores = try call(.score, Wire.Score(model: model, items: items))
    guard r.logprobs.count == items.count else {
      throw malformed(.score, "\(items.count) lists, found \(r.logprobs.count)")
    }
    return r.logprobs
  }

  public func saveAdapter(_ adapter: AdapterHandle, to directory: String) throws {
    let _: Wire.Empty = try call(.saveAdapter, Wire.SaveAdapter(adapter: adapter.id, directory: directory))
  }

  /// Best effort: a worker that is gone holds nothing to free.
  public func release(_ adapters: [AdapterHandle]) {
    guard !adapters.isEmpty else { return }
    let _: Wire.Empty? = try? call(.release, Wire.Release(adapters: adapters.map(\.id)))
  }

  public func proposerUpdate(
    rows: [SFTRow], spec: SFTSpec, out: String, log: @escaping (String) -> Void
  ) throws -> SFTLog {
    let r: Wire.ProposerUpdated = try call(
      .proposerUpdate, Wire.ProposerUpdate(model: model, rows: rows, spec: spec, out: out))
    r.messages.forEach(log)
    return r.log
  }

  public func loading(modelAt path: String) throws -> Engine {
    let r: Wire.Loaded = try call(.load, Wire.Load(path: path))
    return RemoteEngine(from: self, model: path, identity: r.identity)
  }

  // MARK: Transport

  /// Posts one job and polls it to its end.
  func call<Req: Encodable, Rep: Decodable>(
    _ op: Wire.Op, _ request: Req, progress: ((Int, Int) -> Void)? = nil
  ) throws -> Rep {
    let id = UUID().uuidString
    let body = try Wire.encoder().encode(request)
    let post = url + "/v1/\(op.rawValue)?wait=\(Int(pollSeconds))"
    var data = try exchange("POST", post, body: body, requestID: id)
    var resent = false
    while true {
      let reply: Wire.Reply<Rep>
      do { reply = try Wire.decoder().decode(Wire.Reply<Rep>.self, from: data) } catch {
        throw malformed(op, "a job reply (\(error))")
      }
      switch reply.state {
      case "done":
        guard let r = reply.result else { throw malformed(op, "a result") }
        return r
      case "running":
        if let p = reply.progress, p.count == 2 { progress?(p[0], p[1]) }
        data = try exchange("GET", url + "/v1/jobs/\(id)?wait=\(Int(pollSeconds))", body: nil, requestID: nil)
      case "failed" where reply.error?.kind == "not_found" && reply.job == nil && !resent:
        // The worker restarted and forgot the job: post it again once (same id, so never twice).
        resent = true
        data = try exchange("POST", post, body: body, requestID: id)
      default:
        throw failure(reply.error, op: op)
      }
    }
  }

  func failure(_ f: Wire.Failure?, op: Wire.Op) -> EngineError {
    guard let f else { return malformed(op, "an error") }
    switch f.kind {
    case "model": return .model(message: f.message)
    case "unknown_adapter": return .unknownAdapter(f.adapter ?? -1)
    default: return .rejected(url: url + "/v1/\(op.rawValue)", message: "\(f.kind): \(f.message)")
    }
  }

  func malformed(_ op: Wire.Op, _ expected: String) -> EngineError {
    .rejected(url: url + "/v1/\(op.rawValue)", message: "malformed reply: expected \(expected)")
  }

  func exchange(_ method: String, _ u: String, body: Data?, requestID: String?) throws -> Data {
    try Self.exchange(
      method, u, body: body, requestID: requestID, tokenEnv: tokenEnv, timeout: pollSeconds + 60, retries: retries,
      backoff: backoff)
  }

  /// The body of a reply the protocol defines (200, 202, or a job's failure); transient failures
  /// retried with backoff.
  static func exchange(
    _ method: String, _ u: String, body: Data?, requestID: String?, tokenEnv: String?, timeout: Double, retries: Int,
    backoff: Double
  ) throws -> Data {
    var headers = ["Content-Type": "application/json"]
    if let id = requestID { headers["X-Request-Id"] = id }
    if let env = tokenEnv, let key = ProcessInfo.processInfo.environment[env], !key.isEmpty {
      headers["Authorization"] = "Bearer \(key)"
    }
    var last = "no attempt made"
    for attempt in 0...max(0, retries) {
      if attempt > 0 { Thread.sleep(forTimeInterval: backoff * pow(2, Double(attempt - 1))) }
      let (status, data, err) = HTTPPost.send(method, u, body: body, headers: headers, timeout: timeout)
      if let err { last = err; continue }
      if status == 0 || status == 429 || status >= 500 { last = "HTTP \(status)"; continue }
      if status == 200 || status == 202 { return data }
      // A refusal with the protocol's error body is the job's answer; anything else is not a worker.
      if (try? Wire.decoder().decode(Wire.Reply<Wire.Empty>.self, from: data))?.error != nil { return data }
      throw EngineError.rejected(
        url: u, message: "HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
    }
    throw EngineError.unavailable(url: u, message: "\(last) after \(max(0, retries) + 1) attempts")
  }
}
