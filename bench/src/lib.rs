//! Shared helpers of rpcgen's benchmark binaries (see docs/benchmarks.md).
