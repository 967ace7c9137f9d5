//! Installing what the commands need: rustup targets, Debian packages, CLIs.
//!
//! Every `ensure_*` function is idempotent: it first asks whether the thing is
//! already there and only then installs, so `cargo xtask test` is cheap on a
//! warm machine and self-sufficient on a fresh Debian 12 with only Rust. The
//! helpers [`run`] and [`output`] are the one way the xtask starts processes,
//! so every command it runs is echoed and every failure names its command.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

/// The repository root (the parent of the `xtask` crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The arguments of `cargo` that run this xtask from the release build.
pub(crate) const RELEASE_XTASK: [&str; 6] =
    ["run", "--release", "--quiet", "--package", "xtask", "--"];

/// Re-runs this `cargo xtask` command line from the release build, unless
/// this is one already (or `dev`, the command's `--dev`): the model runs some
/// 30 times faster there. `why` says so to the user. `None`: go on here.
pub(crate) fn reexec_release(dev: bool, why: &str) -> Option<Result<(), String>> {
    if !cfg!(debug_assertions) || dev || std::env::var_os("TCBG_XTASK_RELEASE").is_some() {
        return None;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    eprintln!("(running `{}` from the release build, {why}; `--dev` to skip)", args[0]);
    let mut c = Command::new(cargo());
    c.current_dir(workspace_root()).args(RELEASE_XTASK).args(&args).env("TCBG_XTASK_RELEASE", "1");
    Some(run(&mut c).map_err(|e| format!("the release build of `xtask {}`: {e}", args[0])))
}

/// The last `executable` path in cargo's `--message-format=json` messages.
pub(crate) fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
        .last()
}

/// Writes `text` to `path`, creating its directory.
pub(crate) fn write(path: &Path, text: impl AsRef<[u8]>) -> Result<(), String> {
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
pub fn run(cmd: &mut Command) -> Result<(), String> {
    run_tee(cmd).map(drop)
}

/// Lines of a failed command's stdout carried in its error: the summary
/// under `cargo xtask test` repeats errors, and CI keeps only a log's tail.
const FAILED_TAIL: usize = 30;

/// [`run`], returning the stdout it passed through.
pub fn run_tee(cmd: &mut Command) -> Result<String, String> {
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
    if status.success() {
        return Ok(out);
    }
    if out.trim().is_empty() {
        Err(format!("`{line}` failed ({status})"))
    } else {
        Err(format!(
            "`{line}` failed ({status}); the last lines of its output:\n{}",
            last_lines(&out, FAILED_TAIL)
        ))
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
pub fn output(cmd: &mut Command) -> Result<String, String> {
    let line = describe(cmd);
    let out =
        cmd.stdin(Stdio::null()).output().map_err(|e| format!("`{line}`: cannot start: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{line}` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// Adds the rustup targets that are not installed yet.
pub fn ensure_targets(targets: &[&str]) -> Result<(), String> {
    let missing = missing_targets(targets)?;
    if missing.is_empty() {
        return Ok(());
    }
    let added = run(Command::new("rustup").args(["target", "add"]).args(&missing));
    // Another job adding the same target at the same time makes rustup
    // report a file conflict; what counts is that the target is there now.
    match added {
        Err(e) if !missing_targets(&missing)?.is_empty() => Err(e),
        _ => Ok(()),
    }
}

fn missing_targets<'a>(targets: &[&'a str]) -> Result<Vec<&'a str>, String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    Ok(targets.iter().copied().filter(|t| !installed.lines().any(|l| l.trim() == *t)).collect())
}

/// Installs the Debian packages that are not installed yet.
pub fn ensure_apt(packages: &[&str]) -> Result<(), String> {
    let missing = missing_packages(packages);
    if missing.is_empty() {
        return Ok(());
    }
    apt_update()?;
    apt_install(&missing, None)
}

/// Makes sure `node` runs: the wasm tests, the snapshot export for the
/// boards and the wasm benchmark use it. A `node` already on the PATH (from
/// any source) is kept; otherwise Debian's `nodejs` is installed.
pub fn ensure_node() -> Result<(), String> {
    if output(Command::new("node").arg("--version")).is_ok() {
        return Ok(());
    }
    ensure_apt(&["nodejs"])
}

/// Installs the Debian packages that are not installed yet from
/// bookworm-backports, configuring that suite first if needed.
///
/// Why: Debian 12's own `qemu-system-arm` conflicts with the newer
/// `qemu-utils` some images carry; the backports build installs cleanly.
/// On a release other than bookworm the main suite is used.
pub fn ensure_apt_backports(packages: &[&str]) -> Result<(), String> {
    let missing = missing_packages(packages);
    if missing.is_empty() {
        return Ok(());
    }
    let codename = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VERSION_CODENAME=").map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_default();
    if codename != "bookworm" {
        apt_update()?;
        return apt_install(&missing, None);
    }
    ensure_backports_source()?;
    apt_update()?;
    apt_install(&missing, Some("bookworm-backports"))
}

/// Installs a CLI with `cargo install` unless `bin --version` already
/// reports `version`.
pub fn ensure_cargo_install(bin: &str, krate: &str, version: &str) -> Result<(), String> {
    if let Ok(v) = output(Command::new(bin).arg("--version")) {
        if v.split_whitespace().any(|w| w.trim_start_matches('v') == version) {
            return Ok(());
        }
    }
    // No `--locked`: some published lock files no longer resolve here.
    run(Command::new(cargo()).args(["install", krate, "--version", version]))
}

/// The cargo that runs the xtask (so a pinned toolchain stays pinned).
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The command line as a shell user would type it, explicit env vars first.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            let _ = write!(s, "{}={} ", k.to_string_lossy(), quote(&v.to_string_lossy()));
        }
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

/// Whether this process runs as root (else package commands go through sudo).
fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_ok_and(|u| u.trim() == "0")
}

/// `program` as root: directly when we are root, else through `sudo`.
fn privileged(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.arg(program);
        c
    }
}

