//! The report: the Markdown table of results, the diagnostics under it, and how figures
//! are written in them.

use std::time::Duration;

use crate::Res;

#[derive(Default)]
pub(crate) struct Report {
    rows: Vec<[String; 7]>,
    notes: Vec<String>,
}

impl Report {
    pub(crate) fn row(
        &mut self,
        section: &str,
        what: &str,
        emulator: String,
        reference: String,
        ratio: String,
        target: &str,
        result: String,
    ) {
        self.rows.push([
            section.to_string(),
            what.to_string(),
            emulator,
            reference,
            ratio,
            target.to_string(),
            result,
        ]);
    }

    pub(crate) fn note(&mut self, text: String) {
        eprintln!("  {text}");
        self.notes.push(text);
    }

    pub(crate) fn print(&self) {
        println!();
        println!("| # | measurement | emulator | reference | ratio | target | result |");
        println!("|---|---|---|---|---|---|---|");
        for r in &self.rows {
            println!("| {} |", r.join(" | "));
        }
        if !self.notes.is_empty() {
            println!();
            println!("Diagnostics:");
            println!();
            for n in &self.notes {
                println!("- {n}");
            }
        }
    }
}

pub(crate) fn pass(ok: bool) -> String {
    if ok { "PASS" } else { "MISS" }.to_string()
}

pub(crate) fn fmt_rate(v: f64) -> String {
    if v >= 100.0 {
        group(v.round() as u64)
    } else {
        format!("{v:.1}")
    }
}

/// 12345 → "12,345".
pub(crate) fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn ms(d: f64) -> String {
    format!("{d:.1} ms")
}

pub(crate) fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

pub(crate) fn show(v: &Res<f64>, fmt: fn(f64) -> String) -> String {
    match v {
        Ok(x) => fmt(*x),
        Err(e) => format!("n/a: {e}"),
    }
}

pub(crate) fn per_s(v: f64) -> String {
    format!("{}/s", fmt_rate(v))
}

pub(crate) fn mb_s(v: f64) -> String {
    format!("{} MB/s", fmt_rate(v / 1e6))
}
