// Jobs.swift: requests as jobs on one serial queue, so a long training call never holds a
// connection open past a poll interval and a client that lost its connection picks up the same
// job (by its request id) instead of running it twice. Finished jobs are kept (the last
// `keepFinished`) until their client has had time to fetch them.
import EngineAPI
import Foundation
import Workspace

final class Job: @unchecked Sendable {
  enum State { case queued, running, done(Data), failed(EngineService.Refusal) }
  let id: String
  private let lock = NSLock()
  private var _state = State.queued
  private var _progress = (0, 0)
  init(id: String) { self.id = id }

  var state: State { lock.withLock { _state } }
  var progress: (Int, Int) { lock.withLock { _progress } }
  func set(_ s: State) { lock.withLock { _state = s } }
  func report(_ done: Int, _ total: Int) { lock.withLock { _progress = (done, total) } }

  var finished: Bool {
    switch state {
    case .done, .failed: return true
    default: return false
    }
  }

  /// The reply to its client now: status and body (`done` with the result spliced in verbatim).
  func reply() -> (status: Int, body: Data) {
    let head = "{\"job\":\(JSONText.quote(id)),\"state\":"
    switch state {
    case .queued, .running:
      let (d, t) = progress
      return (202, Data((head + "\"running\",\"progress\":[\(d),\(t)]}").utf8))
    case .done(let result):
      return (200, Data((head + "\"done\",\"result\":").utf8) + result + Data("}".utf8))
    case .failed(let r):
      let err = (try? Wire.encoder().encode(r.failure)) ?? Data("{}".utf8)
      return (r.status, Data((head + "\"failed\",\"error\":").utf8) + err + Data("}".utf8))
    }
  }
}

final class Jobs: @unchecked Sendable {
  let service: EngineService
  let keepFinished: Int
  private let queue = DispatchQueue(label: "seb.engine")
  private let lock = NSLock()
  private var jobs: [String: Job] = [:]
  private var order: [String] = []
  private var stopping = false

  init(service: EngineService, keepFinished: Int = 64) { self.service = service; self.keepFinished = keepFinished }

  /// The job of request `id`: the one already submitted under that id, else a new one queued.
  func submit(id: String, work: @escaping (_ progress: @escaping (Int, Int) -> Void) throws -> Data) -> Job {
    lock.lock()
    if let j = jobs[id] { lock.unlock(); return j }
    let job = Job(id: id)
    jobs[id] = job
    order.append(id)
    // Forget the oldest finished jobs beyond the bound (running ones stay).
    while order.count > keepFinished, let old = order.first, jobs[old]?.finished ?? true {
      order.removeFirst()
      jobs[old] = nil
    }
    lock.unlock()
    queue.async { [self] in
      if lock.withLock({ stopping }) {
        job.set(
          .failed(EngineService.Refusal(503, Wire.Failure(kind: "unavailable", message: "the worker is stopping"))))
        return
      }
      job.set(.running)
      do {
        job.set(.done(try work { job.report($0, $1) }))
      } catch let r as EngineService.Refusal {
        job.set(.failed(r))
      } catch {
        job.set(.failed(EngineService.Refusal(422, Wire.Failure(kind: "failed", message: "\(error)"))))
      }
    }
    return job
  }

  func submit(id: String, op: Wire.Op, body: Data) -> Job {
    submit(id: id) { [service] progress in try service.run(op, body: body, progress: progress) }
  }

  func job(_ id: String) -> Job? { lock.withLock { jobs[id] } }

  /// Lets the running job finish and drops the queued ones (their clients resend them elsewhere).
  func drain() {
    lock.withLock { stopping = true }
    queue.sync {}
  }

  /// Waits up to `seconds` for `job` to finish (checking every few milliseconds).
  static func wait(_ job: Job, seconds: Double) async {
    let deadline = Date().addingTimeInterval(seconds)
    var pause: UInt64 = 1_000_000
    while !job.finished && Date() < deadline {
      try? await Task.sleep(nanoseconds: pause)
      pause = min(pause * 2, 20_000_000)
    }
  }

  /// Runs `work` on the engine queue (after every job before it) and returns its value.
  func run<T>(_ work: @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
      queue.async { c.resume(with: Result { try work() }) }
    }
  }
}
