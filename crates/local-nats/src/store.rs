//! A server's own directory (JetStream store and log), removed on drop unless kept.

use std::path::PathBuf;

use super::NatsServerError;

#[derive(Debug)]
pub(super) struct StoreDir {
    pub(super) path: PathBuf,
    pub(super) keep: bool,
}

impl StoreDir {
    /// A fresh directory `<tmp>/<prefix><pid>-<random>`.
    pub(super) fn create(prefix: &str) -> Result<StoreDir, NatsServerError> {
        let name = format!(
            "{prefix}{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).map_err(|source| NatsServerError::Dir {
            path: path.display().to_string(),
            source,
        })?;
        Ok(StoreDir { path, keep: false })
    }
}

impl Drop for StoreDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
