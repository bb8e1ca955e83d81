//! Errors a user can act on: what went wrong, a hint, and the exit code that kind of failure means.

use std::fmt;

/// Exit codes of every `git-release-*` executable.
///
/// `0` success; `1` the operation failed (I/O, git, network); `2` bad usage or bad input files
/// (clap uses 2 for usage errors too); `3` refused because of the repository's state (uncommitted
/// changes in paths the command writes, a tag that already exists). Scripts can tell "fix your
/// input" from "fix your repo" from "try again".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Generic failure (exit 1).
    Failure = 1,
    /// Invalid input: a flag, a repos file, a revspec (exit 2).
    Input = 2,
    /// Refused because of repository state (exit 3).
    Refused = 3,
}

/// An error meant for the user: one-line message, optional hint, and its exit kind.
///
/// Printed as `error: <message>` then `hint: <hint>` (the jj convention, see STYLE.md).
#[derive(Debug, Clone)]
pub struct UserError {
    /// What went wrong, naming the file, line and value where there is one.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Which exit code this maps to.
    pub kind: ExitKind,
    /// The command's `--json` output already says this (e.g. check's findings); under `--json`
    /// no separate `{"error": …}` object is printed, only the exit code is set.
    pub in_json_output: bool,
}

impl UserError {
    /// An input error (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: None,
            kind: ExitKind::Input,
            in_json_output: false,
        }
    }

    /// A refusal because of repository state (exit 3).
    pub fn refused(message: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: None,
            kind: ExitKind::Refused,
            in_json_output: false,
        }
    }

    /// A generic failure (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: None,
            kind: ExitKind::Failure,
            in_json_output: false,
        }
    }

    /// Mark the error as already stated by the command's `--json` output (see
    /// [`UserError::in_json_output`]).
    pub fn in_json_output(mut self) -> Self {
        self.in_json_output = true;
        self
    }

    /// Attach a hint shown under the message.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// Shorthand for `Err(UserError::input(..).into())`.
#[macro_export]
macro_rules! bail_input {
    ($($arg:tt)*) => {
        return Err($crate::error::UserError::input(format!($($arg)*)).into())
    };
}

/// Nothing when `errors` is empty; the error itself when there is one; otherwise every error
/// (with its hint) on stderr, then `N <what> failed; nothing was written` with the first one's
/// exit kind.
pub fn fail_all(mut errors: Vec<anyhow::Error>, what: &str) -> anyhow::Result<()> {
    if errors.len() <= 1 {
        return errors.pop().map_or(Ok(()), Err);
    }
    for e in &errors {
        eprintln!("error: {e:#}");
        if let Some(h) = e
            .chain()
            .find_map(|c| c.downcast_ref::<UserError>())
            .and_then(|u| u.hint.as_ref())
        {
            eprintln!("hint: {h}");
        }
    }
    let kind = errors[0]
        .chain()
        .find_map(|c| c.downcast_ref::<UserError>())
        .map_or(crate::error::ExitKind::Failure, |u| u.kind);
    Err(UserError {
        message: format!("{} {what} failed; nothing was written", errors.len()),
        hint: None,
        kind,
        in_json_output: false,
    }
    .into())
}

/// Closest candidate by edit distance, for "did you mean".
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(s, _)| *s > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
