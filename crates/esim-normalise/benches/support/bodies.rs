//! The webhook bodies the benches send (also included by the bridge's `benches/webhook.rs`): a
//! webhook as the provider plans to send it, `evt_esim_<iccid>_delivered`, with a unique order,
//! ICCID and client reference, and a `created_at` that differs per event, so no cache in the
//! scan helps more than it would in production.

pub fn body(i: usize) -> String {
    let iccid = format!("89{i:017}");
    let (min, sec) = ((i / 60) % 60, i % 60);
    serde_json::json!({
        "id": format!("evt_esim_{iccid}_delivered"), "type": "esim.delivered",
        "created_at": format!("2026-05-15T14:{min:02}:{sec:02}Z"),
        "data": {"id": 1_000_000 + i, "client_reference": format!("BENCH_{i}"), "status": "DELIVERED",
            "product_name": "Japan eSIM", "country_code": "JPN", "data_amount_gb": 1.0,
            "validity_days": 7, "amount": 4.275, "currency": "USD", "iccid": iccid}
    })
    .to_string()
}
