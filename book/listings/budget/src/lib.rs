//! Chapter: a memory-budget guardrail that flags or refuses.
