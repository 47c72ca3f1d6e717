//! The files of a Slack export, in a directory or a zip, read one at a time under a size limit.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::common::read_capped;
use crate::report::{ErrorKind, ImportError, Location};

/// A reader a zip can be opened from.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// The top-level files that make a directory or zip a Slack export.
pub(crate) const LIST_FILES: [&str; 4] = ["channels.json", "groups.json", "mpims.json", "dms.json"];

pub(crate) enum Files {
    Dir {
        root: PathBuf,
    },
    Zip {
        archive: Box<zip::ZipArchive<Box<dyn ReadSeek>>>,
        /// The folder inside the zip that holds `channels.json` (`""` or `export/`).
        prefix: String,
        /// Member name (relative to the prefix) → index in the archive.
        members: BTreeMap<String, usize>,
    },
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Files::Dir { root } => write!(f, "Files::Dir({})", root.display()),
            Files::Zip {
                prefix, members, ..
            } => {
                write!(
                    f,
                    "Files::Zip(prefix {prefix:?}, {} members)",
                    members.len()
                )
            }
        }
    }
}

/// A day file of a channel folder: its date and its name relative to the export root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DayFile {
    pub date: Date,
    pub path: String,
}

/// `2024-03-05.json` → its date.
pub(crate) fn day_of(file_name: &str) -> Option<Date> {
    let stem = file_name.strip_suffix(".json")?;
    if stem.len() != 10 {
        return None;
    }
    stem.parse().ok()
}

fn zip_error(label: &str, e: &zip::result::ZipError) -> ImportError {
    let (kind, message) = match e {
        zip::result::ZipError::Io(io) => (ErrorKind::Io, format!("cannot read the zip: {io}")),
        zip::result::ZipError::UnsupportedArchive(what) => (
            ErrorKind::Format,
            format!(
                "the zip uses something this reader does not support ({what}); re-create it with plain deflate compression"
            ),
        ),
        other => (
            ErrorKind::Syntax,
            format!("not a readable zip file: {other}"),
        ),
    };
    ImportError::new(kind, Location::file(Some(label)), message)
}

impl Files {
    pub fn dir(root: &Path, label: &str) -> Result<Files, ImportError> {
        let has_list = LIST_FILES.iter().any(|f| root.join(f).is_file());
        if !has_list {
            return Err(ImportError::new(
                ErrorKind::Format,
                Location::file(Some(label)),
                "not a Slack export: the directory has no channels.json (nor groups.json, mpims.json or dms.json); point at the unpacked export or its zip",
            ));
        }
        Ok(Files::Dir {
            root: root.to_path_buf(),
        })
    }

    pub fn zip(reader: Box<dyn ReadSeek>, label: &str) -> Result<Files, ImportError> {
        let archive = zip::ZipArchive::new(reader).map_err(|e| zip_error(label, &e))?;
        let names: Vec<(String, usize)> = (0..archive.len())
            .filter_map(|i| match archive.name_for_index(i) {
                Some(Ok(name)) => Some((name.into_owned(), i)),
                _ => None,
            })
            .collect();
        // The export's root is the shallowest folder holding one of the list files.
        let mut best: Option<(usize, String)> = None;
        for (name, _) in &names {
            if name.starts_with("__MACOSX/") {
                continue;
            }
            let (folder, file) = match name.rsplit_once('/') {
                Some((folder, file)) => (format!("{folder}/"), file),
                None => (String::new(), name.as_str()),
            };
            if LIST_FILES.contains(&file) {
                let depth = folder.matches('/').count();
                if best.as_ref().is_none_or(|(d, _)| depth < *d) {
                    best = Some((depth, folder));
                }
            }
        }
        let Some((_, prefix)) = best else {
            return Err(ImportError::new(
                ErrorKind::Format,
                Location::file(Some(label)),
                "not a Slack export: the zip has no channels.json (nor groups.json, mpims.json or dms.json)",
            ));
        };
        let mut members = BTreeMap::new();
        for (name, i) in names {
            if let Some(rel) = name.strip_prefix(prefix.as_str())
                && !rel.is_empty()
                && !rel.ends_with('/')
            {
                members.insert(rel.to_owned(), i);
            }
        }
        Ok(Files::Zip {
            archive: Box::new(archive),
            prefix,
            members,
        })
    }

