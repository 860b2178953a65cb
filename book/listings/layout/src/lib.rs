//! Chapter: Layout — size, alignment, arrays, padding and Layout's errors.
