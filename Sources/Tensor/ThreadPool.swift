// ThreadPool.swift: the process's one fork-join pool. Every parallel loop of the package runs on
// it, the matrix products included (OpenBLAS itself runs one thread, see BLAS.swift), so there is
// never more than one busy thread per core: OpenBLAS's own workers spin in sched_yield while other
// code runs, which cost 15-20% of prefill and training time on 2 cores.
// Built for the small kernels of decode, where a dispatch costs more than the work (a token of
// SmolLM2 runs ~120 matrix products in ~7 ms): workers spin briefly between jobs and then sleep on
// a semaphore, so an idle pool costs nothing. Concurrent callers are serialised by a lock; a call
// from inside a job runs its parts one after another on the calling thread (no nested fork).
import COpenBLAS
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
  nonisolated(unsafe) public static var shared: ThreadPool = {
    openblas_set_num_threads(1)
    return ThreadPool(threads: ProcessInfo.processInfo.activeProcessorCount)
  }()

  /// Sets the thread count of every parallel loop (0 or negative = all cores) and keeps OpenBLAS
  /// at one thread, since the pool splits the products itself.
  public static func configure(threads: Int) {
    let n = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
    if shared.threads != n {
      shared.shutdown()
      shared = ThreadPool(threads: n)
    }
    openblas_set_num_threads(1)
  }

  /// True on a thread that is running a part of some pool's job.
  public static var insideJob: Bool { pthread_getspecific(jobKey) != nil }
  private static let jobKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()
  private static let marker = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

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
    if ThreadPool.insideJob {
      for part in 0..<threads { body(part) }
      return
    }
    // Callers from several threads (parallel tests) take turns.
    lock.lock()
    defer { lock.unlock() }
    job = body
    remaining.store(threads - 1, ordering: .sequentiallyConsistent)
    generation.add(1, ordering: .sequentiallyConsistent)
    for i in 1..<threads where sleeping[i].value.exchange(false, ordering: .sequentiallyConsistent) {
      semaphores[i].signal()
    }
    pthread_setspecific(ThreadPool.jobKey, ThreadPool.marker)
    body(0)
    pthread_setspecific(ThreadPool.jobKey, nil)
    while remaining.load(ordering: .acquiring) > 0 { spinPause() }
    job = nil
  }

  private func workerLoop(_ i: Int) {
    pthread_setspecific(ThreadPool.jobKey, ThreadPool.marker)
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
public func partition(_ n: Int, parts: Int, index: Int, align: Int = 1) -> Range<Int> {
  let chunks = (n + align - 1) / align
  let per = (chunks + parts - 1) / parts
  let lo = min(n, index * per * align)
  let hi = min(n, (index + 1) * per * align)
  return lo..<hi
}
