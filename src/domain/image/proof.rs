//! Proof that a built image serves OpenClaw, pure parts: two scripts and their judgement.
//!
//! OpenClaw runs `sleep infinity` in the container and every tool call as `/bin/sh -lc …`, with
//! a read-only root and tmpfs on /tmp (Podman copies the image's /tmp mode onto that tmpfs, so
//! a 0755 /tmp is unwritable for a non-root sandbox user). Two containers prove it:
//! - `image`: the image as built (its own user, no tmpfs) reports /tmp's mode and which tools
//!   exist;
//! - `sandbox`: the settings OpenClaw uses (read-only root, tmpfs, no capabilities, the user the
//!   preset writes) reports its uid and writes to /tmp.
//!
//! Both run `/bin/sh -c`, so their output at all proves `/bin/sh`. Only shell builtins are
//! used, except `ls` for the mode, `sleep` (which must exist) and `command -v`.

use serde::Serialize;

const BEGIN: &str = "clawposture-image.begin=1";
const END: &str = "clawposture-image.end=1";

/// The script for the `image` container.
pub fn image_script() -> String {
    format!(
        r#"echo '{BEGIN}'
if s=$(command -v sleep); then echo "sleep=$s"; fi
if sleep 0; then echo 'sleep.run=ok'; fi
if p=$(command -v python3); then echo "python3=$p"; fi
if [ -d /tmp ]; then
  echo 'tmp.dir=1'
  if [ -k /tmp ]; then echo 'tmp.sticky=1'; fi
  m=$(ls -ld /tmp 2>/dev/null) && echo "tmp.ls=${{m%% *}}"
fi
echo '{END}'
"#
    )
}

/// The script for the `sandbox` container.
pub fn sandbox_script() -> String {
    format!(
        r#"echo '{BEGIN}'
while read -r k v rest; do case "$k" in Uid:|Gid:) echo "status.${{k%:}}=$v";; esac; done < /proc/self/status
if (echo x > /tmp/.clawposture-image) 2>/dev/null; then echo 'tmp.write=ok'; fi
if sleep 0; then echo 'sleep.run=ok'; fi
echo '{END}'
"#
    )
}

/// What the proof shows; `problems` empty means the image serves OpenClaw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Proof {
    pub sh: bool,
    pub sleep: Option<String>,
    /// `ls -ld /tmp`'s mode column, e.g. `drwxrwxrwt`.
    pub tmp_mode: Option<String>,
    pub tmp_1777: bool,
    pub python3: Option<String>,
    /// The uid the sandbox container ran as, and the one the preset implies.
    pub uid: Option<u32>,
    pub expected_uid: Option<u32>,
    pub uid_source: String,
    pub tmp_writable: bool,
    /// Each one means OpenClaw's sandbox fails with this image.
    pub problems: Vec<String>,
    /// Works, with less than upstream's image offers.
    pub warnings: Vec<String>,
}

impl Proof {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// One line per fact, for the build's report.
    pub fn lines(&self) -> Vec<String> {
        let yes = |b: bool| if b { "yes" } else { "NO" };
        vec![
            format!("/bin/sh runs: {}", yes(self.sh)),
            format!("sleep: {}", self.sleep.as_deref().unwrap_or("NOT FOUND")),
            format!(
                "/tmp mode: {} ({})",
                self.tmp_mode.as_deref().unwrap_or("unknown"),
                if self.tmp_1777 { "1777" } else { "NOT 1777" }
            ),
            format!(
                "sandbox uid: {} (expected {} from {})",
                self.uid.map_or("unknown".into(), |u| u.to_string()),
                self.expected_uid.map_or("any".into(), |u| u.to_string()),
                self.uid_source
            ),
            format!(
                "/tmp writable under OpenClaw's settings: {}",
                yes(self.tmp_writable)
            ),
            format!(
                "python3 (write/edit tools): {}",
                self.python3.as_deref().unwrap_or("missing")
            ),
        ]
    }
}

/// `key=value` lines between the markers; None when the markers are missing (the script did
/// not run to its end).
fn report(stdout: &str) -> Option<Vec<(String, String)>> {
    let start = stdout.find(BEGIN)?;
    let body = &stdout[start + BEGIN.len()..];
    let end = body.find(END)?;
    Some(
        body[..end]
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
    )
}

/// A container's run as the proof sees it: its stdout, or why it produced none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
    pub error: Option<String>,
}

