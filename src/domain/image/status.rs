//! `image status`, pure: what an image's labels say about who built it and from which recipe.

use std::collections::BTreeMap;

use serde::Serialize;

use super::recipe::{BUILT_BY, LABEL_BASE, LABEL_BUILT_BY, LABEL_OPENCLAW, LABEL_RECIPE};

/// Exit codes of `image status` (0 only for an image clawposture built from this recipe).
pub const EXIT_CURRENT: i32 = 0;
pub const EXIT_MISSING: i32 = 1;
/// No engine answered (the same code as the other commands' "this machine cannot").
pub const EXIT_NO_ENGINE: i32 = 3;
pub const EXIT_STALE: i32 = 5;
pub const EXIT_FOREIGN: i32 = 6;

/// The image under the tag, as far as clawposture is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ImageState {
    /// No image has that tag on this engine.
    Missing,
    /// Built by clawposture from the recipe this version builds.
    Current {
        openclaw: Option<String>,
        base: Option<String>,
    },
    /// Built by clawposture from another recipe (an older clawposture, another OpenClaw).
    Stale {
        /// The recipe hash the image carries (the current one is the document's `recipe`).
        #[serde(rename = "image_recipe")]
        recipe: Option<String>,
        openclaw: Option<String>,
        base: Option<String>,
    },
    /// Not built by clawposture (pulled, built by hand from another Dockerfile, retagged).
    Foreign,
}

impl ImageState {
    pub fn name(&self) -> &'static str {
        match self {
            ImageState::Missing => "missing",
            ImageState::Current { .. } => "current",
            ImageState::Stale { .. } => "stale",
            ImageState::Foreign => "foreign",
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            ImageState::Current { .. } => EXIT_CURRENT,
            ImageState::Missing => EXIT_MISSING,
            ImageState::Stale { .. } => EXIT_STALE,
            ImageState::Foreign => EXIT_FOREIGN,
        }
    }

    /// One sentence for the user; `image` is the tag, `hint` the command that (re)builds it.
    pub fn sentence(&self, image: &str, recipe_hash: &str) -> String {
        match self {
            ImageState::Missing => format!(
                "{image} is missing: every sandboxed turn fails (OpenClaw never pulls or builds it)"
            ),
            ImageState::Current { openclaw, base } => format!(
                "{image} was built by clawposture from the current recipe {recipe_hash} (OpenClaw {}, base {})",
                openclaw.as_deref().unwrap_or("?"),
                base.as_deref().unwrap_or("?")
            ),
            ImageState::Stale {
                recipe, openclaw, ..
            } => format!(
                "{image} was built by clawposture from an older recipe {} (OpenClaw {}); this version builds {recipe_hash}",
                recipe.as_deref().unwrap_or("?"),
                openclaw.as_deref().unwrap_or("?")
            ),
            ImageState::Foreign => format!(
                "{image} exists but was not built by clawposture: its content is unknown (it may lack /bin/sh, sleep, python3 or a 1777 /tmp)"
            ),
        }
    }
}

/// Classify from the image's labels (`None`: no image under that tag).
pub fn classify(labels: Option<&BTreeMap<String, String>>, recipe_hash: &str) -> ImageState {
    let Some(labels) = labels else {
        return ImageState::Missing;
    };
    if labels.get(LABEL_BUILT_BY).map(String::as_str) != Some(BUILT_BY) {
        return ImageState::Foreign;
    }
    let get = |k: &str| labels.get(k).cloned();
    if get(LABEL_RECIPE).as_deref() == Some(recipe_hash) {
        ImageState::Current {
            openclaw: get(LABEL_OPENCLAW),
            base: get(LABEL_BASE),
        }
    } else {
        ImageState::Stale {
            recipe: get(LABEL_RECIPE),
            openclaw: get(LABEL_OPENCLAW),
            base: get(LABEL_BASE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image::recipe;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_four_states_and_their_exit_codes() {
        let r = recipe::current();
        let ours = r.labels("busybox:applets");
        let cases = [
            (None, "missing", EXIT_MISSING),
            (Some(ours.clone()), "current", EXIT_CURRENT),
            (
                Some({
                    let mut l = ours.clone();
                    l.insert(LABEL_RECIPE.into(), "0123456789abcdef".into());
                    l
                }),
                "stale",
                EXIT_STALE,
            ),
            (
                Some({
                    let mut l = ours.clone();
                    l.remove(LABEL_RECIPE);
                    l
                }),
                "stale",
                EXIT_STALE,
            ),
            (Some(BTreeMap::new()), "foreign", EXIT_FOREIGN),
            (
                Some(labels(&[
                    (LABEL_BUILT_BY, "someone-else"),
                    (LABEL_RECIPE, &r.hash),
                ])),
                "foreign",
                EXIT_FOREIGN,
            ),
        ];
        for (l, name, code) in cases {
            let s = classify(l.as_ref(), &r.hash);
            assert_eq!(s.name(), name, "{l:?}");
            assert_eq!(s.exit_code(), code, "{l:?}");
        }
        // Only a current image exits 0.
        let codes = [EXIT_MISSING, EXIT_STALE, EXIT_FOREIGN, EXIT_NO_ENGINE];
        assert!(codes.iter().all(|c| *c != EXIT_CURRENT));
    }

    #[test]
    fn current_reports_the_base_and_version() {
        let r = recipe::current();
        let s = classify(Some(&r.labels("debian:bookworm-slim")), &r.hash);
        assert_eq!(
            s,
            ImageState::Current {
                openclaw: Some(recipe::UPSTREAM.openclaw_version.into()),
                base: Some("debian:bookworm-slim".into())
            }
        );
        let text = s.sentence("openclaw-sandbox:bookworm-slim", &r.hash);
        assert!(text.contains("current recipe") && text.contains("debian:bookworm-slim"));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["state"], "current");
    }
}
