//! The measurement behind `deploy/nats/README.md`'s durability section: JetStream publish
//! throughput and ack latency with the default `sync_interval` (fsync every 2 minutes) versus
//! `sync_interval: always` (fsync before every ack), on one nats-server with a file-stored R1
//! stream, on whatever machine runs it.
//!
//! Ignored by default (it measures, it does not test the bridge):
//! `cargo test --test it -- --ignored --nocapture sync_interval`

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use local_nats::{free_ports, NatsProcess, Output};
use std::future::IntoFuture;

use futures::stream::{FuturesUnordered, StreamExt};

/// Awaited one at a time: the latency a webhook answer waits for.
const SEQUENTIAL: usize = 2_000;
/// With this many acks in flight: the throughput many concurrent webhooks can reach.
const PIPELINED: usize = 20_000;
const WINDOW: usize = 256;
/// An ack not yet received.
type Pending = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<
                    async_nats::jetstream::publish::PublishAck,
                    async_nats::jetstream::context::PublishError,
                >,
            > + Send,
    >,
>;
/// Roughly one normalised event.
const PAYLOAD: usize = 700;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it with --ignored --nocapture"]
async fn sync_interval_default_vs_always() {
    for sync in [None, Some("always")] {
        let label = sync.unwrap_or("default (2m)");
        let server = Server::start(sync);
        let js = jetstream::new(async_nats::connect(server.url()).await.expect("connect"));
        let config = stream::Config {
            name: "BENCH".into(),
            subjects: vec!["bench.>".into()],
            storage: stream::StorageType::File,
            ..Default::default()
        };
        js.create_stream(config).await.expect("create stream");
        let payload = bytes::Bytes::from(vec![b'x'; PAYLOAD]);

        let mut latencies = Vec::with_capacity(SEQUENTIAL);
        let started = Instant::now();
        for i in 0..SEQUENTIAL {
            let t = Instant::now();
            let ack = js.publish(format!("bench.s.{i}"), payload.clone()).await;
            ack.expect("publish").await.expect("ack");
            latencies.push(t.elapsed());
        }
        let sequential_rate = SEQUENTIAL as f64 / started.elapsed().as_secs_f64();
        latencies.sort();
        let pct =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];

        let started = Instant::now();
        let mut in_flight: FuturesUnordered<Pending> = FuturesUnordered::new();
        for i in 0..PIPELINED {
            if in_flight.len() >= WINDOW {
                in_flight.next().await.expect("pending").expect("ack");
            }
            let ack = js.publish(format!("bench.p.{i}"), payload.clone()).await;
            in_flight.push(Box::pin(ack.expect("publish").into_future()));
        }
        while let Some(ack) = in_flight.next().await {
            ack.expect("ack");
        }
        let pipelined_rate = PIPELINED as f64 / started.elapsed().as_secs_f64();

        let mut bench = js.get_stream("BENCH").await.expect("stream");
        let stored = bench.info().await.expect("info").state.messages as usize;
        assert_eq!(
            stored,
            SEQUENTIAL + PIPELINED,
            "every acked message is stored"
        );
        eprintln!(
            "sync_interval {label:>12}: sequential {sequential_rate:>7.0} msg/s (p50 {:?}, p99 {:?}); \
             {WINDOW} in flight {pipelined_rate:>7.0} msg/s",
            pct(0.50),
            pct(0.99),
        );
    }
}

/// A nats-server with a config file (the fixture has no `sync_interval` knob), killed on drop.
struct Server {
    _process: NatsProcess,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(sync: Option<&str>) -> Server {
        let dir = tempfile::TempDir::with_prefix("nats-bench-").expect("temp dir");
        let port = free_ports(1).expect("free port")[0];
        let store = dir.path().join("store");
        let sync = sync.map_or(String::new(), |s| format!("sync_interval: {s}"));
        let conf = format!(
            "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: {:?}\n  {sync}\n}}\n",
            store.display().to_string()
        );
        let path = dir.path().join("bench.conf");
        std::fs::write(&path, conf).expect("write config");
        let bin = &crate::support::fixture::binary().path;
        let args = [OsString::from("-c"), path.into()];
        let process = NatsProcess::spawn(bin, &args, &[], &Output::Null, false);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            _process: process.expect("spawn nats-server"),
            port,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}
