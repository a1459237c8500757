//! esim-bridge (crate docs are written as the modules land).
#![forbid(unsafe_code)]

pub mod config;
pub mod event;
