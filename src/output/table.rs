//! The table view (`CLOUDHSM_SIM_OUTPUT=table`, `interactive --output table`): the lists of
//! `user list`, `key list`, `cluster hsm-info`, `cluster sync-status` and `quorum token-sign
//! list` drawn as tables for people reading them; every other response stays JSON, byte for
//! byte.
//!
//! `Response::render` asks [`render`] for a table of each response in the table view; it
//! recognises the successful list payloads by their keys (`users`, `matched_keys`, `hsms` with
//! or without `in-sync`, `tokens`) and draws them, and leaves anything else JSON.

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table, Width};
use serde_json::{Map, Value};

/// The width of a table when stdout is not a terminal, so that logs and tests are stable.
pub const FIXED_WIDTH: u16 = 100;

/// How responses are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The real CLI's JSON (the default).
    #[default]
    Json,
    /// Lists as tables, everything else as JSON.
    Table,
}

impl Format {
    /// Parses `json` or `table`.
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "json" => Some(Format::Json),
            "table" => Some(Format::Table),
            _ => None,
        }
    }
}

const USER_COLUMNS: &[&str] = &[
    "username",
    "role",
    "locked",
    "mfa",
    "quorum",
    "cluster-coverage",
];

const TOKEN_COLUMNS: &[&str] = &[
    "username",
    "service",
    "key-reference",
    "approvals-required",
    "token-timeout-seconds",
];

/// The table of a response envelope, or `None` when it is not a successful list response.
pub fn render(envelope: &Value, width: Option<u16>) -> Option<String> {
    if envelope.get("error_code")?.as_i64()? != 0 {
        return None;
    }
    let data = envelope.get("data")?.as_object()?;
    let (mut table, footer) = if let Some(users) = list(data, "users") {
        (records_table(users, USER_COLUMNS), None)
    } else if let Some(keys) = list(data, "matched_keys") {
        keys_table(data, keys)
    } else if let (Some(hsms), Some(in_sync)) = (list(data, "hsms"), data.get("in-sync")) {
        (
            sync_table(hsms),
            Some(format!("in-sync: {}", cell(Some(in_sync)))),
        )
    } else if let Some(hsms) = list(data, "hsms") {
        (hsms_table(hsms), None)
    } else if let Some(tokens) = list(data, "tokens") {
        (records_table(tokens, TOKEN_COLUMNS), None)
    } else {
        return None;
    };
    match width {
        Some(w) => {
            table
                .force_no_tty()
                .set_width(w)
                .load_style(presets::ASCII_FULL_CONDENSED);
        }
        None => {
            table.load_style(presets::UTF8_FULL_CONDENSED);
        }
    }
    table.set_content_arrangement(ContentArrangement::Dynamic);
    // Headers and one-word values (references, serial numbers) never wrap; text wraps between
    // words, or anywhere when the words would not fit the width.
    let names: Vec<String> = table
        .header()
        .map(|h| h.cell_iter().map(|c| c.content()).collect())
        .unwrap_or_default();
    let mut floors = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let cells: Vec<String> = table
            .column_cells_iter(i)
            .map(|c| c.map(|c| c.content()).unwrap_or_default())
            .collect();
        let one_word = cells.iter().all(|c| !c.contains(char::is_whitespace));
        let longest = cells
            .iter()
            .flat_map(|c| c.split_whitespace())
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0);
        floors.push((one_word, name.len(), longest.clamp(name.len(), 40)));
    }
    // Each column adds its padding (2) and a border (1), and the table one more border.
    // On a terminal, its width (a table wider than the terminal would wrap every line).
    let limit = width.or_else(|| table.width());
    let total: usize = 1 + floors.iter().map(|(_, _, f)| f + 3).sum::<usize>();
    let fits = limit.is_none_or(|w| total <= usize::from(w));
    // Too wide: text columns may wrap; if that is still too wide, one-word columns too.
    let unwrapped: usize = 1 + floors
        .iter()
        .map(|(one_word, header, words)| 3 + if *one_word { *words } else { *header })
        .sum::<usize>();
    let words_fit = limit.is_none_or(|w| unwrapped <= usize::from(w));
    for (column, (one_word, header, words)) in table.column_iter_mut().zip(floors) {
        let floor = if fits || (one_word && words_fit) {
            words
        } else {
            header
        };
        let floor = u16::try_from(floor + 2).unwrap_or(u16::MAX);
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(floor)));
    }
    let mut text = table.to_string();
    text.push('\n');
    if let Some(footer) = footer {
        text.push_str(&footer);
        text.push('\n');
    }
    Some(text)
}

