//! Which channel ids OpenClaw knows (data: `presets/channels.toml`, pinned to the OpenClaw
//! version the presets were checked against), so a typo such as `telegrm:123` is refused with
//! the nearest id instead of being written into a block OpenClaw never reads.

use serde::Deserialize;

#[derive(Deserialize)]
struct Known {
    known: Vec<String>,
}

/// The channel ids OpenClaw knows.
pub fn known() -> Vec<String> {
    toml::from_str::<Known>(include_str!("../../presets/channels.toml"))
        .map(|k| k.known)
        .unwrap_or_default()
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// Why `channel` is not one OpenClaw knows (None: it is, or the config has its block).
pub fn unknown(channel: &str, in_config: &[String]) -> Option<String> {
    let known = known();
    if known.iter().any(|k| k == channel) || in_config.iter().any(|c| c == channel) {
        return None;
    }
    let nearest = known
        .iter()
        .map(|k| (distance(channel, k), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!(" Did you mean `{k}`?"))
        .unwrap_or_default();
    Some(format!(
        "`{channel}` is not a channel OpenClaw knows, and this config has no `channels.{channel}` block.{nearest} Known: {}.",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_refused_with_the_nearest_id_and_a_plugin_channel_in_the_file_is_not() {
        assert!(known().len() > 20, "the data file loads");
        assert_eq!(unknown("telegram", &[]), None);
        let why = unknown("telegrm", &[]).expect("refused");
        assert!(why.contains("Did you mean `telegram`?"), "{why}");
        assert_eq!(unknown("mychat", &["mychat".to_string()]), None);
        assert!(unknown("mychat", &[]).is_some());
    }
}
