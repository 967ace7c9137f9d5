//! Installing what the commands need: rustup targets, Debian packages, CLIs.
//!
//! Every `ensure_*` installs only what is missing, so `cargo xtask test` is
//! cheap on a warm machine and self-sufficient on a fresh Debian 12 with only
//! Rust. [`run`] and [`output`] start every process, so each command is
//! echoed and each failure names its command.

use crate::Res;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

/// The repository root (the parent of the `xtask` crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ is in the root").to_path_buf()
}

/// The arguments of `cargo` that run this xtask from the release build.
pub const RELEASE_XTASK: [&str; 6] = ["run", "--release", "--quiet", "--package", "xtask", "--"];

/// Re-runs this `cargo xtask` command line from the release build, unless
/// this is one already (or `dev`, the command's `--dev`): the model runs some
/// 30 times faster there. `why` says so to the user. `None`: go on here.
pub fn reexec_release(dev: bool, why: &str) -> Option<Res> {
    if !cfg!(debug_assertions) || dev || std::env::var_os("TCBG_XTASK_RELEASE").is_some() {
        return None;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    eprintln!("(running `{}` from the release build, {why}; `--dev` to skip)", args[0]);
    let mut c = cargo_in(&workspace_root(), "");
    c.args(RELEASE_XTASK).args(&args).env("TCBG_XTASK_RELEASE", "1");
    Some(run(&mut c).map_err(|e| format!("the release build of `xtask {}`: {e}", args[0])))
}

/// Runs a `cargo build` with its artifacts as JSON on stdout (diagnostics
/// stay readable on stderr) and returns the last executable it made.
pub fn build_executable(cmd: &mut Command) -> Res<PathBuf> {
    cmd.arg("--message-format=json-render-diagnostics").stderr(Stdio::inherit());
    let dir = cmd.get_current_dir().map_or(String::new(), |d| format!(" (in {})", d.display()));
    eprintln!("$ {}{dir}", describe(cmd));
    executable(&output(cmd)?).ok_or_else(|| format!("`{}` produced no executable", describe(cmd)))
}

/// The last `executable` path in cargo's `--message-format=json` messages.
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
        .next_back()
}

pub fn read(path: &Path) -> Res<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The rest of the first line of `out` that starts with `name ` (trimmed).
pub fn field<'a>(out: &'a str, name: &str) -> Option<&'a str> {
    out.lines().find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(' ')).map(str::trim)
}

/// Decodes standard base64.
pub fn base64(text: &str) -> Res<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("not base64: {e}"))
}

/// Writes `text` to `path`, creating its directory.
pub fn write(path: &Path, text: impl AsRef<[u8]>) -> Res {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Prints a visible phase banner `==> name` to stderr.
pub fn step(name: &str) {
    eprintln!("\n==> {name}");
}

/// Runs `cmd`, echoing it as `$ …` first and its output as it comes; fails
/// with the command line, the exit status and the last lines of its stdout.
pub fn run(cmd: &mut Command) -> Res {
    run_tee(cmd).map(drop)
}

/// Lines of a failed command's stdout carried in its error: the summary
/// under `cargo xtask test` repeats errors, and CI keeps only a log's tail.
const FAILED_TAIL: usize = 30;

/// [`run`], returning the stdout it passed through.
pub fn run_tee(cmd: &mut Command) -> Res<String> {
    use std::io::{BufRead, BufReader};
    let line = describe(cmd);
    eprintln!("$ {line}");
    let mut child =
        cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("`{line}`: cannot start: {e}"))?;
    let mut out = String::new();
    if let Some(stdout) = child.stdout.take() {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{l}");
            out.push_str(&l);
            out.push('\n');
        }
    }
    let status = child.wait().map_err(|e| format!("`{line}`: {e}"))?;
    match (status.success(), out.trim().is_empty()) {
        (true, _) => Ok(out),
        (false, true) => Err(format!("`{line}` failed ({status})")),
        (false, false) => Err(format!(
            "`{line}` failed ({status}); the last lines of its output:\n{}",
            last_lines(&out, FAILED_TAIL)
        )),
    }
}

/// The last `n` lines of `text`, after a line saying how many were left out
/// (if any).
pub fn last_lines(text: &str, n: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let cut = all.len().saturating_sub(n);
    let mut out = if cut > 0 { format!("({cut} earlier lines left out)\n") } else { String::new() };
    out.push_str(&all[cut..].join("\n"));
    out
}

