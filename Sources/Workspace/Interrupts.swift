// Interrupts.swift: Ctrl-C (SIGINT) and SIGTERM leave no temporary files behind. Every writer of a
// temporary path registers it while it exists; the handler (installed by an executable) removes
// the registered paths and exits 130 / 143 as a shell expects. Outputs themselves are already
// safe: they appear only by rename, and run records are append-only with torn-line repair.
// SIGKILL cannot be caught: then a hidden `.NAME.tmp-PID` may remain beside an intact output,
// until a resumed run sweeps it (AtomicFile.removeOrphans).
import Dispatch
import Foundation

public enum Interrupts {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var paths: Set<String> = []
  nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

  public static func register(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
  public static func unregister(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }

  /// Hands SIGINT/SIGTERM to another handler (a server's graceful shutdown) until
  /// `installCleanup` is called again; the signals stay ignored by default meanwhile.
  public static func suspend() {
    lock.lock(); defer { lock.unlock() }
    for s in sources { s.cancel() }
    sources = []
  }

  /// Installs the SIGINT/SIGTERM handler (once per process).
  public static func installCleanup() {
    lock.lock(); defer { lock.unlock() }
    guard sources.isEmpty else { return }
    for sig in [SIGINT, SIGTERM] {
      signal(sig, SIG_IGN)  // delivered to the dispatch source instead
      let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
      s.setEventHandler {
        lock.lock()
        let doomed = paths
        lock.unlock()
        for p in doomed { try? FileManager.default.removeItem(atPath: p) }
        FileHandle.standardError.write(
          Data(
            "interrupted: \(doomed.isEmpty ? "nothing" : "\(doomed.count) temporary path(s)") cleaned up; outputs keep their last complete state\n"
              .utf8))
        _exit(128 + sig)  // no atexit handlers: the pool threads are still running
      }
      s.resume()
      sources.append(s)
    }
  }
}
