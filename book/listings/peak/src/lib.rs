//! Chapter: live and peak bytes, with alloc_zeroed and realloc forwarded exactly.
