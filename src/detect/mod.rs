//! Container engine detection (the edge): sockets, processes, files -> one plain-data report.
