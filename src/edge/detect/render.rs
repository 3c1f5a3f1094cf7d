//! Human output: a compact table, one fix line under every problem. Pure (report in, text out).

use std::fmt::Write;

use crate::model::detection::{EngineReport, Report, State};

pub fn render_human(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Container engines (detected in {} ms)", r.elapsed_ms);
    let _ = writeln!(
        s,
        "    {:<2} {:<16} {:<17} {:<15} {:<8} ENDPOINT (SOURCE)",
        "#", "ENGINE", "STATE", "VERSION", "IMAGE"
    );
    let mut absent = Vec::new();
    for (i, e) in r.engines.iter().enumerate() {
        // Sockets we merely looked for and did not find are noise unless something is to be done.
        if e.state == State::Missing && e.fix.is_none() && !e.source.is_explicit() {
            absent.push(e.endpoint.as_str());
            continue;
        }
        let mark = if r.selected.index == Some(i) {
            "->"
        } else {
            "  "
        };
        let _ = writeln!(
            s,
            "{mark}  {:<2} {:<16} {:<17} {:<15} {:<8} {} ({}){}",
            i,
            e.label(),
            e.state.label(),
            e.version.as_deref().unwrap_or("-"),
            image_label(e),
            e.endpoint,
            e.source.label(),
            // An endpoint given with --docker-host is the Gateway's by flag, not by default.
            if e.cli_default && e.source != crate::model::detection::Source::Flag {
                " [docker CLI default]"
            } else {
                ""
            }
        );
        if e.state != State::Ready
            && let Some(d) = &e.detail
        {
            let _ = writeln!(s, "       {d}");
        }
        if let Some(f) = &e.fix {
            let _ = writeln!(s, "       fix: {f}");
        }
    }
    if !absent.is_empty() {
        let _ = writeln!(s, "    not found: {}", absent.join(", "));
    }

    let _ = writeln!(s, "Selected: {}", r.selected.reason);
    if let Some(e) = r.selected.index.and_then(|i| r.engines.get(i)) {
        let f = features(e);
        if !f.is_empty() {
            let _ = writeln!(s, "  {f}");
        }
        if let Some(d) = &e.detail {
            let _ = writeln!(s, "  note: {d}");
        }
    }
    if let Some(h) = &r.selected.docker_host {
        let _ = writeln!(s, "  Gateway service environment needs: DOCKER_HOST={h}");
    }
    if let Some(g) = &r.gateway {
        gateway(&mut s, r, g);
    }

    let cli = |p: &Option<String>| p.clone().unwrap_or_else(|| "-".into());
    let _ = writeln!(
        s,
        "CLIs: docker {} | podman {} | rootless setup tool {}",
        cli(&r.clis.docker),
        cli(&r.clis.podman),
        cli(&r.clis.rootless_setup_tool)
    );

    let p = &r.rootless_prerequisites;
    let who = p.user.clone().unwrap_or_else(|| format!("uid {}", p.uid));
    let failed: Vec<_> = p.checks.iter().filter(|c| !c.ok).collect();
    if failed.is_empty() {
        let _ = writeln!(s, "Rootless prerequisites for {who}: all met");
    } else if let Some(e) = r.working_rootless() {
        // A rootless engine already answers: setting up another one for this user is not needed.
        let _ = writeln!(
            s,
            "Rootless prerequisites for {who}: not needed ({} at {} already answers; {} would be missing to set one up for {who})",
            e.label(),
            e.endpoint,
            failed.len()
        );
    } else {
        let _ = writeln!(
            s,
            "Rootless prerequisites for {who}: {} missing",
            failed.len()
        );
        for c in failed {
            let _ = writeln!(s, "  x {}: {}", c.id, c.detail);
            if let Some(f) = &c.fix {
                let _ = writeln!(s, "       fix: {f}");
            }
        }
    }

    let o = &r.openclaw;
    let installed = match (&o.path, &o.version, &o.version_error) {
        (None, _, _) => "not on PATH".to_string(),
        (Some(p), Some(v), _) => format!("{v} at {p}"),
        (Some(p), None, Some(err)) => format!("at {p} ({err})"),
        (Some(p), None, None) => format!("at {p}"),
    };
    let config = match &o.config_path {
        Some(c) => format!(
            "{c} ({})",
            if o.config_exists {
                "exists"
            } else {
                "will be created"
            }
        ),
        None => "unknown".into(),
    };
    let _ = writeln!(s, "OpenClaw: {installed}; config {config}");
    let _ = writeln!(s, "  note: {}", o.note);
    if let Some(c) = &r.in_container {
        let _ = writeln!(s, "In a container ({}): {}.", c.markers.join("; "), c.needs);
    }
    s
}