    /// Reads a top-level or day file; `None` when the export has no such file.
    pub fn read(
        &mut self,
        rel: &str,
        limit: u64,
        label: &str,
    ) -> Result<Option<Vec<u8>>, ImportError> {
        let shown = format!("{label}/{rel}");
        match self {
            Files::Dir { root } => {
                let path = root.join(rel);
                let file = match fs::File::open(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(ImportError::io(Some(&shown), &e)),
                };
                if let Ok(meta) = file.metadata()
                    && meta.len() > limit
                {
                    return Err(ImportError::too_large(Some(&shown), limit));
                }
                read_capped(file, limit, Some(&shown)).map(Some)
            }
            Files::Zip {
                archive, members, ..
            } => {
                let Some(&index) = members.get(rel) else {
                    return Ok(None);
                };
                let entry = archive.by_index(index).map_err(|e| zip_error(&shown, &e))?;
                if entry.size() > limit {
                    return Err(ImportError::too_large(Some(&shown), limit));
                }
                read_capped(entry, limit, Some(&shown)).map(Some)
            }
        }
    }

    /// The folders at the top of the export (channel, group and conversation folders).
    pub fn folders(&self, label: &str) -> Result<Vec<String>, ImportError> {
        match self {
            Files::Dir { root } => {
                let mut out = Vec::new();
                let entries = fs::read_dir(root).map_err(|e| ImportError::io(Some(label), &e))?;
                for entry in entries {
                    let entry = entry.map_err(|e| ImportError::io(Some(label), &e))?;
                    if entry.file_type().is_ok_and(|t| t.is_dir())
                        && let Ok(name) = entry.file_name().into_string()
                    {
                        out.push(name);
                    }
                }
                out.sort();
                Ok(out)
            }
            Files::Zip { members, .. } => {
                let mut out: Vec<String> = members
                    .keys()
                    .filter_map(|k| k.split_once('/').map(|(folder, _)| folder.to_owned()))
                    .collect();
                out.dedup();
                Ok(out)
            }
        }
    }

    /// The day files of one folder, by date, and the number of other files found there.
    pub fn day_files(
        &self,
        folder: &str,
        label: &str,
    ) -> Result<(Vec<DayFile>, usize), ImportError> {
        let mut days = Vec::new();
        let mut other = 0;
        match self {
            Files::Dir { root } => {
                let dir = root.join(folder);
                let shown = format!("{label}/{folder}");
                let entries = fs::read_dir(&dir).map_err(|e| ImportError::io(Some(&shown), &e))?;
                for entry in entries {
                    let entry = entry.map_err(|e| ImportError::io(Some(&shown), &e))?;
                    let Ok(name) = entry.file_name().into_string() else {
                        other += 1;
                        continue;
                    };
                    match day_of(&name) {
                        Some(date) if entry.file_type().is_ok_and(|t| t.is_file()) => {
                            days.push(DayFile {
                                date,
                                path: format!("{folder}/{name}"),
                            });
                        }
                        _ => other += 1,
                    }
                }
            }
            Files::Zip { members, .. } => {
                let start = format!("{folder}/");
                for key in members.range(start.clone()..).map(|(k, _)| k) {
                    let Some(name) = key.strip_prefix(start.as_str()) else {
                        break;
                    };
                    match day_of(name) {
                        Some(date) if !name.contains('/') => days.push(DayFile {
                            date,
                            path: key.clone(),
                        }),
                        _ => other += 1,
                    }
                }
            }
        }
        days.sort();
        Ok((days, other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_file_names() {
        assert_eq!(
            day_of("2024-03-05.json").map(|d| d.to_string()),
            Some("2024-03-05".to_owned())
        );
        assert!(day_of("2024-3-5.json").is_none());
        assert!(day_of("canvas.json").is_none());
        assert!(day_of("2024-02-30.json").is_none());
    }
}
