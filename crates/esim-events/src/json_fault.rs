//! A value-free description of a JSON error.
//!
//! serde_json's messages quote the offending value (`invalid type: string "LPA:1$…", expected
//! u64`), and a webhook body or a provider answer may carry an activation code exactly there.
//! So this crate's errors keep only the category and position of a JSON error: enough to find
//! the problem in the body the sender holds, and safe to log, count or answer with.

use std::fmt;

/// What kind of JSON error, and where (1-based line and column; 0 when not known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonFault {
    /// `syntax`, `data` (wrong type, missing field, unknown variant), `eof` or `io`.
    pub category: &'static str,
    pub line: usize,
    pub column: usize,
}

impl JsonFault {
    /// Keeps the category and position of `e`, never its message.
    pub fn of(e: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let category = match e.classify() {
            Category::Io => "io",
            Category::Syntax => "syntax",
            Category::Data => "data",
            Category::Eof => "eof",
        };
        Self {
            category,
            line: e.line(),
            column: e.column(),
        }
    }
}

impl fmt::Display for JsonFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} error at line {} column {}",
            self.category, self.line, self.column
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_category_and_position_but_never_the_value() {
        let code = "LPA:1$smdp.example.com$SECRET-MATCHING-ID";
        let e = serde_json::from_str::<u64>(&format!("\"{code}\"")).expect_err("not a number");
        assert!(e.to_string().contains(code), "serde quotes the value: {e}");
        let fault = JsonFault::of(&e);
        assert_eq!((fault.category, fault.line), ("data", 1));
        assert!(!fault.to_string().contains("LPA"), "{fault}");
        assert!(!format!("{fault:?}").contains("LPA"), "{fault:?}");
    }
}
