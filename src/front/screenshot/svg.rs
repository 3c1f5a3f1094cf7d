//! A ratatui buffer as an SVG picture of a terminal: every cell at its own x position (so box
//! drawing lines up whatever the font), real colours and modifiers, a window frame. Pure and
//! deterministic: the same buffer gives the same bytes.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// DejaVu Sans Mono advances 0.602 em, so 14.95 px type fills a 9 px cell; each run also
/// carries `textLength`, for viewers (browsers) that honour it with other fonts.
const CELL_W: u32 = 9;
const CELL_H: u32 = 18;
const BASELINE: u32 = 14;
const PAD: u32 = 14;
const TITLE_H: u32 = 30;
const DEFAULT_FG: &str = "#d0d0d0";
const DEFAULT_BG: &str = "#1e1e2e";

/// The 16 ANSI colours (a calm, readable theme), then the xterm 256-colour cube and greys.
fn indexed(i: u8) -> String {
    const ANSI: [&str; 16] = [
        "#1e1e2e", "#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#d0d0d0",
        "#5c6370", "#ff7b86", "#b5e890", "#ffd68a", "#82c4ff", "#dd9cf0", "#7fd4e0", "#ffffff",
    ];
    match i {
        0..=15 => ANSI[i as usize].to_string(),
        16..=231 => {
            let n = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            format!(
                "#{:02x}{:02x}{:02x}",
                level(n / 36),
                level((n / 6) % 6),
                level(n % 6)
            )
        }
        _ => {
            let g = 8 + (i - 232) * 10;
            format!("#{g:02x}{g:02x}{g:02x}")
        }
    }
}

