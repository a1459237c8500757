//! Integration tests: one binary, scenario files per area, a real nats-server per test.
mod binary;
mod bridge;
mod fixture;
mod fixture_selftest;
mod replay;
mod replay_cli;
mod replay_republish;
mod replay_support;
mod webhook;
mod poller;
mod poller_faults;
mod poller_lease;
mod poller_support;
