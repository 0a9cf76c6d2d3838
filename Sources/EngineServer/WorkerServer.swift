// WorkerServer.swift: the HTTP side of `seb worker` and `seb serve`, on Hummingbird 2 (SwiftNIO):
// concurrent connections with keep-alive, bounded request bodies, a bearer token required when
// bound beyond loopback, clean shutdown on SIGINT/SIGTERM. Routes: the engine protocol
// (`/v1/health`, `POST /v1/<op>`, `GET /v1/jobs/<id>`; PROTOCOL.md) and OpenAI's
// `POST /v1/chat/completions` (ChatCompletions.swift). Engine work runs on one serial queue.
import EngineAPI
import Foundation
import Hummingbird
import Logging
import NIOCore
import Workspace

public struct WorkerOptions: Sendable {
  public var host = "127.0.0.1"
  public var port = 0
  /// Required (as `Authorization: Bearer <token>`) on every request but health when set.
  public var token: String?
  public var maxRequestBytes = 256 << 20
  /// Serve the engine protocol (`seb worker`); off: only chat completions (`seb serve`).
  public var engineRoutes = true
  /// The served model's name in chat completion replies.
  public var name = "local"
  /// Stop gracefully on SIGINT/SIGTERM (an executable's server). Off, signal dispositions are
  /// left alone (a server inside a test process: children it starts must still die on SIGTERM,
  /// and ignored signals are inherited across exec).
  public var handleSignals = false
  /// The HTTP stack's own messages at this level and above (start, stop, connection errors).
  public var logLevel = Logger.Level.notice
  public init() {}
}

public enum WorkerError: Error, LocalizedError, Equatable {
  /// Binding beyond loopback without a token would hand the model to anyone on the network.
  case tokenRequired(host: String)
  public var errorDescription: String? {
    switch self {
    case .tokenRequired(let h):
      return "--host \(h) is reachable from other machines: give a bearer token with --token-env NAME"
    }
  }
}

public final class WorkerServer: @unchecked Sendable {
  let jobs: Jobs
  let options: WorkerOptions
  public var log: @Sendable (String) -> Void = { _ in }

  public init(service: EngineService, options: WorkerOptions) throws {
    if !["127.0.0.1", "localhost", "::1"].contains(options.host) && (options.token ?? "").isEmpty {
      throw WorkerError.tokenRequired(host: options.host)
    }
    jobs = Jobs(service: service)
    self.options = options
  }

  /// Serves until SIGINT/SIGTERM (or the task is cancelled); `ready(port)` once bound. On the
  /// signal it stops accepting, answers what is in flight, then lets the running engine job
  /// finish (a second signal ends the process at once).
  public func run(ready: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    var logger = Logger(label: "seb.worker")
    logger.logLevel = options.logLevel
    let app = Application(
      router: router(),
      configuration: .init(address: .hostname(options.host, port: options.port), serverName: "seb"),
      onServerRunning: { await ready($0.localAddress?.port ?? 0) }, logger: logger)
    guard options.handleSignals else {
      try await app.runService(gracefulShutdownSignals: [])
      return
    }
    Interrupts.suspend()
    defer { Interrupts.installCleanup() }
    try await app.runService()
    Interrupts.installCleanup()
    log("stopping: letting the running job finish (interrupt again to quit now)")
    jobs.drain()
  }

  func router() -> Router<BasicRequestContext> {
    let router = Router()
    let service = jobs.service
    router.get("/v1/health") { [jobs] _, _ -> Response in
      let h = try await jobs.run { service.health }
      return Self.json(200, try Wire.encoder().encode(h))
    }
    router.post("/v1/chat/completions") { [self] request, _ -> Response in
      if let denied = authorize(request) { return denied }
      let body: ByteBuffer
      do { body = try await request.body.collect(upTo: options.maxRequestBytes) } catch { return tooLarge() }
      let (status, reply) = try await jobs.run {
        ChatCompletions.reply(engine: service.engine, name: self.options.name, body: Data(buffer: body), log: self.log)
      }
      return Self.json(status, reply)
    }
    guard options.engineRoutes else { return router }
    router.post("/v1/:op") { [self] request, context -> Response in
      if let denied = authorize(request) { return denied }
      let name = context.parameters.get("op") ?? ""
      guard let op = Wire.Op(rawValue: name) else {
        return Self.failure(404, Wire.Failure(kind: "not_found", message: "no operation \(name)"))
      }
      let body: ByteBuffer
      do { body = try await request.body.collect(upTo: options.maxRequestBytes) } catch { return tooLarge() }
      let id = request.headers.first(where: { $0.name.canonicalName == "x-request-id" })?.value ?? UUID().uuidString
      let job = jobs.submit(id: id, op: op, body: Data(buffer: body))
      await Jobs.wait(job, seconds: Self.waitSeconds(request))
      let (status, reply) = job.reply()
      return Self.json(status, reply)
    }
    router.get("/v1/jobs/:id") { [self] request, context -> Response in
      if let denied = authorize(request) { return denied }
      let id = context.parameters.get("id") ?? ""
      guard let job = jobs.job(id) else {
        return Self.failure(
          404, Wire.Failure(kind: "not_found", message: "no job \(id) (finished and forgotten, or never sent)"))
      }
      await Jobs.wait(job, seconds: Self.waitSeconds(request))
      let (status, reply) = job.reply()
      return Self.json(status, reply)
    }
    return router
  }

  /// `?wait=S`: how long a reply may wait for its job (default 20 s, at most 60).
  static func waitSeconds(_ request: Request) -> Double {
    min(60, max(0, request.uri.queryParameters.get("wait").flatMap { Double($0) } ?? 20))
  }

  func authorize(_ request: Request) -> Response? {
    guard let token = options.token, !token.isEmpty else { return nil }
    if request.headers[.authorization] == "Bearer \(token)" { return nil }
    return Self.failure(401, Wire.Failure(kind: "unauthorized", message: "a bearer token is required"))
  }

  func tooLarge() -> Response {
    Self.failure(
      413,
      Wire.Failure(kind: "too_large", message: "request body above \(options.maxRequestBytes) bytes (--max-request-mb)")
    )
  }

  static func failure(_ status: Int, _ f: Wire.Failure) -> Response {
    let err = (try? Wire.encoder().encode(f)) ?? Data()
    return json(status, Data("{\"state\":\"failed\",\"error\":".utf8) + err + Data("}".utf8))
  }

  static func json(_ status: Int, _ body: Data) -> Response {
    Response(
      status: .init(code: status), headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: body)))
  }
}

extension Data {
  init(buffer: ByteBuffer) { self = Data(buffer.readableBytesView) }
}
