//! The crate's top-level error and its mapping to exit codes (0 ok, 1 user error, 2 bug).

use crate::diagnostics::Diagnostics;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input with located diagnostics (exit 1).
    #[error("{0}")]
    Input(#[from] Diagnostics),
    /// A user error without a file position: a bad flag value, a missing file (exit 1).
    #[error("{message}{}", hint.as_ref().map(|h| format!("\n  = help: {h}")).unwrap_or_default())]
    User {
        message: String,
        hint: Option<String>,
    },
    /// An I/O failure, with what we were doing (exit 1: the environment, not a bug).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A bug or an unexpected failure (exit 2).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn user(message: impl Into<String>) -> Self {
        Error::User {
            message: message.into(),
            hint: None,
        }
    }
    pub fn user_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::User {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 2,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
