//! [`capture_logs`]: everything a test binary logs, kept to be searched — for the lines that
//! must be there, and for the secrets that must not.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The log output of this process since [`capture_logs`] was first called.
#[derive(Debug, Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Whether `needle` appears anywhere in it.
    pub fn contains(&self, needle: &str) -> bool {
        self.text().contains(needle)
    }
}

/// Install, once per process, a global `tracing` subscriber at TRACE level (records of the
/// `log` crate included: reqwest's, hyper's) that keeps every line, and return it. Every
/// thread and task of the test binary logs into it — a scoped subscriber would miss those —
/// so tests sharing a binary should each look for what only they cause. Panics if another
/// global subscriber was installed first.
///
/// ```
/// let logs = authrocket_testkit::capture_logs();
/// tracing::info!(user = "usr_frank", "hello");
/// assert!(logs.contains("usr_frank"));
/// ```
pub fn capture_logs() -> CapturedLogs {
    static CAPTURED: OnceLock<CapturedLogs> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = CapturedLogs::default();
            let writer = captured.clone();
            tracing_subscriber::fmt()
                .with_env_filter("trace")
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .init();
            captured
        })
        .clone()
}
