// Analysis reads Experiment records and uses its graders and statistics; re-exported for its users.
@_exported import Experiment
@_exported import Workspace
