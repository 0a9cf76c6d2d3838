// TrainingError.swift: the one error enum of the Training module. Every message names the value,
// what was expected and what was found, so a bad run can be fixed from the message alone.
import Foundation

public enum TrainingError: Error, LocalizedError, Equatable {
  /// A hyperparameter outside its valid range (rejected before any work).
  case badHyperparameter(name: String, value: String, expected: String)
  /// A training sequence that cannot be used as is.
  case badSequence(index: Int, reason: String)
  /// The loss became NaN or infinite: training stops instead of returning a garbage adapter.
  case nonFiniteLoss(step: Int, loss: String)
  /// An adapter does not fit the model it is applied to or loaded for.
  case adapterMismatch(detail: String)
  /// An adapter file that cannot be read (path, tensor name, what is wrong).
  case badAdapterFile(path: String, detail: String)
  /// A reference trajectory file that cannot be replayed.
  case badReferenceFile(path: String, detail: String)
  /// A training data file (JSONL or text) that cannot be read; line 0 = the whole file.
  case badDataFile(path: String, line: Int, detail: String)
  /// A training data file that does not exist.
  case missingDataFile(path: String)
  /// The buffers a run needs exceed the memory it may use (estimated before allocating).
  case insufficientMemory(what: String, neededBytes: Double, availableBytes: Double)

  public var errorDescription: String? {
    switch self {
    case .badHyperparameter(let n, let v, let e): return "hyperparameter \(n): expected \(e), found \(v)"
    case .badSequence(let i, let r): return "training sequence \(i): \(r)"
    case .nonFiniteLoss(let s, let l):
      return
        "training stopped at optimizer step \(s): the loss is \(l) (not finite); lower the learning rate or check the data"
    case .adapterMismatch(let d): return "adapter does not fit the model: \(d)"
    case .badAdapterFile(let p, let d): return "\(p): \(d)"
    case .badReferenceFile(let p, let d): return "\(p): \(d)"
    case .badDataFile(let p, let l, let d): return l > 0 ? "\(p):\(l): \(d)" : "\(p): \(d)"
    case .missingDataFile(let p): return "training data file \(p) not found"
    case .insufficientMemory(let w, let n, let a):
      return String(
        format:
          "%@ need %.1f GB, more than the %.1f GB this machine allows (80%% of its memory); use shorter sequences or fewer adapters per step",
        w, n / 1e9, a / 1e9)
    }
  }
}
