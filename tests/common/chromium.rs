//! A headless Chromium driven over the DevTools protocol, for browser tests: started as a
//! process with its own profile, stopped by its PID when dropped.
//!
//! Chromium comes from Debian's `chromium` package (`scripts/test` and `.ci/run` install it).
//! A test that needs it and cannot find it fails, saying how to install it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The Chromium binary: `$CHROMIUM`, else the first of the usual names on `PATH`.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return path.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "this test needs a headless Chromium: install Debian's `chromium` package \
         (`apt-get install chromium`; scripts/test does it) or set CHROMIUM to a binary"
    );
}

/// A running headless Chromium with one page, attached over the DevTools protocol.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    /// Start Chromium with `host_rules` (e.g. `MAP app.test 127.0.0.1`) and open a blank page.
    pub async fn start(host_rules: &str) -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "authrocket-chromium-{}-{}",
            std::process::id(),
            authrocket_testkit::random_id("")
        ));
        let mut child = Command::new(binary())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,PrivateNetworkAccessRespectPreflightResults",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--host-resolver-rules={host_rules}"))
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // Chromium prints its DevTools endpoint on stderr; the rest of stderr is drained by
        // a thread so it can never block on a full pipe.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let endpoint = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chromium printed its DevTools endpoint within 30 s");
        let (ws, _) = tokio_tungstenite::connect_async(endpoint.as_str())
            .await
            .expect("connect to DevTools");
        let mut browser = Browser {
            child,
            profile,
            ws,
            session: String::new(),
            next_id: 0,
        };
        let target = browser
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session")
            .to_owned();
        browser
    }

    /// Send one DevTools command (to the page once attached) and wait for its result.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .expect("send to DevTools");
        while let Some(frame) = self.ws.next().await {
            let Ok(Message::Text(text)) = frame else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text).expect("DevTools speaks JSON");
            if reply["id"] == json!(id) {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
        panic!("DevTools closed the connection during {method}");
    }

    /// The value of a JavaScript expression in the page.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Open `url` and wait (at most 20 s) until the page that finally loads, after every
    /// redirect, is `expected_url` and done loading. Returns its text.
    pub async fn open(&mut self, url: &str, expected_url: &str) -> String {
        self.call("Page.navigate", json!({"url": url})).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let state = self
                .eval("[location.href, document.readyState, document.body ? document.body.innerText : '']")
                .await;
            if state[0] == json!(expected_url) && state[1] == json!("complete") {
                return state[2].as_str().unwrap_or_default().to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "opening {url}: still at {state} after 20 s, expected {expected_url}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The value of a JavaScript expression whose value is a promise, once it settles.
    pub async fn eval_async(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Wait (at most 20 s) until the JavaScript `condition` is true; on failure keep a
    /// screenshot (`target/browser-failures/{name}.png`) and say where.
    pub async fn wait_for(&mut self, name: &str, condition: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.eval(&format!("!!({condition})")).await != json!(true) {
            if Instant::now() > deadline {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("target/browser-failures")
                    .join(format!("{name}.png"));
                self.screenshot(&path).await;
                let text = self
                    .eval("document.body ? document.body.innerText : ''")
                    .await;
                panic!(
                    "{name}: `{condition}` still false after 20 s; page text {text}; screenshot {}",
                    path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Save a PNG of the page at `path`.
    pub async fn screenshot(&mut self, path: &std::path::Path) {
        use base64::Engine as _;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .unwrap_or_default();
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(path, png);
    }

    /// The cookies the browser holds for `url` (`HttpOnly` ones included).
    pub async fn cookies(&mut self, url: &str) -> Vec<Value> {
        let result = self
            .call("Network.getCookies", json!({"urls": [url]}))
            .await;
        result["cookies"].as_array().cloned().unwrap_or_default()
    }
}
