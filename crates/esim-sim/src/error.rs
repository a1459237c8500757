//! Errors from building or starting the simulator.

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A config value is out of range or inconsistent.
    #[error("invalid simulator config: {0}")]
    Config(String),
    /// The listener could not report its address.
    #[error("simulator listener: {0}")]
    Io(#[from] std::io::Error),
    /// The webhook HTTP client could not be built.
    #[error("webhook client: {0}")]
    HttpClient(#[from] reqwest::Error),
}
