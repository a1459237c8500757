//! The configuration's error type: one problem naming its key, or all the problems of one
//! load at once (issue 18: an operator fixes a file in one round, not one error per start).

use std::path::PathBuf;

/// A configuration problem, always naming the key it is about (or the file).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    /// Several problems, in the order they were found; never empty, never nested.
    #[error("{} problems:\n  {}", .0.len(), lines(.0))]
    Several(Vec<ConfigError>),
}

fn lines(all: &[ConfigError]) -> String {
    let shown: Vec<String> = all.iter().map(ToString::to_string).collect();
    shown.join("\n  ")
}

impl ConfigError {
    pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// The key the (first) problem is about (for tests and structured logs).
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } => Some(key),
            Self::File { .. } => None,
            Self::Several(all) => all.first().and_then(Self::key),
        }
    }

    /// Every problem, one by one.
    pub fn problems(&self) -> Vec<&ConfigError> {
        match self {
            Self::Several(all) => all.iter().flat_map(Self::problems).collect(),
            one => vec![one],
        }
    }

    /// `Ok` for no problems, the problem itself for one, [`ConfigError::Several`] for more.
    pub(crate) fn all(problems: Vec<ConfigError>) -> Result<(), ConfigError> {
        let mut flat = Vec::with_capacity(problems.len());
        for p in problems {
            match p {
                Self::Several(inner) => flat.extend(inner),
                one => flat.push(one),
            }
        }
        match flat.len() {
            0 => Ok(()),
            1 => Err(flat.remove(0)),
            _ => Err(Self::Several(flat)),
        }
    }

    /// Each problem through `f` (adding where a value came from, say), the shape kept.
    pub(crate) fn map_each(self, f: &mut impl FnMut(ConfigError) -> ConfigError) -> Self {
        match self {
            Self::Several(all) => Self::Several(all.into_iter().map(f).collect()),
            one => f(one),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConfigError;

    #[test]
    fn several_problems_are_listed_one_per_line_and_flattened() {
        assert!(ConfigError::all(vec![]).is_ok());
        let one = ConfigError::all(vec![ConfigError::invalid("a.b", "no")]).unwrap_err();
        assert_eq!(one.to_string(), "a.b: no");
        let nested = ConfigError::Several(vec![
            ConfigError::invalid("a", "1"),
            ConfigError::invalid("b", "2"),
        ]);
        let e = ConfigError::all(vec![nested, ConfigError::invalid("c", "3")]).unwrap_err();
        assert_eq!(e.to_string(), "3 problems:\n  a: 1\n  b: 2\n  c: 3");
        assert_eq!(e.key(), Some("a"));
        assert_eq!(e.problems().len(), 3);
    }
}
