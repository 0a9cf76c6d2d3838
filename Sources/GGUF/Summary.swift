// Summary.swift: the facts `seb model info` prints about a GGUF file, as plain data.
//
// Counts come from the validated tensor infos; nothing is dequantized. Metadata is listed in file
// order with arrays summarised as element type + count (plus a short preview), never expanded.

public struct GGUFSummary: Equatable, Sendable {
  public struct TypeCount: Equatable, Sendable {
    public let type: GGUFType
    public let tensors: Int
    public let parameters: Int
    public let bytes: Int
  }

  public struct MetadataEntry: Equatable, Sendable {
    public let key: String
    /// "u32", "string", "array<string>".
    public let type: String
    /// Element count for arrays, nil for scalars.
    public let count: Int?
    /// Scalars rendered; strings quoted and shortened; arrays as "[N × type] first, ...".
    public let preview: String
  }

  public let file: String
  public let fileSize: Int
  public let version: UInt32
  public let tensorCount: Int
  public let metadataCount: Int
  public let alignment: Int
  public let dataOffset: Int
  /// Sorted by tensor count, descending, then type id.
  public let types: [TypeCount]
  public let parameterCount: Int
  public let tensorBytes: Int
  public let architecture: String?
  public let metadata: [MetadataEntry]
}

extension GGUFFile {
  public func summary(previewLength: Int = 60) -> GGUFSummary {
    var byType: [GGUFType: (n: Int, p: Int, b: Int)] = [:]
    for t in tensors {
      let e = byType[t.type] ?? (0, 0, 0)
      byType[t.type] = (e.n + 1, e.p + t.elementCount, e.b + t.byteCount)
    }
    let types = byType.map {
      GGUFSummary.TypeCount(type: $0.key, tensors: $0.value.n, parameters: $0.value.p, bytes: $0.value.b)
    }
    .sorted { ($0.tensors, $1.type.rawValue) > ($1.tensors, $0.type.rawValue) }
    let entries = metadata.keys.compactMap { key -> GGUFSummary.MetadataEntry? in
      guard let v = metadata.value(key) else { return nil }
      var count: Int? = nil
      if case .array(let a) = v { count = a.count }
      return .init(key: key, type: v.typeName, count: count, preview: v.preview(maxLength: previewLength))
    }
    var arch: String? = nil
    if case .string(let s)? = metadata.value("general.architecture") { arch = s }
    return GGUFSummary(
      file: displayName, fileSize: fileSize, version: version, tensorCount: tensors.count,
      metadataCount: metadata.count, alignment: alignment, dataOffset: dataOffset, types: types,
      parameterCount: tensors.reduce(0) { $0 + $1.elementCount },
      tensorBytes: tensors.reduce(0) { $0 + $1.byteCount }, architecture: arch, metadata: entries)
  }
}
