//! The CLI's error: a message for people and the exit code that goes with it — 2 for a usage
//! error (a value that does not parse, a flag missing), 1 for everything that fails at run time
//! (not found, conflict, an invalid value found in the database's state, database unreachable).

use std::fmt;
use std::process::ExitCode;

use debrief_core::ParseError;
use debrief_store::StoreError;

#[derive(Debug)]
pub enum CliError {
    /// The command line itself is wrong: exit 2.
    Usage(String),
    /// The command could not be done: exit 1.
    Failed(String),
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::Usage(message.into())
    }

    pub fn failed(message: impl Into<String>) -> CliError {
        CliError::Failed(message.into())
    }

    /// A value assembled from several flags that fails its check: the error's field is the flag
    /// (`check_in` → `--check-in`).
    pub fn bad_field(err: &ParseError) -> CliError {
        CliError::Usage(format!(
            "--{}: {}",
            err.field.replace('_', "-"),
            err.message
        ))
    }

    /// A value given on the command line that does not parse, naming its flag.
    pub fn bad_flag(flag: &str, err: &ParseError) -> CliError {
        CliError::Usage(format!("{flag}: {}", err.message))
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Failed(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Failed(m) => f.write_str(m),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> CliError {
        match e {
            StoreError::Duplicate(what) => CliError::Failed(format!("{what} already exists")),
            other => CliError::Failed(other.to_string()),
        }
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;
