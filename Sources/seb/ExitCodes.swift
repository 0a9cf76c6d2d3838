import Analysis
// ExitCodes.swift: one exit status per kind of failure (BSD sysexits), one message line on stderr,
// and the usage text only for usage mistakes (documented in the README):
//   0 ok · 1 a check found differences (verify, check, paper numbers) · 64 usage · 65 bad data
//   66 missing input · 69 service unavailable (endpoint) · 73 cannot create output · 70 internal
import ArgumentParser
import Embedding
import EngineAPI
import EngineServer
import Experiment
import Foundation
import GGUF
import LLM
import ModelStore
import SafeTensors
import Search
import SelfEdit
import Tokenizer
import Training
import Workspace

enum ExitStatus {
  static let usage: Int32 = 64, dataError: Int32 = 65, noInput: Int32 = 66, unavailable: Int32 = 69,
    software: Int32 = 70,
    cantCreate: Int32 = 73

  static func code(for error: Error) -> Int32 {
    switch error {
    case ExperimentError.missingFile, LLMError.modelFileMissing, LLMError.inputFileMissing,
      EmbeddingError.modelNotInstalled,
      TrainingError.missingDataFile:
      return noInput
    case GGUFError.cannotOpen(let file, _) where !FileManager.default.fileExists(atPath: file): return noInput
    case AnalysisError.unreadable(let path, _) where !FileManager.default.fileExists(atPath: path): return noInput
    case AnalysisError.toolFailed: return software
    case AnalysisError.endpoint: return unavailable
    // What the model could not do (a prompt beyond the context, a bad option): bad data, as LLMError.
    case EngineError.model: return dataError
    case EngineError.unavailable, SearchError.judgeFailures: return unavailable
    // A worker that misreads our requests (another protocol version): not the user's data.
    case EngineError.rejected, EngineError.unknownAdapter: return software
    case WorkerError.tokenRequired: return usage
    case is AnalysisError: return dataError
    case ExperimentError.runConflict, SelfEditError.modelMismatch, SelfEditError.engineMismatch,
      WorkspaceError.notWritable:
      return cantCreate
    case is ExperimentError, is TrainingError, is GGUFError, is TokenizerError, is LLMError, is SafeTensorsError,
      is EmbeddingError, is WorkspaceError:
      return dataError
    case SelfEditError.endpoint: return unavailable
    case is SelfEditError: return usage
    case let e as ModelStoreError:
      if case .io = e { return cantCreate }
      return dataError
    case is CocoaError:
      let ns = error as NSError
      return [NSFileReadNoSuchFileError, NSFileNoSuchFileError].contains(ns.code) ? noInput : cantCreate
    default: return software
    }
  }
}

extension SEB {
  /// Parses (usage errors print the usage, exit 64), then runs (runtime errors: one line, exit by kind).
  static func runWithExitCodes() -> Never {
    var command: ParsableCommand
    do { command = try parseAsRoot() } catch { exit(withError: error) }
    do {
      try command.run()
      Foundation.exit(0)
    } catch let e as ExitCode {
      Foundation.exit(e.rawValue)
    } catch let e as CleanExit {
      exit(withError: e)
    } catch let e as ValidationError {
      // A bad option value found while running: the usage text of that command, not the root's.
      FileHandle.standardError.write(Data("Error: \(e.message)\nUsage: \(usageString(for: type(of: command)))\n".utf8))
      Foundation.exit(ExitStatus.usage)
    } catch  where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
      exit(withError: error)  // help, version and the parser's own errors print as ArgumentParser does
    } catch {
      FileHandle.standardError.write(Data(("error: " + AtomicFile.describe(error) + "\n").utf8))
      Foundation.exit(ExitStatus.code(for: error))
    }
  }
}
