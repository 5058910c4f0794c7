//! Code shared by the bench binaries: workload generation, the engines, allocation counting.

pub mod alloc;
pub mod engines;
pub mod workload;
