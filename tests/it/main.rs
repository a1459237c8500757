//! Integration tests: one binary, scenario files per area, a real nats-server per test.
mod binary;
mod bridge;
mod fixture;
mod fixture_selftest;
mod replay;
mod replay_republish;
mod replay_support;
mod webhook;