fn image_label(e: &EngineReport) -> &'static str {
    match e.sandbox_image.as_ref().map(|i| i.present) {
        Some(Some(true)) => "present",
        Some(Some(false)) => "missing",
        Some(None) => "unknown",
        None => "-",
    }
}

fn features(e: &EngineReport) -> String {
    let mut f = Vec::new();
    if let Some(p) = &e.platform {
        f.push(p.clone());
    }
    if let Some(sec) = &e.security {
        if sec.seccomp {
            f.push(format!(
                "seccomp({})",
                sec.seccomp_profile.as_deref().unwrap_or("default")
            ));
        } else {
            f.push("no seccomp".into());
        }
        for (on, name) in [
            (sec.apparmor, "apparmor"),
            (sec.selinux, "selinux"),
            (sec.userns, "userns"),
            (sec.no_new_privileges, "no-new-privileges"),
        ] {
            if on {
                f.push(name.into());
            }
        }
    }
    if let Some(c) = &e.cgroup_version {
        f.push(format!("cgroup v{c}"));
    }
    if !e.runtimes.is_empty() {
        f.push(format!("runtimes {}", e.runtimes.join(",")));
    }
    if e.gvisor {
        f.push("gVisor available".into());
    }
    f.join(" | ")
}

/// The Gateway service's side: its definition, the variables that decide its engine, the
/// endpoint they give and that daemon's ID beside the selected one's when they differ.
fn gateway(s: &mut String, r: &Report, g: &crate::model::gateway_env::GatewayEnv) {
    let _ = writeln!(
        s,
        "Gateway service: {}",
        g.definition
            .as_deref()
            .unwrap_or("no installed service definition found")
    );
    for v in &g.vars {
        let _ = writeln!(s, "  {}={} ({})", v.name, v.value, v.from);
    }
    let probed = |endpoint: &str| {
        r.engines.iter().find(|e| {
            e.endpoint.trim_start_matches("unix://") == endpoint.trim_start_matches("unix://")
        })
    };
    let id_of = |e: Option<&EngineReport>| match e {
        Some(e) if e.daemon_id.is_some() => {
            format!("daemon ID {}", e.daemon_id.as_deref().unwrap_or_default())
        }
        Some(e) => e.state.label().to_string(),
        None => "not probed".into(),
    };
    let theirs = probed(&g.endpoint);
    let _ = writeln!(
        s,
        "  reaches {} ({}): {}",
        g.endpoint,
        g.because,
        id_of(theirs)
    );
    if let Some(chosen) = r.selected.index.and_then(|i| r.engines.get(i))
        && chosen.endpoint != g.endpoint
        && chosen.kind == Some(crate::model::environment::EngineKind::Docker)
    {
        let same = match (&chosen.daemon_id, theirs.and_then(|t| t.daemon_id.as_ref())) {
            (Some(a), Some(b)) if a == b => "the same daemon",
            (Some(_), Some(_)) => "a different daemon",
            _ => "not known to be the same daemon",
        };
        let _ = writeln!(
            s,
            "  selected {}: {} — {same}",
            chosen.endpoint,
            id_of(Some(chosen))
        );
    }
    for n in &g.notes {
        let _ = writeln!(s, "  ! {n}");
    }
}
