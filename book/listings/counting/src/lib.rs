//! Chapter: a counting shim around System with global atomics.