/// `data[key]` when it is an array of objects (an empty array included).
fn list<'v>(data: &'v Map<String, Value>, key: &str) -> Option<Vec<&'v Map<String, Value>>> {
    data.get(key)?
        .as_array()?
        .iter()
        .map(Value::as_object)
        .collect()
}

/// A cell: strings bare (control characters escaped, so that a label cannot drive the
/// terminal), `null` empty, anything else as compact JSON.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => printable(s),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| cell(Some(i)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(o)) => {
            strategy(o).unwrap_or_else(|| Value::Object(o.clone()).to_string())
        }
        Some(other) => other.to_string(),
    }
}

/// `s` with its control characters written as escapes (`\u{1b}`, `\t`, ...).
fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `{"strategy": "token-sign", "status": "enabled"}` as `token-sign (enabled)`; a key user
/// `{"username", "key-coverage"}` as the username.
fn strategy(o: &Map<String, Value>) -> Option<String> {
    if let (Some(Value::String(s)), Some(Value::String(st))) = (o.get("strategy"), o.get("status"))
    {
        return Some(format!("{s} ({st})"));
    }
    o.get("username")?.as_str().map(str::to_string)
}

fn header(table: &mut Table, names: &[&str]) {
    table.set_header(names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
}

/// One row per object; columns are `columns`, or when empty the keys of the objects in
/// order of first appearance.
fn records_table(rows: Vec<&Map<String, Value>>, columns: &[&str]) -> Table {
    let mut names: Vec<&str> = columns.to_vec();
    if names.is_empty() {
        for row in &rows {
            for key in row.keys() {
                if !names.contains(&key.as_str()) {
                    names.push(key);
                }
            }
        }
    }
    let mut table = Table::new();
    header(&mut table, &names);
    for row in rows {
        table.add_row(names.iter().map(|n| cell(row.get(*n))).collect::<Vec<_>>());
    }
    table
}

/// A key's size: the bits of an RSA modulus or of a symmetric key, or its curve.
fn size(attrs: &Map<String, Value>) -> String {
    if let Some(bits) = attrs.get("modulus-size-bits") {
        return cell(Some(bits));
    }
    if let Some(curve) = attrs.get("curve").or_else(|| attrs.get("mldsa-algorithm")) {
        return cell(Some(curve));
    }
    match attrs.get("key-length-bytes").and_then(Value::as_u64) {
        Some(bytes) => (bytes * 8).to_string(),
        None => String::new(),
    }
}

/// What a key may be used for: its usage attributes that are true (and `trusted`,
/// `wrap-with-trusted` when set), in the order the key object lists them.
fn usage(attrs: &Map<String, Value>) -> String {
    const USAGE: [&str; 9] = [
        "encrypt",
        "decrypt",
        "sign",
        "verify",
        "wrap",
        "unwrap",
        "derive",
        "trusted",
        "wrap-with-trusted",
    ];
    attrs
        .iter()
        .filter(|(k, v)| USAGE.contains(&k.as_str()) && v.as_bool() == Some(true))
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `key list`: reference and label, and for `--verbose` the type, class, size (bits or
/// curve), usage (the usage attributes that are true), owner and sharees;
/// a footer with the counts and the next page's token.
fn keys_table(
    data: &Map<String, Value>,
    keys: Vec<&Map<String, Value>>,
) -> (Table, Option<String>) {
    let verbose = keys.iter().any(|k| k.contains_key("key-info"));
    let mut table = Table::new();
    let names: &[&str] = if verbose {
        &[
            "key-reference",
            "label",
            "type",
            "class",
            "size",
            "usage",
            "owner",
            "shared",
        ]
    } else {
        &["key-reference", "label"]
    };
    header(&mut table, names);
    for key in keys {
        let attrs = key.get("attributes").and_then(Value::as_object);
        let info = key.get("key-info").and_then(Value::as_object);
        let row = names.iter().map(|n| match *n {
            "key-reference" => cell(key.get(*n)),
            "label" | "class" => cell(attrs.and_then(|a| a.get(*n))),
            "type" => cell(attrs.and_then(|a| a.get("key-type"))),
            "size" => attrs.map(size).unwrap_or_default(),
            "usage" => attrs.map(usage).unwrap_or_default(),
            "owner" => cell(info.and_then(|i| i.get("key-owners"))),
            _ => cell(info.and_then(|i| i.get("shared-users"))),
        });
        table.add_row(row.collect::<Vec<_>>());
    }
    let count = |k: &str| data.get(k).map(|v| cell(Some(v))).unwrap_or_default();
    let mut footer = format!(
        "{} of {} keys",
        count("returned_key_count"),
        count("total_key_count")
    );
    if let Some(token) = data.get("next_token").and_then(Value::as_str) {
        footer.push_str(&format!("; next page: --starting-token {token}"));
    }
    (table, Some(footer))
}

/// `cluster hsm-info`: the columns people compare across HSMs.
fn hsms_table(hsms: Vec<&Map<String, Value>>) -> Table {
    let mut table = Table::new();
    header(
        &mut table,
        &[
            "serial-number",
            "vendor",
            "model",
            "hardware",
            "firmware",
            "fips-state",
        ],
    );
    for h in hsms {
        let get = |k: &str| cell(h.get(k));
        table.add_row(vec![
            get("serial-number"),
            get("vendor"),
            get("model"),
            format!(
                "{}.{}",
                get("hardware-version-major"),
                get("hardware-version-minor")
            ),
            get("firmware-id"),
            get("fips-state"),
        ]);
    }
    table
}

/// `cluster sync-status`: per HSM its state, how many key versions it holds and the start of
/// each version's digest (equal lists mean HSMs in sync).
fn sync_table(hsms: Vec<&Map<String, Value>>) -> Table {
    let mut table = Table::new();
    header(&mut table, &["hsm-id", "state", "keys", "digests"]);
    for h in hsms {
        let digests: Vec<&str> = h
            .get("digests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let short: Vec<&str> = digests.iter().map(|d| d.get(..8).unwrap_or(d)).collect();
        table.add_row(vec![
            cell(h.get("hsm-id")),
            cell(h.get("state")),
            digests.len().to_string(),
            short.join(" "),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn through(value: &Value) -> String {
        let response: crate::output::Response = serde_json::from_value(value.clone()).unwrap();
        let view = crate::output::View {
            format: Format::Table,
            width: Some(FIXED_WIDTH),
        };
        String::from_utf8(response.render(view).unwrap()).unwrap()
    }

    #[test]
    fn other_responses_stay_json_byte_for_byte() {
        for v in [
            json!({"error_code": 0, "data": "Logout successful"}),
            json!({"error_code": 1, "data": "nope"}),
            json!({"error_code": 0, "data": {"username": "a", "role": "admin"}}),
        ] {
            let mut expect = serde_json::to_string_pretty(&v).unwrap();
            expect.push('\n');
            assert_eq!(through(&v), expect);
        }
    }

    #[test]
    fn user_list_is_a_table_of_fixed_width() {
        let v = json!({"error_code": 0, "data": {"users": [
            {"username": "admin", "role": "admin", "locked": "false", "mfa": [],
             "quorum": [{"strategy": "token-sign", "status": "enabled"}],
             "cluster-coverage": "full"}]}});
        let text = through(&v);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("username") && lines[1].contains("cluster-coverage"));
        assert!(text.contains("token-sign (enabled)"), "{text}");
        assert!(lines
            .iter()
            .all(|l| l.chars().count() <= FIXED_WIDTH as usize));
        assert!(
            text.is_ascii(),
            "off a terminal the table is ASCII:\n{text}"
        );
    }

    #[test]
    fn sync_status_is_a_table_with_the_verdict_below() {
        let v = json!({"error_code": 0, "data": {"in-sync": false, "hsms": [
            {"hsm-id": "hsm-aaaaaaaaaaa", "state": "up", "digests": ["0123456789abcdef"]},
            {"hsm-id": "hsm-bbbbbbbbbbb", "state": "down", "digests": []}]}});
        let text = through(&v);
        assert!(
            text.contains("| hsm-aaaaaaaaaaa | up    | 1    | 01234567 "),
            "{text}"
        );
        assert!(text.ends_with("in-sync: false\n"), "{text}");
    }

    #[test]
    fn control_characters_in_labels_are_escaped() {
        let label = "evil\u{1b}]0;pwned\u{7}\tlabel";
        assert_eq!(printable(label), "evil\\u{1b}]0;pwned\\u{7}\\tlabel");
        let v = json!({"error_code": 0, "data": {"matched_keys": [
            {"key-reference": "0x0000000000000030", "attributes": {"label": label}}
        ], "total_key_count": 1, "returned_key_count": 1}});
        let text = render(&v, Some(FIXED_WIDTH)).unwrap_or_default();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("evil"), "{text}");
    }

    #[test]
    fn key_list_has_a_footer_with_the_next_token() {
        let v = json!({"error_code": 0, "data": {
            "matched_keys": [{"key-reference": "0x0000000000000030", "attributes": {"label": "k1"}}],
            "total_key_count": 3, "returned_key_count": 1, "next_token": "1"}});
        let text = through(&v);
        assert!(
            text.contains("0x0000000000000030") && text.contains("k1"),
            "{text}"
        );
        assert!(
            text.ends_with("1 of 3 keys; next page: --starting-token 1\n"),
            "{text}"
        );
    }
}
