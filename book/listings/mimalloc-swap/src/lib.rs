//! Chapter: the same workload with mimalloc as the global allocator.
