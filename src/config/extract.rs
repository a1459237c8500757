//! Defaults < TOML file < environment into a [`Config`], reporting every key serde refuses,
//! not only the first: a refused key is reported, put back to its default, and extraction
//! runs again, so validation still sees the rest and the operator gets one complete list.

use std::path::Path;

use figment::providers::{Format, Serialized, Toml};
use figment::value::Value;
use figment::Figment;

use super::source::Sources;
use super::{env, report, secret, Config, ConfigError, MAX_CONFIG_FILE_BYTES};

/// Most problems reported by one load (each extraction round removes one refused key).
const MAX_PROBLEMS: usize = 32;

/// A loaded configuration with what was refused so far; [`Extracted::finish`] decides.
pub(super) struct Extracted {
    pub config: Config,
    problems: Vec<ConfigError>,
    file: Option<(std::path::PathBuf, String)>,
    env_names: Vec<String>,
}

impl Extracted {
    /// Reads `file` (bounded) and extracts it with `env` over the defaults.
    pub fn read(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let Some(path) = file else {
            return Self::from_text(None, env);
        };
        let refused = |reason: String| ConfigError::File {
            path: path.to_owned(),
            reason,
        };
        if !path.is_file() {
            return Err(refused("not found or not a file".into()));
        }
        let text = secret::read_bounded(path, MAX_CONFIG_FILE_BYTES).map_err(refused)?;
        Self::from_text(Some((path, &text)), env)
    }

    /// [`Extracted::read`] with the file already read: `(path for errors, text)`. A file that
    /// is no TOML at all is refused at once (there is nothing to go on with).
    pub fn from_text(
        file: Option<(&Path, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some((path, text)) = file {
            report::check_toml(path, text)?;
            figment = figment.merge(Toml::string(text));
        }
        let env: Vec<(String, String)> = env.into_iter().collect();
        let env_names: Vec<String> = env.iter().map(|(name, _)| name.clone()).collect();
        let names: Vec<&str> = env_names.iter().map(String::as_str).collect();
        let figment = env::merge(figment, env);
        let (config, problems) = extract_all(figment, &names);
        Ok(Self {
            config,
            problems,
            file: file.map(|(p, t)| (p.to_owned(), t.to_owned())),
            env_names,
        })
    }

    /// Keeps `r`'s problems, except those about a key already refused (a refused key was put
    /// back to its default, which may fail a rule of its own: that is no news).
    pub fn check(&mut self, r: Result<(), ConfigError>) {
        let Err(e) = r else { return };
        let known: Vec<String> = self
            .problems
            .iter()
            .flat_map(|p| p.problems())
            .filter_map(|p| p.key().map(str::to_owned))
            .collect();
        for p in e.problems() {
            if !p.key().is_some_and(|k| known.iter().any(|n| n == k)) {
                self.problems.push(clone_problem(p));
            }
        }
    }

    /// The configuration, or every problem found, each with where its value came from.
    pub fn finish(self) -> Result<Config, ConfigError> {
        let names: Vec<&str> = self.env_names.iter().map(String::as_str).collect();
        let sources = Sources {
            file: self.file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
            env_names: &names,
        };
        match ConfigError::all(self.problems) {
            Ok(()) => Ok(self.config),
            Err(e) => Err(sources.annotate(e)),
        }
    }
}

/// A problem rebuilt from its parts (errors are not `Clone`: a file error holds a path).
fn clone_problem(p: &ConfigError) -> ConfigError {
    match p {
        ConfigError::Invalid { key, reason } => ConfigError::invalid(key, reason),
        ConfigError::File { path, reason } => ConfigError::File {
            path: path.clone(),
            reason: reason.clone(),
        },
        ConfigError::Several(all) => ConfigError::Several(all.iter().map(clone_problem).collect()),
    }
}

/// Extracts, and while serde refuses a key: reports it, removes it, extracts again.
fn extract_all(mut figment: Figment, env_names: &[&str]) -> (Config, Vec<ConfigError>) {
    let mut problems = Vec::new();
    while problems.len() < MAX_PROBLEMS {
        let e = match figment.extract::<Config>() {
            Ok(config) => return (config, problems),
            Err(e) => e,
        };
        let problem = report::from_figment(e, env_names);
        let next = problem.key().and_then(|key| without(&figment, key));
        problems.push(problem);
        match next {
            Some(f) => figment = f,
            None => break,
        }
    }
    (Config::default(), problems)
}

/// `figment` without the value at the dotted `key` (the defaults show through), or `None`
/// if there is no such value to remove.
fn without(figment: &Figment, key: &str) -> Option<Figment> {
    let mut value: Value = figment.extract().ok()?;
    let mut segments: Vec<&str> = key.split('.').collect();
    let last = segments.pop()?;
    let mut dict = match &mut value {
        Value::Dict(_, d) => d,
        _ => return None,
    };
    for segment in segments {
        dict = match dict.get_mut(segment)? {
            Value::Dict(_, d) => d,
            _ => return None,
        };
    }
    dict.remove(last)?;
    Some(Figment::from(Serialized::defaults(Config::default())).merge(Serialized::defaults(value)))
}
