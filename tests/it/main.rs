//! Integration tests: one binary, scenario files per area (`tests/it/<area>.rs`), a real
//! nats-server per test. What scenarios share lives in [`support`] (the nats-server fixture on
//! the bridge's launcher, the in-process bridge, simulator helpers, …); a negative assertion
//! waits for a positive marker (a sentinel, the poller's reads), never for a fixed time.
mod audit;
mod audit_cli;
mod audit_day;
mod audit_hostile;
mod binary;
mod binary_secrets;
mod chaos;
mod cluster;
mod cluster_accounts;
mod cluster_sync_bench;
mod consumer_contract;
mod consumer_examples;
mod container;
mod container_docker;
mod demo;
mod fixture_selftest;
mod listener_http;
mod monitoring;
mod monitoring_promql;
mod nats_tls;
mod operator_cli;
mod partition;
mod poller;
mod poller_faults;
mod poller_hostile;
mod poller_lease;
mod poller_supervisor;
mod publish_batch;
mod replay;
mod replay_cli;
mod replay_guard;
mod replay_republish;
mod request_logs;
mod slow_clients;
mod stream_checks;
mod support;
mod webhook;
mod webhook_dates;
mod webhook_iccid;
mod webhook_limits;
mod webhook_path;
mod webhook_rejects;
