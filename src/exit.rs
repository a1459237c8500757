//! The exit codes of every command, in one place (README "Exit codes"). Commands decide which
//! outcome they had; the number for it is decided here and nowhere else.

use std::process::ExitCode;

/// How a command ended, as its process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done (`audit`: nothing missing).
    Ok,
    /// 1: a runtime failure (NATS or the provider unreachable, a start that failed), or what
    /// the command reports on does not exist (`status` without the stream; `healthcheck` not
    /// ready).
    Failure,
    /// 2: `audit` found events missing from the stream (also when interrupted after finding
    /// some).
    Findings,
    /// 64 (sysexits.h `EX_USAGE`): bad arguments or a configuration the bridge refuses.
    Usage,
    /// 130: stopped by Ctrl-C (SIGINT) before the end; output so far is complete.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Failure => 1,
            Self::Findings => 2,
            Self::Usage => 64,
            Self::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        let all = [
            (Exit::Ok, 0),
            (Exit::Failure, 1),
            (Exit::Findings, 2),
            (Exit::Usage, 64),
            (Exit::Interrupted, 130),
        ];
        for (exit, code) in all {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
    }
}
