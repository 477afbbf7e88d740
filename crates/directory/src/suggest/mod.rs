//! Crisis-aware suggestions: which services near here fit this person now.
//!
//! The rules (crisis -> service types, weights) come from `assets/suggestion_rules.json`.
//! Ranking is two-phase: the R*Tree gives candidates in the radius with a matching type
//! (type bits are auxiliary columns, so no join), each gets an upper bound of its score from
//! the index alone; exact scores (schedules, capacity) are computed best-bound first until no
//! remaining bound can beat the N-th exact score. What the exact score needs (age range, parsed
//! schedules, latest capacity) is held in memory beside the grid, so ranking reads no table;
//! only the final top N are read from SQLite to be described.
//!
//! - `rules`: the rules file, parsed and checked.
//! - `index`: candidate search (in-memory grid, R*Tree or full scan) and what exact scoring
//!   holds in memory of each row.
//! - `scoring`: the request compiled to type weights; bound and exact score parts.
//! - `ranking`: best-bound-first ranking into suggestions, and one service described alone.

mod index;
mod ranking;
mod rules;
mod scoring;

pub(crate) use index::Grid;
pub use index::{haversine_miles, Strategy};
pub use rules::{Scoring, SuggestionRules, Weights, DEFAULT_RULES_JSON};
