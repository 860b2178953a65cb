//! Chapter: a lock-free bump arena with a System fallback.
