//! Defaults < TOML file < environment into a [`Config`], reporting every key serde refuses,
//! not only the first: a refused key is reported, put back to its default, and extraction
//! runs again, so validation still sees the rest and the operator gets one complete list.
//! Should that ever fail to converge (more than [`MAX_PROBLEMS`], or a refusal with no key to
//! remove), the serde problems alone are reported: validating defaults would only invent more.

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
    /// False when extraction gave up: `config` is then the defaults, not the operator's.
    complete: bool,
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
        let (config, problems, complete) = extract_all(figment, &names);
        Ok(Self {
            config,
            problems,
            complete,
            file: file.map(|(p, t)| (p.to_owned(), t.to_owned())),
            env_names,
        })
    }

    /// Keeps `r`'s problems, except those about a key already refused: a refused key was put
    /// back to its default (and a refused `x_file` left `x` unset), which may fail a rule of
    /// its own, and that is no news; the first problem of a key is the one kept. Nothing is kept after extraction gave up.
    pub fn check(&mut self, r: Result<(), ConfigError>) {
        let Err(e) = r else { return };
        if !self.complete {
            return;
        }
        let base = |key: &str| key.strip_suffix("_file").unwrap_or(key).to_owned();
        let mut known: Vec<String> = self
            .problems
            .iter()
            .flat_map(|p| p.problems())
            .filter_map(|p| p.key().map(base))
            .collect();
        for p in e.problems() {
            match p.key().map(base) {
                Some(k) if known.iter().any(|n| related(n, &k)) => {}
                key => {
                    known.extend(key);
                    self.problems.push(p.clone());
                }
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

/// The same key, or one inside the other (`webhook.secrets.1` and `webhook.secrets`).
fn related(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| {
        inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.'))
    };
    a == b || inside(a, b) || inside(b, a)
}

/// Extracts, and while serde refuses a key: reports it, removes it, extracts again. The flag
/// is false if it gave up (the configuration returned is then the defaults). The merged value
/// is extracted once, at the first refusal, and each round removes its key from that same
/// value (the defaults show through where a key was removed): one extraction per problem, not
/// two (a file with many bad keys costs half; the `config_load` fuzz target was spending its
/// time here).
fn extract_all(mut figment: Figment, env_names: &[&str]) -> (Config, Vec<ConfigError>, bool) {
    let mut problems = Vec::new();
    let mut value: Option<Value> = None;
    while problems.len() < MAX_PROBLEMS {
        let e = match figment.extract::<Config>() {
            Ok(config) => return (config, problems, true),
            Err(e) => e,
        };
        let problem = report::from_figment(e, env_names);
        let key = problem.key().map(str::to_owned);
        problems.push(problem);
        let Some(key) = key else { break };
        if value.is_none() {
            value = figment.extract().ok();
        }
        let Some(v) = value.as_mut() else { break };
        if without(v, &key).is_none() {
            break;
        }
        figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::defaults(v.clone()));
    }
    (Config::default(), problems, false)
}

/// Removes from `value` the value at the dotted `key`, or at the table key above it where the
/// path goes into a list (`webhook.secrets.1` removes `webhook.secrets`). `None` if there is
/// no such value to remove.
fn without(value: &mut Value, key: &str) -> Option<()> {
    let mut dict = match value {
        Value::Dict(_, d) => d,
        _ => return None,
    };
    let mut segments = key.split('.').peekable();
    while let Some(segment) = segments.next() {
        let descend = segments.peek().is_some() && matches!(dict.get(segment)?, Value::Dict(..));
        if !descend {
            dict.remove(segment)?;
            return Some(());
        }
        dict = match dict.get_mut(segment)? {
            Value::Dict(_, inner) => inner,
            _ => return None,
        };
    }
    None
}
