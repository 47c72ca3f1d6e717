//! Helpers shared by the integration tests.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use debrief_core::EventFields;

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub fn bytes(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).expect("fixture")
}

pub fn ts(s: &str) -> jiff::Timestamp {
    s.parse().expect("timestamp")
}

pub fn ids(events: &[EventFields]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            e.source_id
                .clone()
                .expect("every imported event has a source id")
        })
        .collect()
}

/// Source ids are unique within one import, so the store keeps every event once.
pub fn assert_unique_ids(events: &[EventFields]) {
    let mut seen = std::collections::HashSet::new();
    for id in ids(events) {
        assert!(seen.insert(id.clone()), "duplicate source id {id}");
    }
}

/// A zip of `files` (name, contents), deflated, in memory.
pub fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        zip.start_file(name.as_str(), options).expect("start");
        zip.write_all(data).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

/// Every file under `dir`, with its path relative to `dir` behind `prefix`.
pub fn dir_files(dir: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    walk(dir, dir, prefix, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            walk(root, &path, prefix, out);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            let name = format!("{prefix}{}", rel.to_string_lossy().replace('\\', "/"));
            out.push((name, std::fs::read(&path).expect("read")));
        }
    }
}
