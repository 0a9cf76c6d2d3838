// ThreadPool.swift: a fork-join pool for the small kernels of decode, where a dispatch costs more
// than the work (a token of SmolLM2 runs ~120 matrix products in ~7 ms). Workers spin briefly
// between jobs and then sleep on a semaphore, so an idle pool costs nothing.
// Concurrent callers are serialised by a lock.
import Foundation
import Synchronization

public final class ThreadPool: @unchecked Sendable {
  public let threads: Int
  private let generation = Atomic<Int>(0)
  private let remaining = Atomic<Int>(0)
  private let sleeping: [Flag]
  private var semaphores: [DispatchSemaphore]
  private var job: ((Int) -> Void)?
  private var workers: [Thread] = []
  private let lock = NSLock()

  /// The pool the runtime uses; sized by `configure(threads:)` (default: all cores).
  nonisolated(unsafe) public static var shared = ThreadPool(threads: ProcessInfo.processInfo.activeProcessorCount)

  public static func configure(threads: Int) {
    let n = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
    if shared.threads != n {
      shared.shutdown()
      shared = ThreadPool(threads: n)
    }
  }

  /// Ends the worker threads once they are idle; the pool must not be used afterwards.
  /// (Workers hold the pool strongly, so a pool lives until it is shut down.)
  public func shutdown() {
    lock.lock()
    defer { lock.unlock() }
    stopping.value.store(true, ordering: .sequentiallyConsistent)
    generation.add(1, ordering: .sequentiallyConsistent)
    for i in 1..<threads where sleeping[i].value.exchange(false, ordering: .sequentiallyConsistent) {
      semaphores[i].signal()
    }
  }

  private let stopping = Flag()

  public init(threads: Int) {
    self.threads = max(1, threads)
    sleeping = (0..<self.threads).map { _ in Flag() }
    semaphores = (0..<self.threads).map { _ in DispatchSemaphore(value: 0) }
    for i in 1..<self.threads {
      let t = Thread { self.workerLoop(i) }
      t.stackSize = 1 << 20
      t.start()
      workers.append(t)
    }
  }

  /// Runs body(0..<threads), part 0 on the calling thread; returns when every part is done.
  /// Every thread takes part, so a part's range may be empty.
  public func run(_ body: @escaping (Int) -> Void) {
    if threads == 1 { body(0); return }
    // Callers from several threads (parallel tests) take turns.
    lock.lock()
    defer { lock.unlock() }
    job = body
    remaining.store(threads - 1, ordering: .sequentiallyConsistent)
    generation.add(1, ordering: .sequentiallyConsistent)
    for i in 1..<threads where sleeping[i].value.exchange(false, ordering: .sequentiallyConsistent) {
      semaphores[i].signal()
    }
    body(0)
    while remaining.load(ordering: .acquiring) > 0 { spinPause() }
    job = nil
  }

  private func workerLoop(_ i: Int) {
    var seen = 0
    while true {
      var spins = 0
      while generation.load(ordering: .acquiring) == seen {
        spins += 1
        if spins > 20_000 {
          sleeping[i].value.store(true, ordering: .sequentiallyConsistent)
          if generation.load(ordering: .sequentiallyConsistent) != seen {
            // Work arrived while going to sleep: take back the flag, or eat the signal sent for it.
            if !sleeping[i].value.exchange(false, ordering: .sequentiallyConsistent) { semaphores[i].wait() }
            break
          }
          semaphores[i].wait()
          spins = 0
        } else {
          spinPause()
        }
      }
      seen = generation.load(ordering: .acquiring)
      if stopping.value.load(ordering: .acquiring) { return }
      if let job { job(i) }
      remaining.subtract(1, ordering: .releasing)
    }
  }

  @inline(__always) private func spinPause() {
    #if arch(x86_64)
    _ = 0  // a plain load loop; `pause` is not reachable from Swift without a C shim
    #endif
  }
}

/// An atomic flag in a box (atomics cannot live in arrays).
final class Flag: Sendable {
  let value = Atomic<Bool>(false)
}

/// Splits [0, n) into `parts` contiguous ranges, aligned to `align`.
@inline(__always)
func partition(_ n: Int, parts: Int, index: Int, align: Int = 1) -> Range<Int> {
  let chunks = (n + align - 1) / align
  let per = (chunks + parts - 1) / parts
  let lo = min(n, index * per * align)
  let hi = min(n, (index + 1) * per * align)
  return lo..<hi
}