fn colour(c: Color, default: &str) -> String {
    match c {
        Color::Reset => default.to_string(),
        Color::Black => indexed(0),
        Color::Red => indexed(1),
        Color::Green => indexed(2),
        Color::Yellow => indexed(3),
        Color::Blue => indexed(4),
        Color::Magenta => indexed(5),
        Color::Cyan => indexed(6),
        Color::Gray => indexed(7),
        Color::DarkGray => indexed(8),
        Color::LightRed => indexed(9),
        Color::LightGreen => indexed(10),
        Color::LightYellow => indexed(11),
        Color::LightBlue => indexed(12),
        Color::LightMagenta => indexed(13),
        Color::LightCyan => indexed(14),
        Color::White => indexed(15),
        Color::Indexed(i) => indexed(i),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[derive(PartialEq, Clone)]
struct Look {
    fg: String,
    bg: String,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
}

/// Render `buffer` as an SVG document with `title` in the window bar.
pub fn render(buffer: &Buffer, title: &str) -> String {
    let area = buffer.area;
    let (cols, rows) = (u32::from(area.width), u32::from(area.height));
    let width = cols * CELL_W + 2 * PAD;
    let height = rows * CELL_H + 2 * PAD + TITLE_H;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14.95">"#
    );
    let _ = writeln!(
        out,
        r##"<rect width="{width}" height="{height}" rx="8" fill="#11111b"/>"##
    );
    for (i, c) in ["#ff5f57", "#febc2e", "#28c840"].iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<circle cx="{}" cy="15" r="6" fill="{c}"/>"#,
            20 + i as u32 * 20
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="{}" y="20" fill="#9399b2" text-anchor="middle" font-size="13">{}</text>"##,
        width / 2,
        escape(title)
    );
    let _ = writeln!(
        out,
        r#"<g transform="translate({PAD},{})"><rect width="{}" height="{}" fill="{DEFAULT_BG}"/>"#,
        TITLE_H + PAD / 2,
        cols * CELL_W,
        rows * CELL_H
    );
    for row in 0..area.height {
        let looks: Vec<(String, Look)> = (0..area.width)
            .map(|col| {
                let cell = &buffer[(area.x + col, area.y + row)];
                let m = cell.modifier;
                let (mut fg, mut bg) = (colour(cell.fg, DEFAULT_FG), colour(cell.bg, DEFAULT_BG));
                if m.contains(Modifier::REVERSED) {
                    std::mem::swap(&mut fg, &mut bg);
                }
                let look = Look {
                    fg,
                    bg,
                    bold: m.contains(Modifier::BOLD),
                    dim: m.contains(Modifier::DIM),
                    italic: m.contains(Modifier::ITALIC),
                    underline: m.contains(Modifier::UNDERLINED),
                };
                (cell.symbol().to_string(), look)
            })
            .collect();
        let y = u32::from(row) * CELL_H;
        // Backgrounds: one rect per run of the same non-default colour.
        let mut col = 0;
        while col < looks.len() {
            let bg = &looks[col].1.bg;
            let start = col;
            while col < looks.len() && &looks[col].1.bg == bg {
                col += 1;
            }
            if bg != DEFAULT_BG {
                let _ = writeln!(
                    out,
                    r#"<rect x="{}" y="{y}" width="{}" height="{CELL_H}" fill="{bg}"/>"#,
                    start as u32 * CELL_W,
                    (col - start) as u32 * CELL_W
                );
            }
        }
        // Text: one element per run of the same look, stretched to exactly its cells so the
        // columns line up whatever the viewer's monospace font measures.
        let mut col = 0;
        while col < looks.len() {
            let look = looks[col].1.clone();
            let start = col;
            let mut text = String::new();
            while col < looks.len() && looks[col].1 == look {
                // A wide glyph's continuation cell holds no symbol of its own.
                text.push_str(&looks[col].0);
                col += 1;
            }
            if text.trim().is_empty() {
                continue;
            }
            let mut attrs = format!(r#" fill="{}""#, look.fg);
            if look.bold {
                attrs.push_str(r#" font-weight="bold""#);
            }
            if look.dim {
                attrs.push_str(r#" opacity="0.6""#);
            }
            if look.italic {
                attrs.push_str(r#" font-style="italic""#);
            }
            if look.underline {
                attrs.push_str(r#" text-decoration="underline""#);
            }
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" textLength="{}" lengthAdjust="spacingAndGlyphs"{attrs} xml:space="preserve">{}</text>"#,
                start as u32 * CELL_W,
                y + BASELINE,
                (col - start) as u32 * CELL_W,
                escape(&text)
            );
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn cells_colours_and_modifiers_become_svg() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 2));
        buf.set_string(
            0,
            0,
            "a<b>&",
            Style::default()
                .fg(Color::Green)
                .add_modifier(Modifier::BOLD),
        );
        buf.set_string(6, 0, "ok", Style::default().bg(Color::Rgb(1, 2, 3)));
        buf.set_string(
            0,
            1,
            "│x",
            Style::default().add_modifier(Modifier::REVERSED),
        );
        let svg = render(&buf, "t & t");
        assert!(svg.contains(r##"<text x="0" y="14" textLength="45" lengthAdjust="spacingAndGlyphs" fill="#98c379" font-weight="bold" xml:space="preserve">a&lt;b&gt;&amp;</text>"##), "{svg}");
        assert!(
            svg.contains(r##"<rect x="54" y="0" width="18" height="18" fill="#010203"/>"##),
            "{svg}"
        );
        assert!(
            svg.contains(r##"fill="#1e1e2e" xml:space="preserve">│x</text>"##),
            "reversed swaps fg and bg: {svg}"
        );
        assert!(svg.contains(">t &amp; t</text>"));
        assert_eq!(svg, render(&buf, "t & t"), "deterministic");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }

    #[test]
    fn the_256_colour_cube_and_greys() {
        assert_eq!(indexed(16), "#000000");
        assert_eq!(indexed(231), "#ffffff");
        assert_eq!(indexed(196), "#ff0000");
        assert_eq!(indexed(232), "#080808");
        assert_eq!(indexed(255), "#eeeeee");
    }
}
