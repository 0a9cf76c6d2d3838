// EngineService.swift: the engine protocol's operations over any `Engine`, apart from HTTP: a
// request body in, a reply body out, errors as `Wire.Failure`s naming the field. The worker
// holds its own model and the models `load` loaded (updated proposers, the most recent
// `keepModels` of them); adapters get worker-wide handles, so a handle names its model too.
// Not thread-safe: the server calls it from one serial queue (one engine computes at a time).
import EngineAPI
import Experiment
import Foundation

public final class EngineService: @unchecked Sendable {
  /// A failure to reply with (HTTP status + message).
  public struct Refusal: Error {
    public var status: Int
    public var failure: Wire.Failure
    public init(_ status: Int, _ failure: Wire.Failure) { self.status = status; self.failure = failure }
  }

  public let engine: Engine
  /// Resolves a schema to its byte automaton (the Swift engine decodes only grammars it knows).
  let grammar: (Wire.Grammar) -> OutputGrammar?
  let keepModels: Int
  private var models: [(path: String, engine: Engine)] = []
  private var handles: [Int: (engine: Engine, handle: AdapterHandle)] = [:]
  private var nextHandle = 0

  public init(engine: Engine, keepModels: Int = 2, grammar: @escaping (Wire.Grammar) -> OutputGrammar?) {
    self.engine = engine; self.keepModels = keepModels; self.grammar = grammar
  }

  public var health: Wire.Health {
    Wire.Health(protocol: Wire.version, identity: engine.identity, loaded: models.map(\.path))
  }

  /// Runs one operation on a request body; the reply body is the operation's result message.
  public func run(_ op: Wire.Op, body: Data, progress: @escaping (Int, Int) -> Void) throws -> Data {
    do {
      switch op {
      case .count:
        let r = try decode(Wire.Count.self, body)
        let e = try model(r.model)
        return try encode(Wire.Counts(counts: try r.texts.map { try e.countTokens($0) }))
      case .chatPrompt:
        let r = try decode(Wire.ChatPrompt.self, body)
        return try encode(Wire.Prompt(prompt: try model(r.model).chatPrompt(system: r.system, user: r.user)))
      case .checkFits:
        let r = try decode(Wire.CheckFits.self, body)
        let e = try model(r.model)
        // Settings this model cannot take are the model's answer (a data error), as in process.
        do { try e.checkFits(r.spec) } catch {
          throw Refusal(
            422, Wire.Failure(kind: "model", message: (error as? LocalizedError)?.errorDescription ?? "\(error)"))
        }
        return try encode(Wire.Empty())
      case .generate:
        let r = try decode(Wire.Generate.self, body)
        let e = try model(r.model)
        guard r.batchSize >= 1 else { throw bad("batchSize", ">= 1, found \(r.batchSize)") }
        let reqs = try r.requests.enumerated().map { i, q in
          GenerateRequest(
            prompt: q.prompt, sampling: q.sampling, maxTokens: q.maxTokens, samples: q.samples, seed: q.seed,
            stop: q.stop, grammar: try q.grammar.map { try resolve($0, field: "requests[\(i)].grammar") },
            adapter: try q.adapter.map { try adapter($0, on: e) })
        }
        return try encode(
          Wire.Generations(generations: try e.generate(reqs, batchSize: r.batchSize, progress: progress)))
      case .train:
        let r = try decode(Wire.Train.self, body)
        let e = try model(r.model)
        guard (1...64).contains(r.adaptersPerStep) else {
          throw bad("adaptersPerStep", "1...64, found \(r.adaptersPerStep)")
        }
        let jobs = r.jobs.map { TrainJob(sequences: $0.sequences, spec: $0.spec, seed: $0.seed) }
        let results = try e.train(jobs, adaptersPerStep: r.adaptersPerStep, progress: progress).map {
          result -> Wire.TrainResult in
          switch result {
          case .failure(let f): return Wire.TrainResult(failure: f.message)
          case .success(let t):
            handles[nextHandle] = (e, t.adapter)
            nextHandle += 1
            return Wire.TrainResult(adapter: nextHandle - 1, summary: t.summary)
          }
        }
        return try encode(Wire.Trained(results: results))
      case .score:
        let r = try decode(Wire.Score.self, body)
        let e = try model(r.model)
        let items = try r.items.map {
          ScoreRequest(
            prompt: $0.prompt, continuation: $0.continuation, adapter: try $0.adapter.map { try adapter($0, on: e) })
        }
        return try encode(Wire.Scores(logprobs: try e.score(items)))
      case .saveAdapter:
        let r = try decode(Wire.SaveAdapter.self, body)
        guard let h = handles[r.adapter] else { throw unknownAdapter(r.adapter) }
        try h.engine.saveAdapter(h.handle, to: r.directory)
        return try encode(Wire.Empty())
      case .release:
        let r = try decode(Wire.Release.self, body)
        for id in r.adapters {
          if let h = handles.removeValue(forKey: id) { h.engine.release([h.handle]) }
        }
        return try encode(Wire.Empty())
      case .proposerUpdate:
        let r = try decode(Wire.ProposerUpdate.self, body)
        var messages: [String] = []
        let log = try model(r.model).proposerUpdate(rows: r.rows, spec: r.spec, out: r.out) { messages.append($0) }
        return try encode(Wire.ProposerUpdated(log: log, messages: messages))
      case .load:
        let r = try decode(Wire.Load.self, body)
        return try encode(Wire.Loaded(identity: try load(r.path).identity))
      }
    } catch let e as Refusal {
      throw e
    } catch EngineError.unknownAdapter(let id) {
      throw unknownAdapter(id)
    } catch EngineError.model(let m) {
      throw Refusal(422, Wire.Failure(kind: "model", message: m))
    } catch {
      throw Refusal(
        422, Wire.Failure(kind: "failed", message: (error as? LocalizedError)?.errorDescription ?? "\(error)"))
    }
  }

