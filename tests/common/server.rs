//! The reference server as a process: built once, started with `PORT=0`, its printed
//! address, demo token and login read from stdout.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `target/debug/examples/server`, built once by this test with the same `cargo` that runs
/// it. (`cargo test --all-targets` builds examples only as test harnesses, which do not run
/// `main`, so the test cannot rely on the plain binary being there.)
pub fn server_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--quiet", "--example", "server", "--manifest-path"])
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
                .status()
                .expect("run cargo");
            assert!(status.success(), "cargo build --example server failed");
            // This test runs from target/debug/deps: the example is in target/debug/examples.
            let debug = std::env::current_exe()
                .unwrap()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .to_path_buf();
            let bin = debug
                .join("examples")
                .join(format!("server{}", std::env::consts::EXE_SUFFIX));
            assert!(bin.exists(), "{} was not built", bin.display());
            bin
        })
        .clone()
}

/// A reference server process, stopped when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:{port}`
    pub base: String,
    /// The demo token (empty unless the server runs its embedded realm).
    pub token: String,
    /// The demo logout link (idem).
    pub logout: String,
    /// The LoginRocket URL and demo login it printed (idem).
    pub loginrocket: String,
    /// The demo login's email and password (idem).
    pub demo_login: (String, String),
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server with no settings: its embedded realm.
pub fn start() -> Server {
    start_with(&[])
}

/// The server with `settings` (none: the embedded realm, whose token and logout link it
/// prints).
pub fn start_with(settings: &[(&str, String)]) -> Server {
    let mut cmd = Command::new(server_binary());
    for var in authrocket::verify::ENV_VARS {
        cmd.env_remove(var);
    }
    let demo = settings.is_empty();
    let mut child = cmd
        .envs(settings.iter().map(|(k, v)| (k, v)))
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut token, mut logout) = (None, None, None);
    let (mut loginrocket, mut demo_login) = (String::new(), (String::new(), String::new()));
    if !demo {
        (token, logout) = (Some(String::new()), Some(String::new()));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while base.is_none() || token.is_none() || logout.is_none() {
        assert!(
            Instant::now() < deadline,
            "the server did not print its address and token"
        );
        let line = lines.next().expect("server output").unwrap();
        if let Some(addr) = line.strip_prefix("listening on ") {
            base = Some(addr.to_owned());
        } else if let Some(t) = line.strip_prefix("demo token: ") {
            token = Some(t.to_owned());
        } else if let Some(l) = line.strip_prefix("demo logout: ") {
            logout = Some(l.to_owned());
        } else if let Some(url) = line.strip_prefix("loginrocket url: ") {
            loginrocket = url.to_owned();
        } else if let Some(login) = line.strip_prefix("demo login: ") {
            let (email, password) = login.split_once(' ').expect("email and password");
            demo_login = (email.to_owned(), password.to_owned());
        }
    }
    // Keep reading whatever else it prints, for as long as it runs.
    std::thread::spawn(move || lines.for_each(drop));
    Server {
        child,
        base: base.unwrap(),
        token: token.unwrap(),
        logout: logout.unwrap(),
        loginrocket,
        demo_login,
    }
}
