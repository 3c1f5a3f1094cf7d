//! The layers of `src/` import only downward: model < domain < app < edge < front, and the
//! wizard's state machine (`front/wizard`) only the application layer and the data types. A
//! use of `crate::LAYER` in code (comments aside) above its own layer fails here, naming it.

use std::path::{Path, PathBuf};

const LAYERS: [&str; 5] = ["model", "domain", "app", "edge", "front"];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src").flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every `crate::NAME::…` in the code of a file, up to its unit tests (which may reach for
/// anything to build their fixtures).
fn uses(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push((n + 1, name.trim_end_matches(':').to_string()));
            rest = &after[name.len().min(after.len())..];
        }
    }
    out
}

#[test]
fn every_layer_imports_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut wrong = Vec::new();
    for f in &all {
        let rel = f.strip_prefix(&src).expect("under src");
        let top = rel.components().next().and_then(|c| c.as_os_str().to_str());
        let Some(own) = top.and_then(rank) else {
            continue; // lib.rs and main.rs sit above every layer
        };
        let text = std::fs::read_to_string(f).expect("read");
        let wizard = rel.starts_with("front/wizard");
        for (line, used) in uses(&text) {
            let layer = used.split("::").next().unwrap_or("");
            match rank(layer) {
                Some(r) if r > own => {
                    wrong.push(format!("{}:{line}: crate::{used}", rel.display()))
                }
                _ => {}
            }
            if wizard && !(layer == "app" || layer == "model" || used.starts_with("front::wizard"))
            {
                wrong.push(format!(
                    "{}:{line}: crate::{used} (the wizard's state machine imports only app and model)",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that go upward:\n{}",
        wrong.join("\n")
    );
    assert!(all.len() > 40, "the scan found the sources");
}

#[test]
fn the_scan_sees_a_violation() {
    // The detector itself: a use in code is found, one in a comment is not.
    let found = uses("use crate::front::cli; // crate::edge::write\n");
    assert_eq!(found, vec![(1, "front::cli".to_string())]);
}
