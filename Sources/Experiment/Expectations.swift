// Expectations.swift: `seb check` - a run's summary against expected values with tolerance bands,
// for CI regression checks. An expectation file maps dotted summary paths to bands:
//   {"metrics": {"methods.passage.metrics.gold_loglik.gain.mean": {"value": 0.8, "tolerance": 0.3},
//                "complete": {"equals": true}, "methods.base.failures": {"min": 0, "max": 0}}}
// Every metric outside its band is reported by name, with the band and the value found.
import Foundation
import Workspace

public struct ExpectationResult: Equatable, Sendable {
  public var metric: String
  public var passed: Bool
  public var message: String
}

public enum Expectations {
  /// Flattens JSON into dotted paths (arrays by index).
  public static func flatten(_ v: JSONValue, prefix: String = "", into out: inout [String: JSONValue]) {
    switch v {
    case .object(let o): for (k, x) in o { flatten(x, prefix: prefix.isEmpty ? k : "\(prefix).\(k)", into: &out) }
    case .array(let a): for (i, x) in a.enumerated() { flatten(x, prefix: "\(prefix).\(i)", into: &out) }
    default: out[prefix] = v
    }
  }

  public static func check(
    summary: Data, summaryPath: String, expectations: Data, expectationsPath: String
  ) throws -> [ExpectationResult] {
    let s = try JSONNode.parse(summary, path: summaryPath)
    var flat: [String: JSONValue] = [:]
    flatten(s.value, into: &flat)
    let e = try JSONNode.parse(expectations, path: expectationsPath)
    try e.onlyKeys(["metrics", "note"])
    let metrics = try e.field("metrics")
    var out: [ExpectationResult] = []
    for (name, _) in try metrics.object().sorted(by: { $0.key < $1.key }) {
      let band = try metrics.field(name)
      try band.onlyKeys(["value", "tolerance", "min", "max", "equals"])
      guard let found = flat[name] else {
        out.append(ExpectationResult(metric: name, passed: false, message: "\(name): not in the summary"))
        continue
      }
      if let eq = try band.fieldIfPresent("equals") {
        let ok = JSONNode.describe(eq.value) == JSONNode.describe(found)
        out.append(
          ExpectationResult(
            metric: name, passed: ok,
            message: "\(name): expected \(JSONNode.describe(eq.value)), found \(JSONNode.describe(found))"))
        continue
      }
      guard let x = found.double, x.isFinite else {
        out.append(
          ExpectationResult(
            metric: name, passed: false, message: "\(name): expected a number, found \(JSONNode.describe(found))"))
        continue
      }
      var lo = -Double.infinity, hi = Double.infinity
      if let v = try band.fieldIfPresent("value") {
        let t = try band.fieldIfPresent("tolerance")?.double() ?? 0
        guard t >= 0 else { throw band.fail("a tolerance >= 0") }
        lo = try v.double() - t; hi = try v.double() + t
      }
      if let m = try band.fieldIfPresent("min") { lo = max(lo, try m.double()) }
      if let m = try band.fieldIfPresent("max") { hi = min(hi, try m.double()) }
      let ok = x >= lo && x <= hi
      out.append(
        ExpectationResult(
          metric: name, passed: ok,
          message: String(format: "%@: %.6g %@ [%.6g, %.6g]", name, x, ok ? "within" : "OUTSIDE", lo, hi)))
    }
    guard !out.isEmpty else {
      throw ExperimentError.malformed(
        path: expectationsPath, key: "metrics", expected: "at least one expectation", found: "none")
    }
    return out
  }
}
