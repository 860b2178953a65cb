//! Chapter: jemalloc and its statistics through tikv-jemalloc-ctl.
