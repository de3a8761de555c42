//! The crate's top-level error and its mapping to exit codes (0 ok, 1 user error, 2 bug).

use crate::diagnostics::Diagnostics;

/// Every error of the library; [`Error::exit_code`] maps it to the process's exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input with located diagnostics (exit 1).
    #[error("{0}")]
    Input(#[from] Diagnostics),
    /// A user error without a file position: a bad flag value, a missing file (exit 1).
    #[error("{message}{}", hint.as_ref().map(|h| format!("\n  = help: {h}")).unwrap_or_default())]
    User {
        /// What went wrong, in one sentence.
        message: String,
        /// How to fix it, when known.
        hint: Option<String>,
    },
    /// A bad value for a named field of a request (exit 1), e.g. `weeks` 0. The field is the
    /// library's name; each front end shows it its way ([`Error::naming_fields`]): the command
    /// line as its flag (`--weeks`), the MCP server as the tool argument (`weeks`).
    #[error("{}", self.naming_fields(|f| format!("`{f}`")))]
    Field {
        /// The request field, e.g. `since`, `stage`, `weeks`.
        field: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        problem: String,
        /// What to write instead.
        hint: Option<String>,
    },
    /// An I/O failure, with what we were doing (exit 1: the environment, not a bug).
    #[error("{context}: {source}")]
    Io {
        /// What was being done (e.g. the file being written).
        context: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A bug or an unexpected failure (exit 2).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An error in what the user gave (exit 1).
    pub fn user(message: impl Into<String>) -> Self {
        Error::User {
            message: message.into(),
            hint: None,
        }
    }
    /// An error in what the user gave, with a hint (exit 1).
    pub fn user_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::User {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
    /// A bad `value` for the request field `field`.
    pub fn field(
        field: &'static str,
        value: impl Into<String>,
        problem: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Error::Field {
            field,
            value: value.into(),
            problem: problem.into(),
            hint: Some(hint.into()),
        }
    }
    /// The message with a [`Error::Field`]'s field written by `name` (`--weeks` on the command
    /// line); other errors as they display.
    pub fn naming_fields(&self, name: impl Fn(&str) -> String) -> String {
        match self {
            Error::Field {
                field,
                value,
                problem,
                hint,
            } => format!(
                "{} {value}: {problem}{}",
                name(field),
                hint.as_ref()
                    .map(|h| format!("\n  = help: {h}"))
                    .unwrap_or_default()
            ),
            other => other.to_string(),
        }
    }
    /// An input or output error while doing `context`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
    /// The process exit code: 1 for anything the user can fix, 2 for an internal error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 2,
            _ => 1,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_names_the_field_as_each_front_end_asks() {
        let e = Error::field("lead_stage", "x", "not a stage", "write visit");
        assert_eq!(
            e.to_string(),
            "`lead_stage` x: not a stage\n  = help: write visit"
        );
        assert_eq!(
            e.naming_fields(|f| format!("--{}", f.replace('_', "-"))),
            "--lead-stage x: not a stage\n  = help: write visit"
        );
        assert_eq!(e.exit_code(), 1);
        let other = Error::user("plain");
        assert_eq!(other.naming_fields(|_| unreachable!()), "plain");
    }
}