fn missing_packages<'a>(packages: &[&'a str]) -> Vec<&'a str> {
    packages
        .iter()
        .copied()
        .filter(|p| {
            // Unknown packages make dpkg-query fail: that is "missing" too.
            output(Command::new("dpkg-query").args(["-W", "-f=${Status}", p]))
                .map_or(true, |s| s.trim() != "install ok installed")
        })
        .collect()
}

/// Set once `apt-get update` has run; cleared when a source is added.
static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// Other jobs on the machine may hold the dpkg lock: wait instead of failing.
const APT_LOCK_WAIT: &str = "DPkg::Lock::Timeout=600";

fn apt_update() -> Result<(), String> {
    if APT_UPDATED.load(Ordering::Relaxed) {
        return Ok(());
    }
    run(privileged("apt-get").args(["-o", APT_LOCK_WAIT, "update"]).stdin(Stdio::null()))?;
    APT_UPDATED.store(true, Ordering::Relaxed);
    Ok(())
}

fn apt_install(packages: &[&str], suite: Option<&str>) -> Result<(), String> {
    let mut cmd = privileged("apt-get");
    cmd.env("DEBIAN_FRONTEND", "noninteractive").args([
        "-o",
        APT_LOCK_WAIT,
        "install",
        "-y",
        "--no-install-recommends",
    ]);
    if let Some(suite) = suite {
        cmd.args(["-t", suite]);
    }
    run(cmd.args(packages).stdin(Stdio::null()))
}

/// The apt source files apt itself reads, `sources.list` first.
fn apt_source_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("list" | "sources")))
            .collect();
        // debian.sources first: it is the distribution's own entry.
        more.sort_by_key(|p| (p.file_name().is_none_or(|n| n != "debian.sources"), p.clone()));
        files.extend(more);
    }
    files.into_iter().filter(|p| p.is_file()).collect()
}

/// Where a backports entry is copied from: the archive URI and its key.
#[derive(Debug, PartialEq)]
struct DebianSource {
    uri: String,
    signed_by: Option<String>,
}

const BACKPORTS_FILE: &str = "/etc/apt/sources.list.d/tcbg-backports.sources";