/// Runs `cmd` and returns its stdout; on failure the error carries the
/// command line, the exit status and the captured stderr.
pub fn output(cmd: &mut Command) -> Res<String> {
    let line = describe(cmd);
    let out =
        cmd.stdin(Stdio::null()).output().map_err(|e| format!("`{line}`: cannot start: {e}"))?;
    let (status, stderr) = (out.status, String::from_utf8_lossy(&out.stderr));
    match status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        false => Err(format!("`{line}` failed ({status}):\n{}", stderr.trim_end())),
    }
}

/// Adds the rustup targets that are not installed yet.
pub fn ensure_targets(targets: &[&str]) -> Res {
    let missing = missing_targets(targets)?;
    if missing.is_empty() {
        return Ok(());
    }
    // Another job adding the same target at the same time makes rustup
    // report a file conflict; what counts is that the target is there now.
    match run(cmd("rustup", "target add").args(&missing)) {
        Err(e) if !missing_targets(&missing)?.is_empty() => Err(e),
        _ => Ok(()),
    }
}

fn missing_targets<'a>(targets: &[&'a str]) -> Res<Vec<&'a str>> {
    let installed = output(&mut cmd("rustup", "target list --installed"))?;
    Ok(targets.iter().copied().filter(|t| !installed.lines().any(|l| l.trim() == *t)).collect())
}

/// Adds the rustup components (`clippy`, `rustfmt`) that are not installed
/// yet; like targets, a component another job added meanwhile counts.
pub fn ensure_components(components: &[&str]) -> Res {
    let installed = || output(&mut cmd("rustup", "component list --installed"));
    let missing = |list: String| -> Vec<String> {
        components
            .iter()
            .filter(|c| !list.lines().any(|l| l.trim().starts_with(&format!("{c}-"))))
            .map(|c| c.to_string())
            .collect()
    };
    let todo = missing(installed()?);
    if todo.is_empty() {
        return Ok(());
    }
    match run(cmd("rustup", "component add").args(&todo)) {
        Err(e) if !missing(installed()?).is_empty() => Err(e),
        _ => Ok(()),
    }
}

/// Makes sure `node` runs: the wasm tests, the snapshot export for the
/// boards and the wasm benchmark use it. A `node` already on the PATH (from
/// any source) is kept; otherwise Debian's `nodejs` is installed.
pub fn ensure_node() -> Res {
    output(&mut cmd("node", "--version")).map(drop).or_else(|_| ensure_apt(&["nodejs"], false))
}

/// Installs the Debian packages that are not installed yet; with
/// `backports`, from bookworm-backports, configuring that suite first if needed.
///
/// Why: Debian 12's own `qemu-system-arm` conflicts with the newer
/// `qemu-utils` some images carry; the backports build installs cleanly.
/// On a release other than bookworm the main suite is used.
pub fn ensure_apt(packages: &[&str], backports: bool) -> Res {
    // Unknown packages make dpkg-query fail: that is "missing" too.
    let status = |p: &str| output(cmd("dpkg-query", "-W -f=${Status}").arg(p));
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| status(p).map_or(true, |s| s.trim() != "install ok installed"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let bookworm =
        backports && release.lines().any(|l| l.replace('"', "") == "VERSION_CODENAME=bookworm");
    if bookworm {
        ensure_backports_source()?;
    }
    apt_update()?;
    let mut c = privileged("apt-get");
    c.env("DEBIAN_FRONTEND", "noninteractive").args(["-o", APT_LOCK_WAIT]);
    c.args(["install", "-y", "--no-install-recommends"]);
    if bookworm {
        c.args(["-t", "bookworm-backports"]);
    }
    run(c.args(&missing).stdin(Stdio::null()))
}

/// Installs a CLI with `cargo install` unless `bin --version` already
/// reports `version`.
pub fn ensure_cargo_install(bin: &str, krate: &str, version: &str) -> Res {
    let v = output(&mut cmd(bin, "--version")).unwrap_or_default();
    if v.split_whitespace().any(|w| w.trim_start_matches('v') == version) {
        return Ok(());
    }
    // No `--locked`: some published lock files no longer resolve here.
    run(cmd(&cargo(), "install").args([krate, "--version", version]))
}

/// The cargo that runs the xtask (so a pinned toolchain stays pinned).
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// `program` with the whitespace-separated `args`.
pub fn cmd(program: &str, args: &str) -> Command {
    let mut c = Command::new(program);
    c.args(args.split_whitespace());
    c
}

/// [`cargo`] with `args`, run in `dir`.
pub fn cargo_in(dir: &Path, args: &str) -> Command {
    let mut c = cmd(&cargo(), args);
    c.current_dir(dir);
    c
}

/// The command line as a shell user would type it, explicit env vars first.
pub fn describe(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs().filter_map(|(k, v)| Some((k, v?))) {
        let _ = write!(s, "{}={} ", k.to_string_lossy(), quote(&v.to_string_lossy()));
    }
    s.push_str(&quote(&cmd.get_program().to_string_lossy()));
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&quote(&a.to_string_lossy()));
    }
    s
}

