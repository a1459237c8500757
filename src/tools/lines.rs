//! How `tail` and `replay` write each stored event: the payload as stored (through the replay
//! guard), or one readable line (`event_line`) for a person at a terminal.

use async_nats::jetstream;

use super::event_line::{self, Style};
use super::visible;
use esim_events::Event;

/// How each event is written.
#[derive(Debug, Clone, Copy, Default)]
pub enum Lines {
    /// The payload as stored (guarded), one line each.
    #[default]
    Json,
    /// One readable line; a payload that is no event of ours falls back to its JSON line.
    Human(Style),
}

impl Lines {
    /// Readable lines for `human`, coloured only when they go `to_terminal` (and the terminal
    /// allows it: `Style::detect`); the stored JSON otherwise.
    pub fn chosen(human: bool, to_terminal: bool) -> Self {
        match human {
            true => Self::Human(Style {
                color: to_terminal && Style::detect(false).color,
            }),
            false => Self::Json,
        }
    }

    /// The readable line for a stored event; `None` for JSON lines, or if the payload is no
    /// event this version reads (then its guarded JSON line is written).
    pub fn readable(self, message: &jetstream::Message, sequence: u64) -> Option<String> {
        let Self::Human(style) = self else {
            return None;
        };
        let event: Event = serde_json::from_slice(&message.payload).ok()?;
        let stored_at = message.info().map(|i| i.published).ok()?;
        let plain = event_line::event_line(sequence, stored_at, &event, Style { color: false });
        // Text the stream carries (a product name) may hold control characters: then the line
        // is shown escaped and without colour.
        if !visible::is_safe(plain.as_bytes(), false) {
            return Some(visible::text(&plain).into_owned());
        }
        match style.color {
            true => Some(event_line::event_line(sequence, stored_at, &event, style)),
            false => Some(plain),
        }
    }
}
