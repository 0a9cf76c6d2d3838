// MetadataAccess.swift: typed metadata lookups shared by GGUFFile and GGUFMetadata.
//
// Rules: the plain accessors throw `missingKey` when the key is absent; the `...IfPresent`
// variants return nil instead. Both throw `wrongValueType` when the stored type cannot represent
// the request and `valueOutOfRange` when an integer does not fit. Integer accessors accept any
// GGUF integer type whose value fits (writers disagree on u32 vs u64 vs i32 for counts); `float`
// accepts f32 and f64; arrays accept any element type convertible without loss.

extension GGUFMetadataReading {
  private func required(_ key: String) throws -> GGUFValue {
    guard let v = value(key) else { throw GGUFError.missingKey(file: displayName, key: key) }
    return v
  }

  private func integer<T: FixedWidthInteger>(_ v: GGUFValue, key: String, as: T.Type, name: String) throws -> T {
    let found = "\(v.typeName) \(v.preview())"
    switch v {
    case .uint64(let u):
      guard let x = T(exactly: u) else {
        throw GGUFError.valueOutOfRange(
          file: displayName, key: key, expected: "an integer that fits \(name)", found: found)
      }
      return x
    default:
      guard let i = v.int64Value else {
        throw GGUFError.wrongValueType(file: displayName, key: key, expected: "an integer (\(name))", found: found)
      }
      guard let x = T(exactly: i) else {
        throw GGUFError.valueOutOfRange(
          file: displayName, key: key, expected: "an integer that fits \(name)", found: found)
      }
      return x
    }
  }

  // MARK: Scalars

  public func uint32(_ key: String) throws -> UInt32 {
    try integer(required(key), key: key, as: UInt32.self, name: "u32")
  }
  public func uint64(_ key: String) throws -> UInt64 {
    try integer(required(key), key: key, as: UInt64.self, name: "u64")
  }
  public func int32(_ key: String) throws -> Int32 { try integer(required(key), key: key, as: Int32.self, name: "i32") }
  /// Any integer type whose value fits in Int.
  public func int(_ key: String) throws -> Int { try integer(required(key), key: key, as: Int.self, name: "Int") }

  /// The value of a required key as `expected` says (`pick` returns nil for any other type).
  func typed<T>(_ key: String, _ expected: String, _ pick: (GGUFValue) -> T?) throws -> T {
    let v = try required(key)
    guard let x = pick(v) else {
      throw GGUFError.wrongValueType(
        file: displayName, key: key, expected: expected, found: "\(v.typeName) \(v.preview())")
    }
    return x
  }

  public func float(_ key: String) throws -> Float { Float(try double(key)) }

  public func double(_ key: String) throws -> Double {
    try typed(key, "f32 or f64") {
      switch $0 {
      case .float32(let f): return Double(f)
      case .float64(let d): return d
      default: return nil
      }
    }
  }

  public func string(_ key: String) throws -> String {
    try typed(key, "string") { if case .string(let s) = $0 { return s } else { return nil } }
  }

  public func bool(_ key: String) throws -> Bool {
    try typed(key, "bool") { if case .bool(let b) = $0 { return b } else { return nil } }
  }

  // MARK: Arrays

  public func array(_ key: String) throws -> GGUFArray {
    try typed(key, "array") { if case .array(let a) = $0 { return a } else { return nil } }
  }

  public func stringArray(_ key: String) throws -> [String] {
    let a = try array(key)
    guard case .string(let s) = a else {
      throw GGUFError.wrongValueType(
        file: displayName, key: key, expected: "array<string>", found: a.typeName + " \(a.preview())")
    }
    return s
  }

  /// Any integer element type whose values all fit in Int32 (token types are i32 by spec).
  public func int32Array(_ key: String) throws -> [Int32] {
    let a = try array(key)
    if case .int32(let x) = a { return x }
    guard let wide = a.int64Values else {
      throw GGUFError.wrongValueType(file: displayName, key: key, expected: "array of integers", found: a.typeName)
    }
    var out = [Int32]()
    out.reserveCapacity(wide.count)
    for (i, w) in wide.enumerated() {
      guard let x = Int32(exactly: w) else {
        throw GGUFError.valueOutOfRange(
          file: displayName, key: key, expected: "i32 elements", found: "element #\(i) = \(w)")
      }
      out.append(x)
    }
    return out
  }

  /// f32 or f64 elements.
  public func floatArray(_ key: String) throws -> [Float] {
    let a = try array(key)
    switch a {
    case .float32(let x): return x
    case .float64(let x): return x.map { Float($0) }
    default:
      throw GGUFError.wrongValueType(
        file: displayName, key: key, expected: "array<f32> or array<f64>", found: a.typeName)
    }
  }

  // MARK: Optional variants: nil when absent, throw on a wrong type.

  public func uint32IfPresent(_ key: String) throws -> UInt32? { value(key) == nil ? nil : try uint32(key) }
  public func uint64IfPresent(_ key: String) throws -> UInt64? { value(key) == nil ? nil : try uint64(key) }
  public func int32IfPresent(_ key: String) throws -> Int32? { value(key) == nil ? nil : try int32(key) }
  public func intIfPresent(_ key: String) throws -> Int? { value(key) == nil ? nil : try int(key) }
  public func floatIfPresent(_ key: String) throws -> Float? { value(key) == nil ? nil : try float(key) }
  public func doubleIfPresent(_ key: String) throws -> Double? { value(key) == nil ? nil : try double(key) }
  public func stringIfPresent(_ key: String) throws -> String? { value(key) == nil ? nil : try string(key) }
  public func boolIfPresent(_ key: String) throws -> Bool? { value(key) == nil ? nil : try bool(key) }
  public func arrayIfPresent(_ key: String) throws -> GGUFArray? { value(key) == nil ? nil : try array(key) }
  public func stringArrayIfPresent(_ key: String) throws -> [String]? { value(key) == nil ? nil : try stringArray(key) }
  public func int32ArrayIfPresent(_ key: String) throws -> [Int32]? { value(key) == nil ? nil : try int32Array(key) }
  public func floatArrayIfPresent(_ key: String) throws -> [Float]? { value(key) == nil ? nil : try floatArray(key) }
}
