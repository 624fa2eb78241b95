//! Faults the realm injects into its API and JWKS answers.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;

/// A fault the fake realm injects into its next answer(s), instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and an AuthRocket error body (`{"errors":[…]}`).
    Status(u16),
    /// Answer 429 with `Retry-After: {seconds}`.
    RateLimited {
        /// The `Retry-After` value in seconds.
        retry_after: u64,
    },
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Answer 200 with a JSON body cut in half.
    TruncatedJson,
    /// Answer 200 with a body larger than any sane session (1 MiB).
    OversizedBody,
    /// Answer 302 to this location.
    Redirect(String),
    /// Send the status line and headers, then drop the connection mid-body.
    DropConnection,
    /// Answer 200 with a *different* session than the one asked for.
    WrongSession,
    /// Answer with exactly this status and JSON body (e.g. a session object that names
    /// another user, or lacks its `id`).
    Respond {
        /// The HTTP status.
        status: u16,
        /// The JSON body.
        body: Value,
    },
}

/// Injected faults, each for one endpoint (`Some`) or for every API and JWKS endpoint.
#[derive(Debug, Default)]
pub(super) struct Faults {
    queue: VecDeque<(Option<String>, Fault)>,
    always: Vec<(Option<String>, Fault)>,
}

impl Faults {
    /// Inject `fault` into the next `times` answers (of `endpoint`, or of all).
    pub(super) fn next(&mut self, endpoint: Option<&str>, times: usize, fault: Fault) {
        let on = endpoint.map(str::to_owned);
        self.queue.extend(std::iter::repeat_n((on, fault), times));
    }

    /// Inject `fault` into every answer (of `endpoint`, or of all) until [`clear`](Self::clear).
    pub(super) fn always(&mut self, endpoint: Option<&str>, fault: Fault) {
        self.always.push((endpoint.map(str::to_owned), fault));
    }

    pub(super) fn clear(&mut self) {
        self.queue.clear();
        self.always.clear();
    }

    /// The fault for the next answer of `endpoint`, if any: queued ones first.
    pub(super) fn take(&mut self, endpoint: &str) -> Option<Fault> {
        let applies = |on: &Option<String>| on.as_deref().is_none_or(|e| e == endpoint);
        if let Some(i) = self.queue.iter().position(|(on, _)| applies(on)) {
            return self.queue.remove(i).map(|(_, f)| f);
        }
        self.always
            .iter()
            .find(|(on, _)| applies(on))
            .map(|(_, f)| f.clone())
    }
}
