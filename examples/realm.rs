//! The embedded realm alone: `cargo run --example realm`.
//!
//! For running several reference servers against one fake AuthRocket (`scripts/fleet.sh`).
//! Prints the settings to give them (the fake realm's own URL, made-up API key and realm
//! key: nothing real), a demo token and a logout link, then serves until Ctrl-C.
//!
//! * `DELIVER_EVENTS_TO`: comma-separated URLs the realm posts its events to (a server's
//!   `/authrocket/events`).

use std::io::Write;

use authrocket_testkit::FakeRealm;

#[tokio::main]
async fn main() {
    let realm = FakeRealm::start().await;
    for url in std::env::var("DELIVER_EVENTS_TO")
        .unwrap_or_default()
        .split(',')
        .filter(|u| !u.trim().is_empty())
    {
        realm.deliver_events_to(url.trim());
    }
    let login = realm.login("demo@example.com");
    let mut out = std::io::stdout().lock();
    let mut lines = vec![format!("realm at {}", realm.url())];
    lines.extend(realm.env().into_iter().map(|(k, v)| format!("{k}={v}")));
    lines.push(format!("demo token: {}", login.token));
    lines.push(format!(
        "demo logout: {}logout?session={}",
        realm.loginrocket_url(),
        login.session_id
    ));
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
}
