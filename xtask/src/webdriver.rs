//! A small W3C WebDriver client: chromedriver on a free local port driving
//! headless Chromium (`cargo xtask test`'s page test, `cargo xtask bench`'s
//! wasm timing). What is particular to the demo page (its readouts, its ready
//! flag) is in [`crate::web`].

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::setup::{self, describe};
use crate::Res;

/// The chromedriver binary (the wasm-bindgen test runner drives it too).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Headless Chromium as root, quiet: no sandbox, no GPU, no background traffic.
const CHROME_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1700",
];

/// A chromedriver process on a free local port, ended when dropped.
pub struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    pub fn start() -> Res<ChromeDriver> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let log = crate::web::target_dir().join("e2e/chromedriver.log");
        setup::write(&log, "")?;
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}")).arg(format!("--log-path={}", log.display()));
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        eprintln!("$ {}", describe(&cmd));
        let child = cmd.spawn().map_err(|e| format!("{CHROMEDRIVER}: {e}"))?;
        let driver = ChromeDriver { child, url: format!("http://127.0.0.1:{port}") };
        let status = format!("{}/status", driver.url);
        let ready =
            || Ok(call("GET", &status, None).is_ok_and(|v| v["ready"] == true).then_some(()));
        crate::web::poll(Duration::from_secs(20), 100, ready)?
            .ok_or("chromedriver did not become ready in 20 s")?;
        Ok(driver)
    }

    pub fn new_session(&self) -> Res<Session> {
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": CHROME_ARGS },
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let v = call("POST", &format!("{}/session", self.url), Some(caps))?;
        let id = v["sessionId"].as_str().ok_or_else(|| format!("no session id in {v}"))?;
        Ok(Session { url: format!("{}/session/{id}", self.url) })
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Session {
    url: String,
}

impl Session {
    pub fn post(&self, path: &str, body: Value) -> Res<Value> {
        call("POST", &format!("{}/{path}", self.url), Some(body))
    }

    pub fn get(&self, path: &str) -> Res<Value> {
        call("GET", &format!("{}/{path}", self.url), None)
    }

    pub fn element_by(&self, css: &str) -> Res<String> {
        let v = self.post("element", json!({ "using": "css selector", "value": css }))?;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("no element {css}"))
    }

    pub fn text_of(&self, css: &str) -> Res<String> {
        let e = self.element_by(css)?;
        Ok(self.get(&format!("element/{e}/text"))?.as_str().unwrap_or_default().to_string())
    }

    pub fn click(&self, css: &str) -> Res {
        let e = self.element_by(css)?;
        self.post(&format!("element/{e}/click"), json!({})).map(drop)
    }

    /// Types `text` into the element matching `css` (a file input takes a path).
    pub fn send_keys(&self, css: &str, text: &str) -> Res {
        let e = self.element_by(css)?;
        self.post(&format!("element/{e}/value"), json!({ "text": text })).map(drop)
    }

    /// Sets the window's size in CSS pixels (headless: the viewport's).
    pub fn set_window(&self, width: u32, height: u32) -> Res {
        self.post("window/rect", json!({ "width": width, "height": height })).map(drop)
    }

    /// Whether the element matching `css` is displayed.
    pub fn displayed(&self, css: &str) -> Res<bool> {
        let e = self.element_by(css)?;
        Ok(self.get(&format!("element/{e}/displayed"))? == json!(true))
    }

    pub fn key(&self, key: &str) -> Res {
        let press = json!([{ "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }]);
        let actions = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": press }] });
        self.post("actions", actions).map(drop)
    }

    /// Runs `body` as a synchronous script and returns its value.
    pub fn script(&self, body: &str) -> Res<Value> {
        self.post("execute/sync", json!({ "script": body, "args": [] }))
    }

    /// Runs `body` as an asynchronous script (its last argument is the callback).
    pub fn script_async(&self, body: &str) -> Res<Value> {
        self.post("execute/async", json!({ "script": body, "args": [] }))
    }

    pub fn screenshot(&self, path: &Path) -> Res {
        let png = self.get("screenshot")?;
        setup::write(path, setup::base64(png.as_str().unwrap_or_default())?)
    }

    pub fn log(&self) -> Res<Vec<Value>> {
        let log = self.post("se/log", json!({ "type": "browser" }))?;
        Ok(log.as_array().cloned().unwrap_or_default())
    }

    pub fn close(&self) {
        let _ = call("DELETE", &self.url, None);
    }
}

/// One WebDriver command: the response's `value`, or its error.
fn call(method: &str, url: &str, body: Option<Value>) -> Res<Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let response = match (method, body) {
        ("POST", Some(b)) => agent.post(url).send_json(b),
        ("DELETE", _) => agent.delete(url).call(),
        _ => agent.get(url).call(),
    };
    let mut response = response.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status();
    let v: Value = response.body_mut().read_json().map_err(|e| format!("{method} {url}: {e}"))?;
    if status.is_success() {
        Ok(v["value"].clone())
    } else {
        Err(format!("{method} {url}: {status}: {}", v["value"]["message"]))
    }
}
