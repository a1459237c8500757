//! The process's OpenTelemetry tracer: always there, so every span has W3C trace and span ids
//! ([`crate::trace`]), and exporting spans over OTLP/HTTP (protobuf) only when asked with the
//! standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`),
//! unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The exporter reads the
//! rest of the `OTEL_*` variables itself (headers, timeout, batch delay); the service name is
//! `esim-bridge` unless `OTEL_SERVICE_NAME` says otherwise. Spans are sent in batches from
//! the exporter's own thread, so an unreachable collector never slows a webhook.

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

/// How long the last batch may take to leave at exit.
const FLUSH_AT_EXIT: Duration = Duration::from_secs(5);

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
/// Set when export was asked for and the exporter could not be built.
static REFUSED: OnceLock<()> = OnceLock::new();

/// The tracer the bridge's spans are made with (the provider is built on first use).
pub fn tracer() -> SdkTracer {
    provider().tracer("esim-bridge")
}

/// Sends what is still batched (only if spans are exported); called once at exit.
pub fn flush_at_exit() {
    if let Some(provider) = PROVIDER.get() {
        if let Err(e) = provider.shutdown_with_timeout(FLUSH_AT_EXIT) {
            tracing::warn!(error = %e, "OTLP: the last spans were not sent");
        }
    }
}

/// Logs that export was asked for and is off, once logging is set up. The exporter's error
/// is not shown: it would quote the endpoint, which may carry credentials.
pub fn say_if_refused() {
    if REFUSED.get().is_some() {
        tracing::error!("OTLP: cannot export spans; check OTEL_EXPORTER_OTLP_ENDPOINT");
    }
}

/// True if the environment asks for span export.
pub fn export_wanted() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let is = |name: &str, value: &str| {
        std::env::var(name).is_ok_and(|v| v.trim().eq_ignore_ascii_case(value))
    };
    (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        && !is("OTEL_SDK_DISABLED", "true")
        && !is("OTEL_TRACES_EXPORTER", "none")
}

fn provider() -> &'static SdkTracerProvider {
    PROVIDER.get_or_init(|| {
        let mut resource = Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("esim-bridge");
        }
        let mut builder = SdkTracerProvider::builder().with_resource(resource.build());
        if export_wanted() {
            match opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .build()
            {
                Ok(exporter) => builder = builder.with_batch_exporter(exporter),
                // Spans are an aid, not the product: say so and go on without them. The error
                // would quote the endpoint, which may carry credentials.
                Err(_) => {
                    tracing::error!("OTLP: cannot export spans (check OTEL_EXPORTER_OTLP_ENDPOINT)")
                }
            }
        }
        builder.build()
    })
}
