//! The web app and API, tested over real HTTP against a real server (SQLite in a temporary
//! directory, random loopback port). One test binary, so the harness is compiled once.

mod api;
mod cache;
mod callers;
mod common;
mod notify_pages;
mod pages;