  /// The engine of a request's model: the worker's own, or one loaded by `load`.
  func model(_ path: String?) throws -> Engine {
    guard let path, path != engine.identity.modelPath else { return engine }
    guard let m = models.first(where: { $0.path == path }) else {
      throw Refusal(
        404,
        Wire.Failure(
          kind: "unknown_model", message: "model \(path) is not loaded here (send load first)", field: "model"))
    }
    return m.engine
  }

  func load(_ path: String) throws -> Engine {
    if path == engine.identity.modelPath { return engine }
    if let i = models.firstIndex(where: { $0.path == path }) {
      let m = models.remove(at: i)
      models.append(m)
      return m.engine
    }
    let e = try engine.loading(modelAt: path)
    models.append((path, e))
    // An evicted model's adapters go with it.
    while models.count > keepModels {
      let gone = models.removeFirst().engine
      handles = handles.filter { $0.value.engine !== gone }
    }
    return e
  }

  func adapter(_ id: Int, on e: Engine) throws -> AdapterHandle {
    guard let h = handles[id], h.engine === e else { throw unknownAdapter(id) }
    return h.handle
  }

  func resolve(_ g: Wire.Grammar, field: String) throws -> OutputGrammar {
    guard let og = grammar(g), og.jsonSchema == g.jsonSchema else {
      throw bad(field, "a schema this worker decodes (by name, with the same JSON Schema), found \(g.name)")
    }
    return og
  }

  func unknownAdapter(_ id: Int) -> Refusal {
    Refusal(
      404,
      Wire.Failure(kind: "unknown_adapter", message: EngineError.unknownAdapter(id).localizedDescription, adapter: id))
  }

  func bad(_ field: String, _ expected: String) -> Refusal {
    Refusal(400, Wire.Failure(kind: "bad_request", message: "\(field): expected \(expected)", field: field))
  }

  func decode<T: Decodable>(_ t: T.Type, _ body: Data) throws -> T {
    do { return try Wire.decoder().decode(t, from: body) } catch let e as DecodingError {
      let (field, message) = Wire.describe(e)
      throw Refusal(400, Wire.Failure(kind: "bad_request", message: message, field: field))
    }
  }

  func encode<T: Encodable>(_ v: T) throws -> Data { try Wire.encoder().encode(v) }
}