/// Judge both containers' output against the uid the preset implies.
pub fn judge(image: &Ran, sandbox: &Ran, expected_uid: Option<u32>, uid_source: &str) -> Proof {
    let mut p = Proof {
        expected_uid,
        uid_source: uid_source.to_string(),
        ..Default::default()
    };
    let why = |r: &Ran, which: &str| -> String {
        let detail = r
            .error
            .clone()
            .unwrap_or_else(|| r.stderr.trim().chars().take(300).collect());
        format!("the {which} container did not run its script to the end: {detail}")
    };
    match report(&image.stdout) {
        Some(kv) => {
            p.sh = true;
            let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            p.sleep = get("sleep").filter(|_| get("sleep.run").is_some());
            p.python3 = get("python3");
            p.tmp_mode = get("tmp.ls");
            p.tmp_1777 = match &p.tmp_mode {
                Some(m) => m.get(1..10) == Some("rwxrwxrwt"),
                None => get("tmp.sticky").is_some(),
            };
            if get("tmp.dir").is_none() {
                p.problems
                    .push("the image has no /tmp (the sandbox's tmpfs needs it)".into());
            } else if !p.tmp_1777 {
                p.problems.push(format!(
                    "/tmp is {} instead of drwxrwxrwt (1777): under Podman the sandbox user cannot write /tmp",
                    p.tmp_mode.as_deref().unwrap_or("not sticky")
                ));
            }
            if p.sleep.is_none() {
                p.problems.push(
                    "no `sleep` in the image: OpenClaw's container command `sleep infinity` fails (\"tini: exec sleep failed\")".into(),
                );
            }
            if p.python3.is_none() {
                p.warnings.push(
                    "no python3 in the image: OpenClaw's write/edit tools fail in the sandbox (a Debian base installs it)".into(),
                );
            }
        }
        None => p.problems.push(why(image, "image")),
    }
    match report(&sandbox.stdout) {
        Some(kv) => {
            p.sh = true;
            let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            // `Uid:` lists real, effective, saved and filesystem uids; the first is enough.
            p.uid = get("status.Uid").and_then(|v| v.split_whitespace().next()?.parse().ok());
            p.tmp_writable = get("tmp.write").is_some();
            if !p.tmp_writable {
                p.problems
                    .push("the sandbox user cannot write /tmp under OpenClaw's settings".into());
            }
            match (p.uid, expected_uid) {
                (Some(u), Some(e)) if u != e => p.problems.push(format!(
                    "the sandbox ran as uid {u}, but {uid_source} implies {e}"
                )),
                (None, _) => p
                    .problems
                    .push("the sandbox's uid could not be read".into()),
                _ => {}
            }
            if get("sleep.run").is_none() && p.sleep.is_some() {
                p.problems
                    .push("`sleep` fails under OpenClaw's settings".into());
            }
        }
        None => p.problems.push(why(sandbox, "sandbox")),
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(lines: &[&str]) -> Ran {
        Ran {
            stdout: format!("{BEGIN}\n{}\n{END}\n", lines.join("\n")),
            ..Default::default()
        }
    }

    fn good_image() -> Ran {
        ran(&[
            "sleep=/bin/sleep",
            "sleep.run=ok",
            "python3=/usr/bin/python3",
            "tmp.dir=1",
            "tmp.sticky=1",
            "tmp.ls=drwxrwxrwt",
        ])
    }

    fn good_sandbox(uid: u32) -> Ran {
        ran(&[
            &format!("status.Uid={uid}\t{uid}\t{uid}\t{uid}"),
            "tmp.write=ok",
            "sleep.run=ok",
        ])
    }

    #[test]
    fn a_good_image_passes() {
        let p = judge(
            &good_image(),
            &good_sandbox(1001),
            Some(1001),
            "docker.user",
        );
        assert!(p.ok(), "{p:?}");
        assert!(p.warnings.is_empty());
        assert!(p.sh && p.tmp_1777 && p.tmp_writable);
        assert_eq!(p.uid, Some(1001));
    }

    #[test]
    fn each_missing_fact_is_a_problem() {
        let bad_tmp = ran(&[
            "sleep=/bin/sleep",
            "sleep.run=ok",
            "tmp.dir=1",
            "tmp.ls=drwxr-xr-x",
        ]);
        let p = judge(&bad_tmp, &good_sandbox(0), Some(0), "x");
        assert!(p.problems.iter().any(|m| m.contains("drwxr-xr-x")), "{p:?}");
        assert!(p.warnings.iter().any(|m| m.contains("python3")));

        let no_sleep = ran(&["tmp.dir=1", "tmp.ls=drwxrwxrwt"]);
        let p = judge(&no_sleep, &good_sandbox(0), Some(0), "x");
        assert!(
            p.problems
                .iter()
                .any(|m| m.contains("tini: exec sleep failed"))
        );

        let p = judge(
            &good_image(),
            &good_sandbox(0),
            Some(1000),
            "docker.user \"1000:1000\"",
        );
        assert!(p.problems.iter().any(|m| m.contains("uid 0")), "{p:?}");

        let no_write = ran(&["status.Uid=1001 1001 1001 1001", "sleep.run=ok"]);
        let p = judge(&good_image(), &no_write, Some(1001), "x");
        assert!(p.problems.iter().any(|m| m.contains("cannot write /tmp")));

        let dead = Ran {
            error: Some("exec: \"/bin/sh\": no such file".into()),
            ..Default::default()
        };
        let p = judge(&dead, &dead, None, "x");
        assert!(!p.sh);
        assert_eq!(p.problems.len(), 2, "{p:?}");
    }

    #[test]
    fn no_expected_uid_accepts_any_read_uid() {
        let p = judge(&good_image(), &good_sandbox(4242), None, "a user name");
        assert!(p.ok(), "{p:?}");
        assert_eq!(p.lines().len(), 6);
    }

    #[test]
    fn the_scripts_mark_their_report() {
        for s in [image_script(), sandbox_script()] {
            assert!(s.starts_with(&format!("echo '{BEGIN}'")));
            assert!(s.trim_end().ends_with(&format!("echo '{END}'")));
        }
    }
}
