//! The pitfalls chapter's cases.
