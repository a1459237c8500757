//! Where a refused value came from, added to its error: the environment variable that set it
//! (variables win over the file), else the file and line it is on (issue 18: an operator with
//! a long file and a deployment's environment goes straight to the place to fix).

use std::path::Path;

use toml_edit::ImDocument;

use super::{env, ConfigError};

/// Where a loader's values came from: the file's path and text, the variables' names.
pub(super) struct Sources<'a> {
    pub file: Option<(&'a Path, &'a str)>,
    pub env_names: &'a [&'a str],
}

impl Sources<'_> {
    /// `e` with "(set by VAR)" or "(at FILE:LINE)" added to each problem whose key one of the
    /// sources sets, unless it already names its source.
    pub fn annotate(&self, e: ConfigError) -> ConfigError {
        let doc = self.file.and_then(|(_, text)| ImDocument::parse(text).ok());
        e.map_each(&mut |one| match one {
            ConfigError::Invalid { key, reason } if !reason.contains("(set by ") => {
                let at = env::variable_for(self.env_names, &key)
                    .map(|name| format!("set by {name}"))
                    .or_else(|| {
                        let (path, text) = self.file?;
                        let line = line_of(doc.as_ref()?, text, &key)?;
                        Some(format!("at {}:{line}", path.display()))
                    });
                let reason = match at {
                    Some(at) => format!("{reason} ({at})"),
                    None => reason,
                };
                ConfigError::Invalid { key, reason }
            }
            other => other,
        })
    }
}

/// The 1-based line of the file on which `key` (dotted) is set, or the deepest table of it
/// that the file has.
fn line_of(doc: &ImDocument<&str>, text: &str, key: &str) -> Option<usize> {
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut found = None;
    for segment in key.split('.') {
        let Some((k, item)) = table.get_key_value(segment) else {
            break;
        };
        found = k.span().or(found);
        match item.as_table_like() {
            Some(inner) => table = inner,
            None => break,
        }
    }
    let start = found?.start;
    Some(text.get(..start)?.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotated(text: &str, env: &[&str], key: &str) -> String {
        let sources = Sources {
            file: Some((Path::new("bridge.toml"), text)),
            env_names: env,
        };
        sources
            .annotate(ConfigError::invalid(key, "no"))
            .to_string()
    }

    #[test]
    fn a_key_from_the_file_names_its_line_and_one_from_the_environment_its_variable() {
        let text =
            "# comment\n[nats]\nstream = \"S\"\nurl = \"x\"\n\n[webhook]\ntolerance = \"1s\"\n";
        assert_eq!(
            annotated(text, &[], "nats.url"),
            "nats.url: no (at bridge.toml:4)"
        );
        assert_eq!(
            annotated(text, &[], "webhook.tolerance"),
            "webhook.tolerance: no (at bridge.toml:7)"
        );
        let env = ["ESIM_BRIDGE_NATS__URL"];
        assert_eq!(
            annotated(text, &env, "nats.url"),
            "nats.url: no (set by ESIM_BRIDGE_NATS__URL)"
        );
        assert_eq!(annotated(text, &[], "log.level"), "log.level: no");
        let dotted = "upstream.cadence.discovery = \"0s\"\n";
        assert_eq!(
            annotated(dotted, &[], "upstream.cadence.discovery"),
            "upstream.cadence.discovery: no (at bridge.toml:1)"
        );
        let inline = "a = 1\nupstream = { cadence = { discovery = \"0s\" } }\n";
        assert_eq!(
            annotated(inline, &[], "upstream.cadence.discovery"),
            "upstream.cadence.discovery: no (at bridge.toml:2)"
        );
    }
}
