//! The event schemas every stored event is checked against: the producer's strict schema
//! (exactly what this build writes), the published consumer schema (open to additions), and
//! the frozen `schema/compat/v1.json` that consumers downloaded when v1 was published. An event
//! this build produces must pass all three, so an addition that would break a consumer holding
//! the frozen copy fails the suite.

use serde_json::Value;

/// The three schemas, compiled once per test.
pub struct EventSchemas {
    schemas: Vec<(&'static str, jsonschema::Validator)>,
}

/// Compiles the three shipped schemas.
pub fn event_schemas() -> EventSchemas {
    let files = [
        (
            "schema/esim-event.strict.schema.json",
            include_str!("../../../schema/esim-event.strict.schema.json"),
        ),
        (
            "schema/esim-event.schema.json",
            include_str!("../../../schema/esim-event.schema.json"),
        ),
        (
            "schema/compat/v1.json",
            include_str!("../../../schema/compat/v1.json"),
        ),
    ];
    let schemas = files
        .into_iter()
        .map(|(name, text)| {
            let json: Value = serde_json::from_str(text).expect("schema file is JSON");
            let v = jsonschema::validator_for(&json).expect("schema compiles");
            (name, v)
        })
        .collect();
    EventSchemas { schemas }
}

impl EventSchemas {
    /// The errors of `event` against each schema, prefixed by the schema's file; empty if valid.
    pub fn errors(&self, event: &Value) -> Vec<String> {
        self.schemas
            .iter()
            .flat_map(|(name, v)| v.iter_errors(event).map(move |e| format!("{name}: {e}")))
            .collect()
    }

    /// True if `event` passes all three schemas.
    pub fn is_valid(&self, event: &Value) -> bool {
        self.errors(event).is_empty()
    }
}
