//! Rootless prerequisites against a scratch system root (etc/subuid, proc/sys, PATH tools).

use crate::support::detect as detect_common;

use std::path::Path;

use clawposture::edge::detect::{DetectOptions, PrereqCheck, detect};
use detect_common::{isolated, script, tempdir};

fn check<'a>(checks: &'a [PrereqCheck], id: &str) -> &'a PrereqCheck {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
    std::fs::write(p, text).expect("write");
}

fn as_user(o: &mut DetectOptions) {
    o.uid = 1000;
    o.user = Some("alice".into());
}

#[test]
fn a_bare_machine_fails_every_check_with_a_fix() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    as_user(&mut o);
    write(
        &o.system_root,
        "proc/sys/kernel/unprivileged_userns_clone",
        "0\n",
    );
    write(&o.system_root, "proc/sys/user/max_user_namespaces", "0\n");
    write(&o.system_root, "etc/subuid", "bob:100000:65536\n");
    let p = detect(&o).rootless_prerequisites;
    assert!(!p.ok);
    for id in [
        "newuidmap",
        "newgidmap",
        "subuid",
        "subgid",
        "userns_clone",
        "max_user_namespaces",
        "xdg_runtime_dir",
        "rootlesskit",
        "setup_tool",
    ] {
        let c = check(&p.checks, id);
        assert!(!c.ok, "{id} should fail");
        assert!(c.fix.is_some(), "{id} needs a fix");
    }
    assert!(check(&p.checks, "non_root").ok);
    // A fresh range after bob's, never overlapping it.
    assert_eq!(
        check(&p.checks, "subuid").fix.as_deref(),
        Some("sudo usermod --add-subuids 165536-231071 alice")
    );
    assert!(
        check(&p.checks, "userns_clone")
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("sudo sysctl"))
    );
}

#[test]
fn a_prepared_machine_passes() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    as_user(&mut o);
    // The runtime dir must belong to the user; in this test the user is whoever runs it.
    o.uid = std::fs::metadata(dir.path())
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .expect("meta");
    let runtime = dir.path().join("run-user");
    std::fs::create_dir_all(&runtime).expect("runtime");
    o.xdg_runtime_dir = Some(runtime);
    write(
        &o.system_root,
        "etc/subuid",
        &format!("alice:100000:65536\n{}:200000:10\n", o.uid),
    );
    write(&o.system_root, "etc/subgid", "alice:100000:65536\n");
    write(
        &o.system_root,
        "proc/sys/kernel/unprivileged_userns_clone",
        "1\n",
    );
    write(
        &o.system_root,
        "proc/sys/user/max_user_namespaces",
        "63000\n",
    );
    let bin = Path::new(o.path.as_ref().expect("PATH")).to_path_buf();
    for tool in [
        "newuidmap",
        "newgidmap",
        "rootlesskit",
        "dockerd-rootless-setuptool.sh",
    ] {
        script(&bin, tool, "exit 0");
    }
    let p = detect(&o).rootless_prerequisites;
    let failed: Vec<_> = p
        .checks
        .iter()
        .filter(|c| !c.ok && c.id != "non_root")
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(p.checks.iter().all(|c| c.ok == c.fix.is_none()));
}

#[test]
fn root_is_told_rootless_is_per_user() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    o.uid = 0;
    let p = detect(&o).rootless_prerequisites;
    let c = check(&p.checks, "non_root");
    assert!(
        !c.ok
            && c.fix
                .as_deref()
                .is_some_and(|f| f.contains("ordinary user"))
    );
}

#[test]
fn debian_keeps_the_setup_tool_outside_path() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    as_user(&mut o);
    write(
        &o.system_root,
        "usr/share/docker.io/contrib/dockerd-rootless-setuptool.sh",
        "#!/bin/sh\n",
    );
    let p = detect(&o).rootless_prerequisites;
    let fix = check(&p.checks, "setup_tool")
        .fix
        .clone()
        .unwrap_or_default();
    assert!(
        fix.starts_with("export PATH=/usr/share/docker.io/contrib:$PATH"),
        "{fix}"
    );
}
