"""A durable consumer of esim-bridge's `esim.*` events, with nats-py.

The same consumer as the Rust example (examples/consumer.rs):

- Durable pull consumer on the events stream: the server remembers what was acked, so a
  restarted consumer goes on where it stopped.
- Ack after processing: an event is acked only once its effect is stored; a crash before the
  ack makes the server redeliver it (after the consumer's ack_wait).
- Dedupe by event id: redelivery means an event can arrive twice. The id
  (evt_esim_<key>_<event>) is the same for the same transition whichever way it came, so
  "already processed" is a lookup of the id in the consumer's own store, written together with
  the effect. Here the store is a file of ids; in a real service it is a table, updated in the
  same transaction as the effect.

    python3 -m pip install -r examples/python/requirements.txt
    python3 examples/python/consumer.py                               # every event
    ESIM_TYPE=activated python3 examples/python/consumer.py           # one type
    ESIM_ICCID=8910300000123456789 python3 examples/python/consumer.py  # one eSIM

Settings (environment): NATS_URL (nats://127.0.0.1:4222), ESIM_STREAM (ESIM_EVENTS),
ESIM_SUBJECT_PREFIX (esim), ESIM_DURABLE (example-consumer-py), ESIM_TYPE or ESIM_ICCID (a
filter), ESIM_PROCESSED (the processed-ids file; default processed-ids-<durable>.txt, so each
durable, i.e. each consuming service, has its own), ESIM_ACK_WAIT_SECS (30).
For tests: ESIM_EXIT_WHEN_DONE=1 stops once nothing is pending or unacked, and
ESIM_CRASH_AFTER=n exits (status 3) right after processing the n-th event, before acking it,
as a crash between the write and the ack would.

Prints one line per message: `processed <id> <type> <key>[ inferred]` or `duplicate <id>`.

Trace context: each message carries the `traceparent` of the bridge's span that stored it (a
webhook's own trace, continued). Each event is processed in a span continuing that trace, and
with OTEL_EXPORTER_OTLP_ENDPOINT set the spans are exported over OTLP/HTTP (service name
esim-consumer-example-py unless OTEL_SERVICE_NAME says otherwise; the OpenTelemetry packages
are in requirements.txt).
"""

import asyncio
import json
import os
import re
import sys

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

# Subject tokens and event types, as esim-events defines them.
TOKEN = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
ICCID = re.compile(r"^[0-9]{17,21}[0-9F]$")
EVENT_TYPES = ("delivered", "installed", "activated", "depleted", "failed", "cancelled")


def setting(name, default):
    return os.environ.get(name, default)


def subject_filter(prefix):
    """The subject filter: one ICCID, one event type, or everything."""
    if any(not TOKEN.match(t) for t in prefix.split(".")):
        raise SystemExit("ESIM_SUBJECT_PREFIX must be dot-separated [0-9A-Za-z_-] tokens")
    iccid = os.environ.get("ESIM_ICCID")
    if iccid is not None:
        if not ICCID.match(iccid):
            raise SystemExit("ESIM_ICCID is not an ICCID")
        return f"{prefix}.events.{iccid}.*"
    kind = os.environ.get("ESIM_TYPE")
    if kind is not None:
        kind = kind.removeprefix("esim.")
        if kind not in EVENT_TYPES:
            raise SystemExit("ESIM_TYPE is not an esim event type")
        return f"{prefix}.events.*.{kind}"
    return f"{prefix}.events.>"


def parse_subject(subject):
    """`<prefix>.events.<key>.<event>` -> (prefix, key, event), or None."""
    parts = subject.rsplit(".", 3)
    if len(parts) != 4 or parts[1] != "events" or parts[3] not in EVENT_TYPES:
        return None
    if not TOKEN.match(parts[2]):
        return None
    return parts[0], parts[2], parts[3]


class Processed:
    """The ids of processed events: the consumer's own dedupe store."""

    def __init__(self, path):
        self.ids = set()
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.ids = {line.strip() for line in f if line.strip()}
        self.file = open(path, "a", encoding="utf-8")
        self.count_this_run = 0

    def __contains__(self, event_id):
        return event_id in self.ids

    def record(self, event_id):
        """Stores the id durably before the event is acked."""
        self.file.write(event_id + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        self.ids.add(event_id)
        self.count_this_run += 1


def tracer_provider():
    """Spans exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    name = os.environ.get("OTEL_SERVICE_NAME", "esim-consumer-example-py")
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def parent_of(msg):
    """The trace the bridge stored the event in (only `traceparent` is read)."""
    value = (msg.headers or {}).get("traceparent")
    return TraceContextTextMapPropagator().extract({"traceparent": value} if value else {})


def handle(event, key):
    """The consumer's business: here, print what happened to which eSIM. The activation code
    is never in an event; a service that needs it fetches it from the provider's authenticated
    API."""
    inferred = " inferred" if event["data"].get("inferred") is True else ""
    print(f"processed {event['id']} {event['type']} {key}{inferred}", flush=True)


async def main():
    prefix = setting("ESIM_SUBJECT_PREFIX", "esim")
    crash_after = int(os.environ["ESIM_CRASH_AFTER"]) if "ESIM_CRASH_AFTER" in os.environ else None
    exit_when_done = "ESIM_EXIT_WHEN_DONE" in os.environ
    nc = await nats.connect(setting("NATS_URL", "nats://127.0.0.1:4222"))
    js = nc.jetstream()
    durable = setting("ESIM_DURABLE", "example-consumer-py")
    # Created on first start; later starts attach to it and resume after the last ack.
    sub = await js.pull_subscribe(
        subject_filter(prefix),
        durable=durable,
        stream=setting("ESIM_STREAM", "ESIM_EVENTS"),
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=float(setting("ESIM_ACK_WAIT_SECS", "30")),
        ),
    )
    processed = Processed(setting("ESIM_PROCESSED", f"processed-ids-{durable}.txt"))
    spans = tracer_provider()
    tracer = spans.get_tracer("esim-consumer-example-py")
    while True:
        try:
            msgs = await sub.fetch(100, timeout=1)
        except NatsTimeout:
            msgs = []
        for msg in msgs:
            parts = parse_subject(msg.subject)
            try:
                event = json.loads(msg.data)
            except ValueError:
                event = None
            if parts is None or not isinstance(event, dict) or "id" not in event:
                # Not an event this version understands: retrying cannot help.
                print(f"skipping a message on {msg.subject}", file=sys.stderr)
                await msg.term()
                continue
            # This event's work, in the trace the bridge stored it in.
            with tracer.start_as_current_span("process esim event", context=parent_of(msg)):
                if event["id"] in processed:
                    print(f"duplicate {event['id']}", flush=True)
                else:
                    handle(event, parts[1])
                    processed.record(event["id"])
                    if crash_after == processed.count_this_run:
                        os._exit(3)
                # Only now: the effect and the id are stored.
                await msg.ack_sync()
        if not msgs and exit_when_done:
            info = await sub.consumer_info()
            if info.num_pending == 0 and info.num_ack_pending == 0:
                await nc.close()
                spans.shutdown()  # sends the spans still batched
                return


if __name__ == "__main__":
    asyncio.run(main())