/// Writes a bookworm-backports entry next to the machine's own Debian
/// source unless some source already names that suite. The mirror is the
/// one the machine already uses, never a hard-coded host.
fn ensure_backports_source() -> Result<(), String> {
    let texts: Vec<(PathBuf, String)> = apt_source_files()
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect();
    let mentions = |t: &str| {
        t.lines().any(|l| !l.trim_start().starts_with('#') && l.contains("bookworm-backports"))
    };
    if texts.iter().any(|(_, t)| mentions(t)) {
        return Ok(());
    }
    let source = texts
        .iter()
        .find_map(|(p, t)| {
            if p.extension().is_some_and(|e| e == "sources") {
                deb822_bookworm(t)
            } else {
                one_line_bookworm(t)
            }
        })
        .ok_or("no apt source for Debian bookworm found to derive bookworm-backports from")?;
    let mut entry = String::from(
        "# Written by `cargo xtask` (xtask/src/setup.rs): bookworm-backports from the\n\
         # machine's own Debian mirror, for packages Debian 12 ships too old or broken.\n\
         Types: deb\n",
    );
    let _ = writeln!(entry, "URIs: {}", source.uri);
    entry.push_str("Suites: bookworm-backports\nComponents: main\n");
    if let Some(key) = &source.signed_by {
        let _ = writeln!(entry, "Signed-By: {key}");
    }
    // Written to a temporary file and installed, so sudo works when not root.
    let tmp = std::env::temp_dir().join(format!("tcbg-backports-{}.sources", std::process::id()));
    std::fs::write(&tmp, entry).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let installed = run(privileged("install").args(["-m", "644"]).arg(&tmp).arg(BACKPORTS_FILE));
    let _ = std::fs::remove_file(&tmp);
    installed?;
    APT_UPDATED.store(false, Ordering::Relaxed);
    Ok(())
}

/// The first `deb` stanza of a deb822 file whose Suites include `bookworm`.
fn deb822_bookworm(text: &str) -> Option<DebianSource> {
    for stanza in text.split("\n\n") {
        // Field name -> value; continuation lines (leading blank) are kept
        // verbatim so an inline Signed-By key survives the copy.
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in stanza.lines().filter(|l| !l.starts_with('#')) {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = fields.last_mut() {
                    v.push('\n');
                    v.push_str(line);
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
        let has =
            |k: &str, word: &str| get(k).is_some_and(|v| v.split_whitespace().any(|w| w == word));
        if has("types", "deb") && has("suites", "bookworm") && get("enabled") != Some("no") {
            let uri = get("uris")?.split_whitespace().next()?.to_string();
            return Some(DebianSource { uri, signed_by: get("signed-by").map(str::to_string) });
        }
    }
    None
}

/// The first `deb [options] <uri> bookworm …` line of a one-line-style list.
fn one_line_bookworm(text: &str) -> Option<DebianSource> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("deb")?;
        if !rest.starts_with([' ', '\t']) {
            return None; // `deb-src`
        }
        let rest = rest.trim_start();
        let (options, rest) = match rest.strip_prefix('[') {
            Some(r) => r.split_once(']')?,
            None => ("", rest),
        };
        let mut words = rest.split_whitespace();
        let uri = words.next()?;
        (words.next()? == "bookworm").then(|| DebianSource {
            uri: uri.to_string(),
            signed_by: options
                .split_whitespace()
                .find_map(|o| o.strip_prefix("signed-by="))
                .map(str::to_string),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb822_picks_the_bookworm_stanza() {
        let text = "Types: deb\n# a comment\nURIs: http://a/debian\n\
                    Suites: bookworm bookworm-updates\nComponents: main\n\
                    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
                    Types: deb\nURIs: http://a/debian-security\n\
                    Suites: bookworm-security\nComponents: main\n";
        assert_eq!(
            deb822_bookworm(text),
            Some(DebianSource {
                uri: "http://a/debian".into(),
                signed_by: Some("/usr/share/keyrings/debian-archive-keyring.gpg".into()),
            })
        );
        assert_eq!(deb822_bookworm("Types: deb\nURIs: x\nSuites: bookworm-security\n"), None);
    }

    #[test]
    fn one_line_parses_options_and_skips_deb_src() {
        let text = "deb-src http://a/debian bookworm main\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://b/debian bookworm main contrib\n";
        assert_eq!(
            one_line_bookworm(text),
            Some(DebianSource { uri: "http://b/debian".into(), signed_by: Some("/k.gpg".into()) })
        );
        assert_eq!(
            one_line_bookworm("deb http://c/debian bookworm main\n"),
            Some(DebianSource { uri: "http://c/debian".into(), signed_by: None })
        );
    }

    #[test]
    fn last_lines_keep_the_end_and_say_what_they_left_out() {
        let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        assert_eq!(last_lines(&text, 3), "(47 earlier lines left out)\nline 48\nline 49\nline 50");
        assert_eq!(last_lines("only", 3), "only");
    }

    #[test]
    fn describe_quotes_what_a_shell_would_split() {
        let mut c = Command::new("dpkg-query");
        c.env("A", "b c").args(["-W", "-f=${Status}"]);
        assert_eq!(describe(&c), "A='b c' dpkg-query -W '-f=${Status}'");
    }
}
