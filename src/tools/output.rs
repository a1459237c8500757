//! NDJSON output: one stored event payload per line, to a file or stdout, buffered.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

use super::guard;

/// Large enough that a write syscall carries hundreds of events.
const BUFFER_BYTES: usize = 256 * 1024;

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
}

/// Where NDJSON goes.
pub type Sink = Box<dyn AsyncWrite + Send + Unpin>;

/// Opens `path` for writing (created or truncated), or stdout for `-`.
pub async fn open(path: &Path) -> Result<Sink, OutputError> {
    if path == Path::new("-") {
        return Ok(Box::new(tokio::io::stdout()));
    }
    let file = tokio::fs::File::create(path)
        .await
        .map_err(|source| OutputError::Create {
            path: path.to_owned(),
            source,
        })?;
    Ok(Box::new(file))
}

/// Writes events as NDJSON.
pub struct NdjsonWriter {
    out: BufWriter<Sink>,
    /// Flush after every line (live output), not only when the buffer fills.
    flush_each: bool,
    redacted: u64,
}

impl NdjsonWriter {
    pub fn new(sink: Sink, flush_each: bool) -> Self {
        Self {
            out: BufWriter::with_capacity(BUFFER_BYTES, sink),
            flush_each,
            redacted: 0,
        }
    }

    /// Writes one payload as a line (see [`guard::line`]).
    pub async fn write(&mut self, payload: &[u8]) -> Result<(), OutputError> {
        let line = guard::line(payload);
        if line.redacted() {
            self.redacted += 1;
            tracing::warn!("a stored payload carried activation-code material; written redacted");
        }
        self.out.write_all(line.bytes()).await?;
        self.out.write_all(b"\n").await?;
        if self.flush_each {
            self.out.flush().await?;
        }
        Ok(())
    }

    /// Writes one line of text the caller made safe to print (see `event_line`).
    pub async fn write_text(&mut self, line: &str) -> Result<(), OutputError> {
        self.out.write_all(line.as_bytes()).await?;
        self.out.write_all(b"\n").await?;
        if self.flush_each {
            self.out.flush().await?;
        }
        Ok(())
    }

    /// Flushes what is buffered; returns how many lines had to be redacted.
    pub async fn finish(&mut self) -> Result<u64, OutputError> {
        self.out.flush().await?;
        Ok(self.redacted)
    }
}

/// True if the reader of our output went away (`| head`): stop quietly, not an error.
pub fn is_closed(e: &OutputError) -> bool {
    matches!(e, OutputError::Write(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}
