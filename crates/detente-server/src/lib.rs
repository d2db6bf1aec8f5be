//! detente's HTTP server.
