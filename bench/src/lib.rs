//! Shared helpers of rpcgen's benchmark binaries (see docs/benchmarks.md): bounded measurement
//! loops with latency percentiles, the CPU time processes use, a Markdown result table, a
//! child-process peer that announces its endpoint, and the benchmark service.
//!
//! Benchmarks are never tests: they measure, print, and leave the reading to a human. Every loop
//! here is bounded both in calls and in time.

pub mod cpu;
pub mod measure;
pub mod peer;
pub mod service;
pub mod table;