fn quote(s: &str) -> String {
    let plain =
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `program` as root: directly when we are root, else through `sudo`.
fn privileged(program: &str) -> Command {
    match output(&mut cmd("id", "-u")).is_ok_and(|u| u.trim() == "0") {
        true => Command::new(program),
        false => cmd("sudo", program),
    }
}

/// Set once `apt-get update` has run; cleared when a source is added.
static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// Other jobs on the machine may hold the dpkg lock: wait instead of failing.
const APT_LOCK_WAIT: &str = "DPkg::Lock::Timeout=600";

fn apt_update() -> Res {
    if APT_UPDATED.load(Ordering::Relaxed) {
        return Ok(());
    }
    run(privileged("apt-get").args(["-o", APT_LOCK_WAIT, "update"]).stdin(Stdio::null()))?;
    APT_UPDATED.store(true, Ordering::Relaxed);
    Ok(())
}

const BACKPORTS_FILE: &str = "/etc/apt/sources.list.d/tcbg-backports.sources";
const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// The archive URI of the first `bookworm/…` line of `apt-cache policy`:
/// the machine's own Debian mirror.
fn bookworm_mirror(policy: &str) -> Option<&str> {
    policy.lines().find_map(|l| {
        let mut w = l.split_whitespace().skip(1);
        let uri = w.next()?;
        w.next()?.starts_with("bookworm/").then_some(uri)
    })
}

/// Writes a bookworm-backports entry for the machine's own Debian mirror
/// (never a hard-coded host) unless some apt source already names that suite.
fn ensure_backports_source() -> Res {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        files.extend(dir.flatten().map(|e| e.path()));
    }
    let named = files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).any(|t| {
        t.lines().any(|l| !l.trim_start().starts_with('#') && l.contains("bookworm-backports"))
    });
    if named {
        return Ok(());
    }
    // A fresh image has no package lists, and then no policy to read.
    apt_update()?;
    let policy = output(&mut cmd("apt-cache", "policy"))?;
    let uri = bookworm_mirror(&policy)
        .ok_or("no apt source for Debian bookworm found to derive bookworm-backports from")?;
    let mut entry = format!(
        "# Written by `cargo xtask` (xtask/src/setup.rs): bookworm-backports from the\n\
         # machine's own Debian mirror, for packages Debian 12 ships too old or broken.\n\
         Types: deb\nURIs: {uri}\nSuites: bookworm-backports\nComponents: main\n"
    );
    if Path::new(DEBIAN_KEYRING).exists() {
        let _ = writeln!(entry, "Signed-By: {DEBIAN_KEYRING}");
    }
    // Written to a temporary file and installed, so sudo works when not root.
    let tmp = std::env::temp_dir().join(format!("tcbg-backports-{}.sources", std::process::id()));
    write(&tmp, entry)?;
    let installed = run(privileged("install").args(["-m", "644"]).arg(&tmp).arg(BACKPORTS_FILE));
    let _ = std::fs::remove_file(&tmp);
    installed?;
    APT_UPDATED.store(false, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_is_read_from_apt_cache_policy() {
        let policy = "Package files:\n 100 /var/lib/dpkg/status\n     release a=now\n \
            500 http://a/debian-security bookworm-security/main amd64 Packages\n \
            500 http://b/debian bookworm/main amd64 Packages\n     origin b\n";
        assert_eq!(bookworm_mirror(policy), Some("http://b/debian"));
        assert_eq!(bookworm_mirror("Package files:\n 100 /var/lib/dpkg/status\n"), None);
    }

    #[test]
    fn helpers() {
        let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        assert_eq!(last_lines(&text, 3), "(47 earlier lines left out)\nline 48\nline 49\nline 50");
        assert_eq!(last_lines("only", 3), "only");
        let mut c = Command::new("dpkg-query");
        c.env("A", "b c").args(["-W", "-f=${Status}"]);
        assert_eq!(describe(&c), "A='b c' dpkg-query -W '-f=${Status}'");
        let messages = "{\"reason\":\"compiler-artifact\",\"executable\":\"/t/a\\\\b\"}\n{\"executable\":null}\n";
        assert_eq!(executable(messages), Some(PathBuf::from("/t/a\\b")));
        assert_eq!(field("x\n  trace 0123abcd \nsnapshot AAAA\n", "trace"), Some("0123abcd"));
    }
}
