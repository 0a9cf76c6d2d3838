// Tensor re-exports Workspace so runtime code sees SplitMix64 (moved there so Analysis can use it without the runtime).
@_exported import Workspace
