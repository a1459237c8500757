// scratch: closed-loop publishers awaiting each ack
use async_nats::header::HeaderMap;
use bytes::Bytes;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).unwrap();
    let conc: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let n: usize = std::env::args().nth(3).unwrap().parse().unwrap();
    let conns: usize = std::env::args()
        .nth(4)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1);
    let tag = std::env::args().nth(5).unwrap_or("x".into());
    let mut jss = Vec::new();
    for _ in 0..conns {
        let c = async_nats::connect(&url).await.unwrap();
        jss.push(async_nats::jetstream::new(c));
    }
    let js0 = jss[0].clone();
    let _ = js0
        .create_stream(async_nats::jetstream::stream::Config {
            name: format!("S{tag}"),
            subjects: vec![format!("{tag}.>")],
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .unwrap();
    let payload = Bytes::from(vec![b'x'; 600]);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..conc {
        let js = jss[w % conns].clone();
        let payload = payload.clone();
        let tag = tag.clone();
        set.spawn(async move {
            let mut lat = Vec::new();
            let mut i = w;
            while i < n {
                let iccid = format!("89{i:017}");
                let mut h = HeaderMap::new();
                h.insert("Nats-Msg-Id", format!("evt_{iccid}").as_str());
                h.insert("Nats-Expected-Last-Subject-Sequence", "0");
                let t = Instant::now();
                let ack = js
                    .publish_with_headers(format!("{tag}.{iccid}.d"), h, payload.clone())
                    .await
                    .unwrap();
                ack.await.unwrap();
                lat.push(t.elapsed());
                i += conc;
            }
            lat
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        all.extend(r.unwrap());
    }
    let took = started.elapsed();
    all.sort();
    println!(
        "conc {conc} conns {conns}: {:.0} msg/s p50 {:?} p99 {:?}",
        n as f64 / took.as_secs_f64(),
        all[all.len() / 2],
        all[all.len() * 99 / 100]
    );
}
