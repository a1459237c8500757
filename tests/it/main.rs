mod binary;
mod bridge;
mod fixture;
mod fixture_selftest;
mod webhook;
