// seb-fuzz: libFuzzer entry point (built with -sanitize=fuzzer -DSEB_FUZZ by Tests/Fuzz/run.sh,
// the target chosen by SEB_FUZZ_TARGET) or, in a normal build, a replayer:
//   seb-fuzz replay TARGET FILE|DIR...   run inputs through a target (exit 0: no crash)
//   seb-fuzz seeds TARGET DIR            write the target's seed inputs into DIR
import Foundation
import SebFuzzTargets

#if SEB_FUZZ
  let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SEB_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
      fatalError(
        "set SEB_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")), found '\(name)'")
    }
    return t
  }()

  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzOne(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    fuzzTarget.run(Data(bytes: start, count: count))
    return 0
  }

  // SwiftPM links an executable's entry as `<name>_main` (aliased to main); hand it to libFuzzer's
  // driver, which then parses the usual libFuzzer flags.
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
  ) -> CInt

  @_cdecl("seb_fuzz_main")
  public func sebFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { fuzzOne($0, $1) }
  }
#else
  @main
  struct FuzzMain {
    static func main() throws {
      let args = Array(CommandLine.arguments.dropFirst())
      guard args.count >= 3, let t = FuzzTarget(rawValue: args[1]), ["replay", "seeds"].contains(args[0]) else {
        FileHandle.standardError.write(
          Data(
            "usage: seb-fuzz replay|seeds TARGET PATH... (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n"
              .utf8))
        exit(64)
      }
      if args[0] == "seeds" {
        try FileManager.default.createDirectory(atPath: args[2], withIntermediateDirectories: true)
        for (i, d) in try t.seeds().enumerated() { try d.write(to: URL(fileURLWithPath: args[2] + "/seed-\(i)")) }
        return
      }
      var n = 0
      for p in args[2...] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { continue }
        let files =
          isDir.boolValue ? (try FileManager.default.contentsOfDirectory(atPath: p)).sorted().map { p + "/" + $0 } : [p]
        for f in files { if let d = FileManager.default.contents(atPath: f) { t.run(d); n += 1 } }
      }
      print("seb-fuzz: \(n) inputs through \(t.rawValue), no crash")
    }
  }
#endif
