//! Integration tests of debrief-import, on the small synthetic fixtures in `tests/fixtures`.

mod alerts;
mod bad_input;
mod others;
mod slack;
mod support;
mod tables;
